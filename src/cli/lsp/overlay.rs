//! The files an editor has open, over the disk: an open buffer is what pcfg reads, saved or
//! not, and every other read goes to the disk as `pcfg check` does — once per version of the
//! file: a source read before is read again only when its size or modification time changed,
//! so a keystroke re-reads none of the files it imports. Extension trees are walked once and
//! kept until a file is saved or the editor reports files changed on disk
//! (`workspace/didChangeWatchedFiles`): a keystroke in the configuration does not change them,
//! and walking thousands of them was most of a keystroke's time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use std::sync::Arc;

use crate::source::FileId;
use crate::syntax::{ast, SyntaxError};
use crate::vfs::{normalize, RealFs, TreeEntry, Vfs, VfsError};

/// Open buffers by normalized absolute path, and the source files read from disk.
#[derive(Debug, Default)]
pub(super) struct Overlay {
    open: HashMap<PathBuf, String>,
    read: Mutex<HashMap<PathBuf, Cached>>,
    /// Each tree walked since the last save, by its directory.
    trees: Mutex<HashMap<PathBuf, Result<Vec<TreeEntry>, String>>>,
    /// The syntax trees of the last check, by file number and content: a keystroke parses
    /// only the file it changed.
    parsed: Mutex<HashMap<(FileId, u128), Parsed>>,
    /// The first bytes of tree files read since the last save (what tells look-alike files
    /// apart), up to [`PREFIXES_KEPT`] bytes in all.
    prefixes: Mutex<Prefixes>,
}

#[derive(Debug)]
struct Parsed {
    tree: (Arc<ast::File>, Option<SyntaxError>),
    /// Used by the check under way (the others go when it ends).
    used: bool,
}

/// How many bytes of file prefixes are kept: the first 4 KiB of 4,096 files.
const PREFIXES_KEPT: usize = 16 << 20;

#[derive(Debug, Default)]
struct Prefixes {
    bytes: usize,
    read: HashMap<(PathBuf, usize), Option<Vec<u8>>>,
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

    /// Forgets the syntax trees the last check did not use.
    pub(super) fn sweep_parsed(&self) {
        let mut parsed = locked(&self.parsed);
        parsed.retain(|_, p| std::mem::replace(&mut p.used, false));
    }

    /// Forgets the trees walked: the next check walks them again.
    pub(super) fn forget_trees(&self) {
        locked(&self.trees).clear();
        *locked(&self.prefixes) = Prefixes::default();
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
        let mut cache = locked(&self.read);
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

    fn parse(&self, file: FileId, text: &str) -> (Arc<ast::File>, Option<SyntaxError>) {
        let key = (file, xxhash_rust::xxh3::xxh3_128(text.as_bytes()));
        if let Some(kept) = locked(&self.parsed).get_mut(&key) {
            kept.used = true;
            return kept.tree.clone();
        }
        let (tree, error) = crate::syntax::parse_prefix(file, text);
        let tree = (Arc::new(tree), error);
        locked(&self.parsed).insert(
            key,
            Parsed {
                tree: tree.clone(),
                used: true,
            },
        );
        tree
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
        let key = normalize(dir);
        if let Some(walked) = locked(&self.trees).get(&key) {
            return walked.clone();
        }
        // Walked unlocked: the analysis walks its trees in parallel.
        let walked = RealFs.walk(dir);
        locked(&self.trees).insert(key, walked.clone());
        walked
    }

    fn read_prefix(&self, path: &Path, len: usize) -> Option<Vec<u8>> {
        let key = (path.to_path_buf(), len);
        if let Some(read) = locked(&self.prefixes).read.get(&key) {
            return read.clone();
        }
        let read = RealFs.read_prefix(path, len);
        let mut kept = locked(&self.prefixes);
        let size = read.as_ref().map_or(0, Vec::len);
        if kept.bytes + size <= PREFIXES_KEPT {
            kept.bytes += size;
            kept.read.insert(key, read.clone());
        }
        read
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

    fn executable(&self, path: &Path) -> Result<bool, VfsError> {
        RealFs.executable(path)
    }
}

/// A cache's lock. A thread that panicked while holding it left a cache that is still whole
/// (each is updated by one insert), so a poisoned lock is taken as it is.
fn locked<T>(cache: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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

    #[test]
    fn a_file_is_parsed_again_only_when_its_text_changed() {
        let overlay = Overlay::default();
        let (file, text) = (FileId::FIRST, "system { name = \"a\" }\n");
        let first = overlay.parse(file, text).0;
        assert!(Arc::ptr_eq(&first, &overlay.parse(file, text).0), "kept");
        let other = overlay.parse(file, "system { name = \"b\" }\n").0;
        assert!(!Arc::ptr_eq(&first, &other));
        // Another number is another file: its spans differ.
        assert!(!Arc::ptr_eq(&first, &overlay.parse(FileId::new(1), text).0));
        overlay.sweep_parsed();
        overlay.parse(file, text);
        overlay.sweep_parsed();
        assert_eq!(
            overlay.parsed.lock().map_or(0, |p| p.len()),
            1,
            "unused trees go"
        );
    }

    #[test]
    fn trees_are_walked_again_after_a_save() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a"), "a").expect("write");
        let overlay = Overlay::default();
        let names = |o: &Overlay| o.walk(dir.path()).map_or(0, |t| t.len());
        assert_eq!(names(&overlay), 1);
        std::fs::write(dir.path().join("b"), "b").expect("write");
        assert_eq!(names(&overlay), 1, "kept until a save");
        overlay.forget_trees();
        assert_eq!(names(&overlay), 2);
    }
}
