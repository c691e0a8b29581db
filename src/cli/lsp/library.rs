//! The standard library as files an editor can open: `std/NAME` is embedded in the binary, so
//! going to its definition opens a read-only copy, written once per content to
//! `$XDG_CACHE_HOME/pcfg/std/HASH/NAME.pcfg` (else `~/.cache/…`, else the temporary directory):
//! mode 0444, through a temporary file and a rename, so that no reader sees half of it and a
//! newer pcfg never edits an older one's copy. The server checks no configuration there.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use crate::resolve::stdlib;
use crate::source::{Origin, SourceFile};

/// The directory every copy is under.
fn root() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .map(|home| home.join(".cache"))
        })
        .unwrap_or_else(std::env::temp_dir);
    cache.join("pcfg").join("std")
}

/// The read-only copy of module `name` (`particleos`), written when missing; `None` when there
/// is no such module or it cannot be written.
pub(super) fn document(name: &str) -> Option<PathBuf> {
    let text = stdlib::module(name)?;
    let hash = crate::digest::sha256_hex(text.as_bytes());
    let dir = root().join(&hash[..16]);
    let path = dir.join(format!("{name}.pcfg"));
    if std::fs::read(&path).is_ok_and(|on_disk| on_disk == text.as_bytes()) {
        return Some(path);
    }
    std::fs::create_dir_all(&dir).ok()?;
    let mut file = tempfile::NamedTempFile::new_in(&dir).ok()?;
    file.write_all(text.as_bytes()).ok()?;
    file.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o444))
        .ok()?;
    file.persist(&path).ok()?;
    Some(path)
}

/// The copy of a loaded source file of the standard library.
pub(super) fn document_of(file: &SourceFile) -> Option<PathBuf> {
    if file.origin != Origin::Std {
        return None;
    }
    document(file.name.strip_prefix(stdlib::PREFIX)?)
}

/// The name a copy's module has among the loaded sources (`std/particleos`), when `path` is one
/// of the copies (never checked as a configuration of its own).
pub(super) fn module_name(path: &Path) -> Option<String> {
    if !path.starts_with(root()) {
        return None;
    }
    let stem = path.file_stem()?.to_str()?;
    Some(format!("{}{stem}", stdlib::PREFIX))
}
