//! `git:REV:PATH` for `pcfg diff`: a revision's files as committed, read from git's object
//! store (`ls-tree`, `cat-file --batch`) into a directory made by `mkdtemp`, so no work tree,
//! attribute (`export-subst`, `export-ignore`) or option-shaped revision changes what is read.
//! The directory is removed when the revision is dropped, and on SIGINT or SIGTERM.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use super::Failure;

/// Directories to remove if pcfg is interrupted.
static TEMPORARY: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes every directory still registered (called by the signal handler).
pub(super) fn remove_all() {
    if let Ok(dirs) = TEMPORARY.lock() {
        for dir in dirs.iter() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A revision's tree, unpacked.
pub(super) struct Revision {
    dir: tempfile::TempDir,
    /// The file named by PATH inside `dir`.
    pub(super) entry: PathBuf,
    /// How files are named to the user: `REV:`.
    pub(super) prefix: String,
    /// The current directory, relative to the repository's top (`git rev-parse --show-prefix`).
    cwd: String,
}

impl Revision {
    /// The directory files are unpacked into.
    pub(super) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Reads `rev`'s whole tree (the repository of the current directory) and locates `path`,
    /// relative to the current directory, in it.
    pub(super) fn open(rev: &str, path: &str) -> Result<Revision, Failure> {
        let mut revision = Revision::tree(rev)?;
        revision.entry = revision.locate(path)?;
        Ok(revision)
    }

    /// `path`, relative to the current directory, in the unpacked tree.
    pub(super) fn locate(&self, path: &str) -> Result<PathBuf, Failure> {
        let inside = within(&self.cwd, path).ok_or_else(|| {
            Failure::usage(format!(
                "`{}{path}` leaves the repository: write a path inside it, relative to the current directory",
                self.prefix
            ))
        })?;
        Ok(self.dir.path().join(inside))
    }

    /// Reads `rev`'s whole tree (the repository of the current directory), once for any number
    /// of files in it (`locate`).
    pub(super) fn tree(rev: &str) -> Result<Revision, Failure> {
        if rev.starts_with('-') {
            return Err(Failure::usage(format!(
                "`{rev}` is not a revision: a revision cannot start with `-`"
            )));
        }
        let commit = git(&[
            "rev-parse",
            "--verify",
            "--end-of-options",
            &format!("{rev}^{{commit}}"),
        ])
        .map_err(|_| Failure::usage(format!("`{rev}` names no commit of this repository")))?;
        let cwd = git(&["rev-parse", "--show-prefix"])?;
        let dir = tempfile::Builder::new()
            .prefix("pcfg-diff-")
            .tempdir()
            .map_err(|e| Failure::Message(format!("cannot make a temporary directory: {e}")))?;
        if let Ok(mut dirs) = TEMPORARY.lock() {
            dirs.push(dir.path().to_path_buf());
        }
        let revision = Revision {
            entry: dir.path().to_path_buf(),
            dir,
            prefix: format!("{rev}:"),
            cwd,
        };
        unpack(&commit, revision.dir())?;
        Ok(revision)
    }
}

impl Drop for Revision {
    fn drop(&mut self) {
        if let Ok(mut dirs) = TEMPORARY.lock() {
            dirs.retain(|d| d != self.dir.path());
        }
    }
}

/// `prefix` + `path`, normalised, if it stays inside the repository.
fn within(prefix: &str, path: &str) -> Option<PathBuf> {
    if Path::new(path).is_absolute() {
        return None;
    }
    let mut parts: Vec<String> = Vec::new();
    for component in Path::new(prefix).join(path).components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            _ => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.iter().collect())
}

/// Runs git in the current directory; its trimmed standard output.
fn git(args: &[&str]) -> Result<String, Failure> {
    let output = Command::new("git")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Failure::Message(format!("cannot run git: {e}")))?;
    if !output.status.success() {
        return Err(Failure::usage(format!(
            "git {}: {}",
            args.first().copied().unwrap_or_default(),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// One entry of `git ls-tree -r -z`.
struct Entry {
    mode: String,
    oid: String,
    path: PathBuf,
}

/// Writes every blob of `commit` under `dir`: regular files with their executable bit,
/// symbolic links as links; submodules are left out.
fn unpack(commit: &str, dir: &Path) -> Result<(), Failure> {
    let top = git(&["rev-parse", "--show-toplevel"])?;
    let listing = Command::new("git")
        .args(["ls-tree", "-r", "-z", "--full-tree", commit])
        .current_dir(&top)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Failure::Message(format!("cannot run git: {e}")))?;
    if !listing.status.success() {
        return Err(Failure::Message(format!(
            "git ls-tree: {}",
            String::from_utf8_lossy(&listing.stderr).trim()
        )));
    }
    let mut entries = Vec::new();
    for record in listing.stdout.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let record = String::from_utf8_lossy(record);
        let Some((meta, path)) = record.split_once('\t') else {
            continue;
        };
        let fields: Vec<&str> = meta.split(' ').collect();
        let [mode, kind, oid] = fields.as_slice() else {
            continue;
        };
        let Some(path) = within("", path) else {
            continue;
        };
        if *kind == "blob" {
            entries.push(Entry {
                mode: (*mode).to_owned(),
                oid: (*oid).to_owned(),
                path,
            });
        }
    }
    let mut batch = Command::new("git")
        .args(["cat-file", "--batch"])
        .current_dir(&top)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Failure::Message(format!("cannot run git: {e}")))?;
    let (Some(mut input), Some(output)) = (batch.stdin.take(), batch.stdout.take()) else {
        return Err(Failure::Message("git cat-file has no pipes".to_owned()));
    };
    let oids: Vec<String> = entries.iter().map(|e| e.oid.clone()).collect();
    let writer = std::thread::spawn(move || {
        for oid in oids {
            if writeln!(input, "{oid}").is_err() {
                break;
            }
        }
    });
    let mut reader = BufReader::new(output);
    for entry in &entries {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        let size: usize = header
            .split_whitespace()
            .nth(2)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Failure::Message(format!("git cat-file: `{}`", header.trim())))?;
        let mut contents = vec![0; size];
        reader.read_exact(&mut contents)?;
        let mut newline = [0u8; 1];
        reader.read_exact(&mut newline)?;
        write_entry(dir, entry, &contents)?;
    }
    let _ = writer.join();
    let _ = batch.wait();
    Ok(())
}

fn write_entry(dir: &Path, entry: &Entry, contents: &[u8]) -> Result<(), Failure> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(&entry.path);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if entry.mode == "120000" {
        let target = String::from_utf8_lossy(contents).into_owned();
        std::os::unix::fs::symlink(target, &path)?;
    } else {
        std::fs::write(&path, contents)?;
        if entry.mode == "100755" {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::within;
    use std::path::PathBuf;

    #[test]
    fn paths_stay_inside_the_revision() {
        assert_eq!(within("sub/", "a.pcfg"), Some(PathBuf::from("sub/a.pcfg")));
        assert_eq!(within("sub/", "../a.pcfg"), Some(PathBuf::from("a.pcfg")));
        assert_eq!(within("", "../x.pcfg"), None);
        assert_eq!(within("sub/", "../../x.pcfg"), None);
        assert_eq!(within("", "/etc/passwd"), None);
    }
}
