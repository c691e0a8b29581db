//! The output directory of `pcfg build`: whether pcfg may replace it, and replacing it
//! atomically. The new tree is written beside it, synced to disk (one `syncfs`), then
//! exchanged with the old one in one `renameat2(RENAME_EXCHANGE)`, so at no instant is there no
//! output directory; a staging directory left by a killed run is removed by the next. Only what
//! changed is written: a file the old tree holds byte for byte, with the permissions pcfg
//! writes, is hard-linked into the new one, and a tree that already holds every file is left
//! alone. The build's products move across.
//!
//! The tree exchanged out is not removed but kept inside the new one ([`PREVIOUS`]), and the
//! next build makes its new tree from it: its directories are reused and its files that are
//! already the right ones stay. Making and removing a directory is the dearest thing a rebuild
//! does (about 35 and 80 µs each on ext4), and a tree from nothing cost one of each per
//! directory.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Write as _};
use std::path::{Component, Path, PathBuf};

use super::Failure;
use crate::emit::File;
use crate::vfs::Vfs as _;

/// The file every output directory has; a directory without it was not written by pcfg.
pub(super) const MARKER: &str = "manifest.json";

/// Where the steps of `build.ninja` put what they make: files there are the build's, not the
/// user's, and do not make a directory foreign.
const PRODUCTS: &[&str] = &[
    ".pcfg/",
    "mkosi/mkosi.output/",
    "mkosi/mkosi.cache/",
    "publish/",
];

/// Where the tree a build replaced is kept, inside the new one (among the build's products, so
/// it never makes the directory foreign), for the next build to make its new tree from.
const PREVIOUS: &str = ".pcfg/previous";

/// Whether `path` is a directory itself, not a link to one.
fn real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// Whether `relative` (a path below the output directory) lies in one of the build's product
/// directories.
pub(super) fn is_product(relative: &str) -> bool {
    PRODUCTS.iter().any(|p| relative.starts_with(p))
}

/// A file at a path of the new tree: which file it is (device and inode), and whether it can
/// be kept as it is.
#[derive(Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

/// A regular file a recycled tree holds at a path of the new tree.
struct Found {
    id: FileId,
    /// Other names of the same file: then it is also another tree's, and is never kept as a
    /// file of its own.
    links: u64,
}

/// The permission bits of a file pcfg writes: `0755` for a script, what the umask leaves of
/// `0666` otherwise. A file kept from an old tree must have exactly these: a setuid bit or a
/// write bit for others that someone added is not what the build writes.
fn written_mode(executable: bool) -> u32 {
    static UMASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    if executable {
        return 0o755;
    }
    // Read, not set and restored (`umask(2)` would change it for every thread meanwhile).
    let umask = *UMASK.get_or_init(|| {
        fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix("Umask:"))
                    .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
            })
            .unwrap_or(0o022)
    });
    0o666 & !umask
}

