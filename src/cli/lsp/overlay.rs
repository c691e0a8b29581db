//! The files an editor has open, over the disk: an open buffer is what pcfg reads, saved or
//! not, and every other read goes to the disk as `pcfg check` does.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::vfs::{normalize, RealFs, TreeEntry, Vfs, VfsError};

/// Open buffers by normalized absolute path.
#[derive(Debug, Default)]
pub(super) struct Overlay {
    open: HashMap<PathBuf, String>,
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
        match self.open.get(&normalize(path)) {
            Some(text) => Ok(text.as_bytes().to_vec()),
            None => RealFs.read(path),
        }
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
