//! The files an editor has open, over the disk: an open buffer is what pcfg reads, saved or
//! not, and every other read goes to the disk as `pcfg check` does — once per version of the
//! file: a source read before is read again only when its size or modification time changed,
//! so a keystroke re-reads none of the files it imports.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use crate::vfs::{normalize, RealFs, TreeEntry, Vfs, VfsError};

/// Open buffers by normalized absolute path, and the source files read from disk.
#[derive(Debug, Default)]
pub(super) struct Overlay {
    open: HashMap<PathBuf, String>,
    read: Mutex<HashMap<PathBuf, Cached>>,
}

/// A source file as read, with what identified that version of it.
#[derive(Debug)]
struct Cached {
    modified: SystemTime,
    len: u64,
    bytes: Vec<u8>,
}

impl Overlay {
    pub(super) fn set(&mut self, path: &Path, text: String) {
        self.open.insert(normalize(path), text);
    }

    pub(super) fn close(&mut self, path: &Path) {
        self.open.remove(&normalize(path));
    }

    pub(super) fn text(&self, path: &Path) -> Option<&str> {
        self.open.get(&normalize(path)).map(String::as_str)
    }

    /// The open paths, sorted (the order diagnostics are published in).
    pub(super) fn paths(&self) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = self.open.keys().cloned().collect();
        paths.sort();
        paths
    }
}

impl Vfs for Overlay {
    fn read(&self, path: &Path) -> Result<Vec<u8>, VfsError> {
        let key = normalize(path);
        if let Some(text) = self.open.get(&key) {
            return Ok(text.as_bytes().to_vec());
        }
        let version = std::fs::metadata(path)
            .ok()
            .filter(std::fs::Metadata::is_file)
            .and_then(|m| Some((m.modified().ok()?, m.len())));
        let Some((modified, len)) = version else {
            return RealFs.read(path);
        };
        let mut cache = self
            .read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(cached) = cache.get(&key) {
            if cached.modified == modified && cached.len == len {
                return Ok(cached.bytes.clone());
            }
        }
        let bytes = RealFs.read(path)?;
        cache.insert(
            key,
            Cached {
                modified,
                len,
                bytes: bytes.clone(),
            },
        );
        Ok(bytes)
    }

    fn identity(&self, path: &Path) -> PathBuf {
        RealFs.identity(path)
    }

    fn import_dir(&self, file: &Path) -> PathBuf {
        RealFs.import_dir(file)
    }

    fn list_dir(&self, path: &Path) -> Vec<String> {
        RealFs.list_dir(path)
    }

    fn tree_digest(&self, dir: &Path) -> Option<String> {
        RealFs.tree_digest(dir)
    }

    fn walk(&self, dir: &Path) -> Result<Vec<TreeEntry>, String> {
        RealFs.walk(dir)
    }

    fn read_prefix(&self, path: &Path, len: usize) -> Option<Vec<u8>> {
        RealFs.read_prefix(path, len)
    }

    fn read_range(&self, path: &Path, offset: u64, len: usize) -> Option<Vec<u8>> {
        RealFs.read_range(path, offset, len)
    }

    fn sha256(&self, path: &Path) -> Result<[u8; 32], VfsError> {
        RealFs.sha256(path)
    }

    fn same_content(&self, a: &Path, b: &Path) -> Result<bool, VfsError> {
        RealFs.same_content(a, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_buffer_wins_and_a_changed_file_is_read_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.pcfg");
        std::fs::write(&file, "one").expect("write");
        let mut overlay = Overlay::default();
        let read = |o: &Overlay| String::from_utf8(o.read(&file).expect("reads")).expect("text");
        assert_eq!(read(&overlay), "one");
        assert_eq!(read(&overlay), "one", "from the cache");
        std::fs::write(&file, "three").expect("write");
        assert_eq!(read(&overlay), "three", "a new version is read again");
        overlay.set(&file, "unsaved".to_owned());
        assert_eq!(read(&overlay), "unsaved");
        overlay.close(&file);
        assert_eq!(read(&overlay), "three");
        assert!(overlay.read(&dir.path().join("missing.pcfg")).is_err());
    }
}