/// Writes `files` as the whole content of `dir`, atomically: into a new directory beside it,
/// which takes the place of `dir` only when every file is written and synced. `before_each`
/// runs before each file is written (tests inject failures with it). On error, `dir` is as it
/// was. A `dir` that is a symbolic link is written through: its target is replaced.
///
/// Returns how many files were written; the others were already there.
///
/// # Errors
/// When a file cannot be written, or `dir` exists and is not provably pcfg's output.
pub fn write_tree(
    dir: &Path,
    files: &[File],
    before_each: &mut dyn FnMut(&Path) -> io::Result<()>,
) -> Result<usize, Failure> {
    let dir = &through_link(dir)?;
    if let Some(reason) = foreign(dir) {
        return Err(Failure::usage(format!(
            "`{}` {reason}: pcfg replaces only a directory it wrote; choose another directory, or remove it",
            dir.display()
        )));
    }
    let name = dir
        .file_name()
        .map_or_else(|| "out".to_owned(), |n| n.to_string_lossy().into_owned());
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| io_failure(&parent, &e))?;
    remove_stale(&parent, &name);
    // What the old tree already holds, byte for byte: such a file is linked into the new tree,
    // not written again, so it keeps its time stamp (ninja rebuilds nothing for it) and costs
    // no write or sync. When every file is unchanged (the manifest lists them all), the tree is
    // already what the build would write and nothing is touched.
    let old = real_dir(dir).then_some(dir.as_path());
    let held: Vec<Option<FileId>> = files
        .iter()
        .map(|f| old.and_then(|old| holds(old, f)))
        .collect();
    let changed = held.iter().filter(|h| h.is_none()).count();
    if old.is_some() && changed == 0 {
        return Ok(0);
    }
    let staging = parent.join(format!(".{name}.pcfg-new-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    let recycled = old.is_some_and(|old| recycle(old, &staging));
    let written = write_all(&staging, files, &held, old, recycled, before_each);
    // The build's products (images, ninja's log) move into the new tree, so that ninja
    // decides what to remake; moved back if the exchange fails.
    let moved = written.and_then(|()| move_products(dir, &staging));
    let moved = match moved {
        Ok(moved) => moved,
        Err(failure) => {
            // A recycled tree goes back where it was, as the next build's.
            if recycled {
                keep_previous(&staging, dir);
            } else {
                let _ = fs::remove_dir_all(&staging);
            }
            return Err(failure);
        }
    };
    let swapped = swap(&staging, dir, &parent);
    if swapped.is_err() {
        for product in &moved {
            let _ = fs::rename(staging.join(product), dir.join(product));
        }
    }
    // After an exchange the old tree is at `staging`: kept for the next build. A new tree that
    // took no place is removed.
    if swapped.is_ok() && old.is_some() {
        keep_previous(&staging, dir);
    } else {
        let _ = fs::remove_dir_all(&staging);
    }
    swapped.map(|()| changed)
}

/// Makes `old`'s [`PREVIOUS`] the staging directory; whether there was one to take (a
/// directory, reached through no link).
fn recycle(old: &Path, staging: &Path) -> bool {
    let previous = old.join(PREVIOUS);
    if !previous.parent().is_some_and(real_dir) || !real_dir(&previous) {
        return false;
    }
    if fs::rename(&previous, staging).is_err() {
        return false;
    }
    if real_dir(staging) {
        return true;
    }
    // Replaced by something else between the look and the move: not a tree to write into.
    let _ = fs::remove_file(staging);
    false
}

/// Keeps `tree` (the tree the exchange took out, or a recycled one a failed build leaves) as
/// `dir`'s [`PREVIOUS`]; removes it where it cannot be kept.
fn keep_previous(tree: &Path, dir: &Path) {
    let previous = dir.join(PREVIOUS);
    // Something else of that name (a file, a link) is not a tree: it goes, never followed.
    if fs::symlink_metadata(&previous).is_ok_and(|m| !m.is_dir()) {
        let _ = fs::remove_file(&previous);
    }
    let kept = previous.parent().is_some_and(|products| {
        let _ = fs::create_dir(products);
        real_dir(products)
    }) && fs::symlink_metadata(&previous).is_err()
        && fs::rename(tree, &previous).is_ok();
    if !kept {
        let _ = fs::remove_dir_all(tree);
    }
}

/// Which file of `old` is `file` already, if one is: a regular file (not a link) with its
/// bytes and the permission bits pcfg writes ([`written_mode`]). One open, its `fstat` and one
/// read.
fn holds(old: &Path, file: &File) -> Option<FileId> {
    use std::io::Read as _;
    use std::os::unix::fs::MetadataExt as _;
    let relative = safe_relative(&file.path).ok()?;
    let (opened, meta) = crate::vfs::open_regular_nofollow(&old.join(relative)).ok()?;
    let len = file.contents.len();
    if meta.len() != len as u64 || meta.mode() & 0o7777 != written_mode(file.executable()) {
        return None;
    }
    // A byte more than expected, to see a file that grew since the `fstat`.
    let mut bytes = Vec::with_capacity(len + 1);
    opened.take(len as u64 + 1).read_to_end(&mut bytes).ok()?;
    (bytes == file.contents.as_bytes()).then_some(FileId {
        dev: meta.dev(),
        ino: meta.ino(),
    })
}

/// Moves the build products of `old` (those of [`PRODUCTS`] that exist) to the same places
/// below `new`; on failure, moves back what it moved. Returns what it moved.
fn move_products(old: &Path, new: &Path) -> Result<Vec<PathBuf>, Failure> {
    let mut moved = Vec::new();
    for product in PRODUCTS {
        let relative = PathBuf::from(product.trim_end_matches('/'));
        let from = old.join(&relative);
        if !real_dir(&from) {
            continue;
        }
        let to = new.join(&relative);
        let result = to
            .parent()
            .map_or(Ok(()), fs::create_dir_all)
            .and_then(|()| fs::rename(&from, &to));
        if let Err(err) = result {
            for done in &moved {
                let _ = fs::rename(new.join(done), old.join(done));
            }
            return Err(io_failure(&from, &err));
        }
        moved.push(relative);
    }
    Ok(moved)
}

/// `path` itself, or the directory a symbolic link at `path` points to. A link to nothing, or
/// to something other than a directory, is refused.
fn through_link(path: &Path) -> Result<PathBuf, Failure> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => match fs::canonicalize(path) {
            Ok(target) if target.is_dir() => Ok(target),
            _ => Err(Failure::usage(format!(
                "`{}` is a symbolic link to no directory: point it at a directory, or choose another output",
                path.display()
            ))),
        },
        _ => Ok(path.to_path_buf()),
    }
}

