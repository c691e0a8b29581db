//! `pcfg build FILE -o DIR`: compile, emit, and write the tree atomically — into a directory
//! beside DIR, renamed into place only when every file is written. `--check` compares instead.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::args::BuildArgs;
use super::eval::resolved_or_report;
use super::output::Output;
use super::{Failure, EXIT_INPUT, EXIT_OK};
use crate::compile;
use crate::emit::{self, File, Source};
use crate::vfs::{RealFs, Vfs as _, VfsError};

/// The file every output directory has; a directory without it was not written by pcfg.
const MARKER: &str = "manifest.json";

pub(super) fn run(args: &BuildArgs, output: &Output, out: &mut dyn Write) -> Result<u8, Failure> {
    let compilation = {
        let bar = super::progress::Bar::new(output);
        compile::check_with(&RealFs, &args.file, &bar)?
    };
    if resolved_or_report(&compilation, output, out)?.is_none() {
        return Ok(EXIT_INPUT);
    }
    let Some(model) = &compilation.model else {
        return Ok(EXIT_INPUT);
    };
    let entry_name = super::entry_name(&args.file);
    let entry_dir = args.file.parent().unwrap_or(Path::new(""));
    let entry_from_output = entry_from_output(entry_dir, &args.output)?;
    let lock = super::lock::lock_digest(&args.file);
    let source = Source {
        entry_from_output: &entry_from_output,
        lock: lock.as_deref(),
        ..super::entry_source(&args.file, &entry_name)
    };
    let inputs = crate::plan::Inputs::read(model, &RealFs, entry_dir);
    let files = emit::emit(model, &compilation.sources, &source, &inputs)?;
    if args.check {
        let differences = differences(&args.output, &files)?;
        for difference in &differences {
            writeln!(out, "{difference}")?;
        }
        if differences.is_empty() {
            writeln!(
                out,
                "{} is up to date ({} files)",
                args.output.display(),
                files.len()
            )?;
            return Ok(EXIT_OK);
        }
        writeln!(
            out,
            "{} differs from what pcfg would write: run `pcfg build {} -o {}`",
            args.output.display(),
            args.file.display(),
            args.output.display()
        )?;
        return Ok(EXIT_INPUT);
    }
    write_tree(&args.output, &files, &mut |_| Ok(()))?;
    writeln!(
        out,
        "wrote {} files to {}",
        files.len(),
        args.output.display()
    )?;
    Ok(EXIT_OK)
}

/// The entry file's directory as seen from the output directory, from where they are on disk
/// (not from how they were named), so the result is the same from any working directory.
fn entry_from_output(entry_dir: &Path, output: &Path) -> Result<PathBuf, Failure> {
    let absolute = |p: &Path| -> Result<PathBuf, Failure> {
        let base = if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        };
        fs::canonicalize(base)
            .map_err(|e| Failure::Message(format!("cannot resolve `{}`: {e}", base.display())))
    };
    let entry = absolute(entry_dir)?;
    let parent = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| io_failure(parent, &e))?;
    let output = absolute(parent)?.join(output.file_name().unwrap_or_default());
    Ok(Source::relative(&entry, &output))
}

/// What differs between `dir` and `files`: `missing PATH`, `differs PATH`, `extra PATH`.
fn differences(dir: &Path, files: &[File]) -> Result<Vec<String>, Failure> {
    let mut found = Vec::new();
    for file in files {
        // Bounded, regular files only: a FIFO or a link to a device is a difference, not a hang.
        match crate::vfs::RealFs.read(&dir.join(&file.path)) {
            Ok(bytes) if bytes == file.contents.as_bytes() => {}
            Err(VfsError::NotFound) => found.push(format!("missing {}", file.path)),
            Ok(_) | Err(VfsError::TooLarge { .. } | VfsError::IsADirectory) => {
                found.push(format!("differs {}", file.path));
            }
            Err(VfsError::Io(err)) => {
                return Err(Failure::Message(format!(
                    "cannot read `{}`: {err}",
                    dir.join(&file.path).display()
                )))
            }
        }
    }
    if dir.is_dir() {
        let mut extra: Vec<String> = walkdir::WalkDir::new(dir)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter_map(|e| {
                e.path()
                    .strip_prefix(dir)
                    .ok()
                    .map(|p| p.to_string_lossy().into_owned())
            })
            .filter(|p| !files.iter().any(|f| &f.path == p))
            .map(|p| format!("extra {p}"))
            .collect();
        found.append(&mut extra);
    }
    Ok(found)
}

/// Writes `files` as the whole content of `dir`, atomically: into a new directory beside it,
/// which replaces `dir` only when every file is written. `before_each` runs before each file is
/// written (tests inject failures with it). On error, `dir` is as it was.
///
/// # Errors
/// When a file cannot be written, or `dir` exists and was not written by pcfg.
pub fn write_tree(
    dir: &Path,
    files: &[File],
    before_each: &mut dyn FnMut(&Path) -> io::Result<()>,
) -> Result<(), Failure> {
    if dir.exists() && !is_pcfg_output(dir) {
        return Err(Failure::usage(format!(
            "`{}` exists and was not written by pcfg (it has no {MARKER}): choose another directory, or remove it",
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
    let staging = parent.join(format!(".{name}.pcfg-new-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    let written = write_all(&staging, files, before_each);
    if let Err(failure) = written {
        let _ = fs::remove_dir_all(&staging);
        return Err(failure);
    }
    let swapped = swap(&staging, dir, &parent, &name);
    if swapped.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    swapped
}

fn write_all(
    staging: &Path,
    files: &[File],
    before_each: &mut dyn FnMut(&Path) -> io::Result<()>,
) -> Result<(), Failure> {
    fs::create_dir_all(staging).map_err(|e| io_failure(staging, &e))?;
    for file in files {
        let path = staging.join(&file.path);
        before_each(&path).map_err(|e| io_failure(&path, &e))?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| io_failure(parent, &e))?;
        }
        fs::write(&path, &file.contents).map_err(|e| io_failure(&path, &e))?;
    }
    Ok(())
}

/// Puts `staging` in the place of `dir`; the old `dir`, if any, is removed only after.
fn swap(staging: &Path, dir: &Path, parent: &Path, name: &str) -> Result<(), Failure> {
    if !dir.exists() {
        return fs::rename(staging, dir).map_err(|e| io_failure(dir, &e));
    }
    let old = parent.join(format!(".{name}.pcfg-old-{}", std::process::id()));
    let _ = fs::remove_dir_all(&old);
    fs::rename(dir, &old).map_err(|e| io_failure(dir, &e))?;
    if let Err(err) = fs::rename(staging, dir) {
        let _ = fs::rename(&old, dir);
        return Err(io_failure(dir, &err));
    }
    let _ = fs::remove_dir_all(&old);
    Ok(())
}

fn is_pcfg_output(dir: &Path) -> bool {
    dir.join(MARKER).is_file()
        || fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none())
}

fn io_failure(path: &Path, err: &io::Error) -> Failure {
    Failure::Message(format!("cannot write `{}`: {err}", path.display()))
}
