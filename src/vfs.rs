//! File access for the compiler core: the [`Vfs`] trait, the real file system and an in-memory
//! one for tests.
//!
//! The core reads files only through this trait (architecture invariant A3), so that tests can
//! run without touching the disk and so that every read goes through the same size limit.

use std::collections::BTreeMap;
use std::io;
use std::path::{Component, Path, PathBuf};

/// The largest source file pcfg reads. Configurations are kilobytes; a file this large is a
/// mistake (a disk image or a log named by accident), and refusing it keeps memory bounded.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// Why a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VfsError {
    NotFound,
    IsADirectory,
    TooLarge { bytes: u64 },
    Io(String),
}

impl From<io::Error> for VfsError {
    fn from(err: io::Error) -> Self {
        match err.kind() {
            io::ErrorKind::NotFound => VfsError::NotFound,
            io::ErrorKind::IsADirectory => VfsError::IsADirectory,
            _ => VfsError::Io(err.to_string()),
        }
    }
}

/// Read access to source files.
pub trait Vfs {
    /// The bytes of a file, or why they cannot be had.
    ///
    /// # Errors
    /// When the file is missing, a directory, larger than [`MAX_FILE_BYTES`] or unreadable.
    fn read(&self, path: &Path) -> Result<Vec<u8>, VfsError>;

    /// A key that is equal for two paths naming the same file (the import identity).
    fn identity(&self, path: &Path) -> PathBuf;

    /// The names of the entries of a directory, sorted (for "did you mean" help); empty when the
    /// directory cannot be listed.
    fn list_dir(&self, path: &Path) -> Vec<String>;
}

/// The machine's file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealFs;

impl Vfs for RealFs {
    fn read(&self, path: &Path) -> Result<Vec<u8>, VfsError> {
        let meta = std::fs::metadata(path)?;
        if meta.is_dir() {
            return Err(VfsError::IsADirectory);
        }
        if !meta.is_file() {
            // A FIFO or a device would block or never end: refuse everything but regular files.
            return Err(VfsError::Io("not a regular file".to_owned()));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(VfsError::TooLarge { bytes: meta.len() });
        }
        Ok(std::fs::read(path)?)
    }

    fn identity(&self, path: &Path) -> PathBuf {
        std::fs::canonicalize(path).unwrap_or_else(|_| normalize(path))
    }

    fn list_dir(&self, path: &Path) -> Vec<String> {
        let dir = if path.as_os_str().is_empty() {
            Path::new(".")
        } else {
            path
        };
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }
}

/// An in-memory file system: a map from normalized path to bytes. Directories exist implicitly.
#[derive(Debug, Default, Clone)]
pub struct MemoryFs {
    files: BTreeMap<PathBuf, Vec<u8>>,
}

impl MemoryFs {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, path: impl AsRef<Path>, contents: impl Into<Vec<u8>>) {
        self.files.insert(normalize(path.as_ref()), contents.into());
    }

    fn is_dir(&self, path: &Path) -> bool {
        self.files.keys().any(|p| p.starts_with(path) && p != path)
    }
}

impl Vfs for MemoryFs {
    fn read(&self, path: &Path) -> Result<Vec<u8>, VfsError> {
        let path = normalize(path);
        match self.files.get(&path) {
            Some(bytes) if bytes.len() as u64 > MAX_FILE_BYTES => Err(VfsError::TooLarge {
                bytes: bytes.len() as u64,
            }),
            Some(bytes) => Ok(bytes.clone()),
            None if self.is_dir(&path) => Err(VfsError::IsADirectory),
            None => Err(VfsError::NotFound),
        }
    }

    fn identity(&self, path: &Path) -> PathBuf {
        normalize(path)
    }

    fn list_dir(&self, path: &Path) -> Vec<String> {
        let path = normalize(path);
        let mut names: Vec<String> = self
            .files
            .keys()
            .filter_map(|p| p.strip_prefix(&path).ok())
            .filter_map(|rest| rest.components().next())
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        names.dedup();
        names
    }
}

/// Lexical normalization: drops `.` components and folds `dir/..`, without touching the disk.
#[must_use]
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let last_is_normal =
                    matches!(out.components().next_back(), Some(Component::Normal(_)));
                if last_is_normal {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}