/// Why `dir` is not pcfg's to replace, if it is not: not a directory, no manifest, a manifest
/// that is not pcfg's, or a file that neither the manifest lists nor the build made.
fn foreign(dir: &Path) -> Option<String> {
    let meta = fs::symlink_metadata(dir).ok()?;
    if !meta.is_dir() {
        return Some("exists and is not a directory".to_owned());
    }
    if fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none()) {
        return None;
    }
    let listed = match manifest_paths(dir) {
        Ok(listed) => listed,
        Err(reason) => return Some(reason),
    };
    for entry in output_walk(dir) {
        let Ok(entry) = entry else {
            return Some("cannot be read whole".to_owned());
        };
        if entry.file_type().is_dir() {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(dir) else {
            continue;
        };
        let relative = relative.to_string_lossy();
        let ours = relative == MARKER
            || listed.binary_search(&relative.to_string()).is_ok()
            || is_product(&relative);
        if !ours {
            return Some(format!(
                "holds `{}`, which pcfg did not write",
                crate::diag::excerpt(&relative, 200)
            ));
        }
    }
    None
}

/// Every entry below the output directory `dir` in name order, but what the build's steps make
/// there: a product directory is not walked (a cache of thousands of files is the build's, and
/// so is the tree the last build replaced).
pub(super) fn output_walk(
    dir: &Path,
) -> impl Iterator<Item = walkdir::Result<walkdir::DirEntry>> + '_ {
    walkdir::WalkDir::new(dir)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(move |e| {
            !(e.file_type().is_dir()
                && e.path()
                    .strip_prefix(dir)
                    .is_ok_and(|relative| is_product(&format!("{}/", relative.to_string_lossy()))))
        })
}

/// The files a pcfg manifest lists, sorted; why it is not one, otherwise.
fn manifest_paths(dir: &Path) -> Result<Vec<String>, String> {
    let bytes = crate::vfs::RealFs
        .read(&dir.join(MARKER))
        .map_err(|_| format!("has no readable {MARKER}"))?;
    let json: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| format!("has a {MARKER} that is not JSON"))?;
    let files = json
        .get("files")
        .and_then(serde_json::Value::as_array)
        .filter(|_| json.get("version").is_some_and(serde_json::Value::is_u64))
        .ok_or_else(|| format!("has a {MARKER} that is not pcfg's"))?;
    let mut paths: Vec<String> = files
        .iter()
        .filter_map(|f| f.get("path").and_then(serde_json::Value::as_str))
        .map(str::to_owned)
        .collect();
    paths.sort();
    Ok(paths)
}

