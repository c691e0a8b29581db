//! Replacing one file atomically, as `pcfg fmt` and `pcfg lock` do: a symbolic link is
//! followed to the file it names; the new text goes to a temporary file created with `O_EXCL`
//! in that file's directory (so a planted link cannot redirect the write), takes the old file's
//! owner and mode, is synced, and is renamed over the file.

use std::io::Write as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use super::Failure;

/// Replaces `path` (or the file a link at `path` names) with `bytes`.
pub(super) fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let fail = |e: &dyn std::fmt::Display| {
        Failure::Message(format!("cannot write `{}`: {e}", path.display()))
    };
    let target = through_links(path).map_err(|e| fail(&e))?;
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let old = std::fs::metadata(&target).ok();
    let mut temporary = tempfile::Builder::new()
        .prefix(".pcfg-")
        .tempfile_in(&dir)
        .map_err(|e| fail(&e))?;
    temporary.write_all(bytes).map_err(|e| fail(&e))?;
    if let Some(old) = &old {
        let file = temporary.as_file();
        // Ownership can only be kept by root (or the owner, for the group); where it cannot,
        // the file is the writer's, as any editor leaves it.
        let _ = std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid()));
        file.set_permissions(old.permissions())
            .map_err(|e| fail(&e))?;
    }
    temporary.as_file().sync_all().map_err(|e| fail(&e))?;
    temporary.persist(&target).map_err(|e| fail(&e.error))?;
    Ok(())
}

/// The file a chain of symbolic links at `path` ends at (which may not exist yet).
fn through_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(parent) if target.is_relative() => parent.join(target),
                    _ => target,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}