/// Removes the staging directories of runs that no longer exist (killed before they finished).
fn remove_stale(parent: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        let pid = file_name
            .strip_prefix(&format!(".{name}.pcfg-new-"))
            .or_else(|| file_name.strip_prefix(&format!(".{name}.pcfg-old-")));
        let Some(pid) = pid.and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Writes `files` below `staging`. A file `held` by `old` becomes a hard link to that file
/// (written when the link cannot be made, e.g. across file systems). A `recycled` staging
/// directory (the tree of the build before) keeps what is already right: its directories on
/// the way to the new files, a file that is already the old tree's, and a file of its own with
/// the new bytes. Everything else in it is removed, and a file is never written in place (it
/// may be the old tree's too): a new one replaces it.
fn write_all(
    staging: &Path,
    files: &[File],
    held: &[Option<FileId>],
    old: Option<&Path>,
    recycled: bool,
    before_each: &mut dyn FnMut(&Path) -> io::Result<()>,
) -> Result<(), Failure> {
    // The directories there so far: a set, so a tree of many directories costs one lookup per
    // file, not a scan of the directories.
    let mut dirs: HashSet<PathBuf> = HashSet::from([staging.to_path_buf()]);
    let mut found = if recycled {
        survey(staging, files, &mut dirs)?
    } else {
        fs::create_dir_all(staging).map_err(|e| io_failure(staging, &e))?;
        HashMap::new()
    };
    for (file, held) in files.iter().zip(held) {
        let relative = safe_relative(&file.path)?;
        let path = staging.join(relative);
        before_each(&path).map_err(|e| io_failure(&path, &e))?;
        make_parents(&path, &mut dirs)?;
        if let Some(there) = found.remove(relative) {
            let keep = match held {
                Some(id) => there.id == *id,
                None => there.links == 1 && holds(staging, file).is_some(),
            };
            if keep {
                continue;
            }
            fs::remove_file(&path).map_err(|e| io_failure(&path, &e))?;
        }
        let linked = held.is_some()
            && old.is_some_and(|old| fs::hard_link(old.join(relative), &path).is_ok());
        if linked {
            continue;
        }
        // A new file, never one that is there: that may be a name of another tree's file.
        let mut out = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| io_failure(&path, &e))?;
        if file.executable() {
            use std::os::unix::fs::PermissionsExt;
            out.set_permissions(fs::Permissions::from_mode(0o755))
                .map_err(|e| io_failure(&path, &e))?;
        }
        out.write_all(file.contents.as_bytes())
            .map_err(|e| io_failure(&path, &e))?;
    }
    // One sync of the file system for every file and directory written: a tree of thousands
    // of directories would otherwise cost one fsync each (10,000 directories took 30 s).
    fs::File::open(staging)
        .and_then(|d| rustix::fs::syncfs(&d).map_err(io::Error::from))
        .map_err(|e| io_failure(staging, &e))
}

/// What the recycled tree at `staging` holds that the new tree can keep: the regular files at
/// the paths of `files` (by path below `staging`), and the directories on the way to them (added
/// to `dirs`). Everything else is removed: other files and directories, and links, which are
/// never followed.
fn survey(
    staging: &Path,
    files: &[File],
    dirs: &mut HashSet<PathBuf>,
) -> Result<HashMap<PathBuf, Found>, Failure> {
    use std::os::unix::fs::MetadataExt as _;
    let wanted: HashSet<&Path> = files.iter().map(|f| Path::new(&f.path)).collect();
    let on_the_way: HashSet<&Path> = wanted
        .iter()
        .flat_map(|p| p.ancestors().skip(1))
        .filter(|a| !a.as_os_str().is_empty())
        .collect();
    let mut found = HashMap::new();
    let mut unwanted = Vec::new();
    let mut walk = walkdir::WalkDir::new(staging).min_depth(1).into_iter();
    while let Some(entry) = walk.next() {
        let entry = entry.map_err(|e| io_failure(staging, &io::Error::from(e)))?;
        let Ok(relative) = entry.path().strip_prefix(staging) else {
            continue;
        };
        let kind = entry.file_type();
        if kind.is_dir() && on_the_way.contains(relative) {
            dirs.insert(entry.path().to_path_buf());
        } else if kind.is_file() && wanted.contains(relative) {
            let meta = entry
                .metadata()
                .map_err(|e| io_failure(entry.path(), &io::Error::from(e)))?;
            let id = FileId {
                dev: meta.dev(),
                ino: meta.ino(),
            };
            let links = meta.nlink();
            found.insert(relative.to_path_buf(), Found { id, links });
        } else {
            if kind.is_dir() {
                walk.skip_current_dir();
            }
            unwanted.push((entry.into_path(), kind.is_dir()));
        }
    }
    for (path, is_dir) in unwanted {
        let removed = if is_dir {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        removed.map_err(|e| io_failure(&path, &e))?;
    }
    Ok(found)
}

/// Makes the directories missing on the way to `path`, from the top down: `create_dir_all`
/// would try the deepest first and fail its way up. `dirs` holds those that are there.
fn make_parents(path: &Path, dirs: &mut HashSet<PathBuf>) -> Result<(), Failure> {
    let mut missing = Vec::new();
    let mut ancestor = path.parent();
    while let Some(dir) = ancestor.filter(|d| !dirs.contains(*d)) {
        missing.push(dir);
        ancestor = dir.parent();
    }
    for dir in missing.into_iter().rev() {
        fs::create_dir(dir).map_err(|e| io_failure(dir, &e))?;
        dirs.insert(dir.to_path_buf());
    }
    Ok(())
}

/// An emitted file's path, which must stay inside the output directory.
fn safe_relative(path: &str) -> Result<&Path, Failure> {
    let relative = Path::new(path);
    if relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        Ok(relative)
    } else {
        Err(Failure::Message(format!(
            "refusing to write `{path}`: it leaves the output directory"
        )))
    }
}

fn sync_dir(dir: &Path) -> Result<(), Failure> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_failure(dir, &e))
}

/// Puts `staging` in the place of `dir`: a plain rename when there is no `dir`, else one atomic
/// exchange (the old tree is then at `staging`, for the caller to remove). Where the file
/// system cannot exchange, the old tree is renamed away first and put back on failure.
fn swap(staging: &Path, dir: &Path, parent: &Path) -> Result<(), Failure> {
    if fs::symlink_metadata(dir).is_err() {
        fs::rename(staging, dir).map_err(|e| io_failure(dir, &e))?;
        return sync_dir(parent);
    }
    let exchanged = rustix::fs::renameat_with(
        rustix::fs::CWD,
        staging,
        rustix::fs::CWD,
        dir,
        rustix::fs::RenameFlags::EXCHANGE,
    );
    match exchanged {
        Ok(()) => sync_dir(parent),
        Err(err) if err == rustix::io::Errno::INVAL || err == rustix::io::Errno::NOSYS => {
            let old = staging.with_file_name(
                staging
                    .file_name()
                    .map(|n| n.to_string_lossy().replace(".pcfg-new-", ".pcfg-old-"))
                    .unwrap_or_default(),
            );
            fs::rename(dir, &old).map_err(|e| io_failure(dir, &e))?;
            if let Err(e) = fs::rename(staging, dir) {
                let _ = fs::rename(&old, dir);
                return Err(io_failure(dir, &e));
            }
            let _ = fs::rename(&old, staging);
            sync_dir(parent)
        }
        Err(err) => Err(io_failure(dir, &io::Error::from(err))),
    }
}

fn io_failure(path: &Path, err: &io::Error) -> Failure {
    Failure::Message(format!("cannot write `{}`: {err}", path.display()))
}
