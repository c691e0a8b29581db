//! File access for the compiler core: the [`Vfs`] trait, the real file system and an in-memory
//! one for tests.
//!
//! The core reads files only through this trait (architecture invariant A3), so that tests can
//! run without touching the disk and so that every read goes through the same size limit.

mod walk;

use std::collections::BTreeMap;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use compact_str::CompactString;

/// The largest source file pcfg reads. Configurations are kilobytes; a file this large is a
/// mistake (a disk image or a log named by accident), and refusing it keeps memory bounded.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// The deepest a source tree may be (`PATH_MAX` allows about 2,000 levels; real trees have 20).
pub const MAX_TREE_DEPTH: usize = 256;

/// The size of each read when two files are compared.
const COMPARE_BUFFER: usize = 128 * 1024;

/// The capacity a prefix read starts with (it grows for a longer one).
const PREFIX_CAPACITY: usize = 4096;

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

/// Read access to source files. `Sync`, so that trees can be hashed on every core.
pub trait Vfs: Sync {
    /// The bytes of a file, or why they cannot be had.
    ///
    /// # Errors
    /// When the file is missing, a directory, larger than [`MAX_FILE_BYTES`] or unreadable.
    fn read(&self, path: &Path) -> Result<Vec<u8>, VfsError>;

    /// The syntax tree of a file's text, as far as it parses, and its first syntax error. Here
    /// rather than in the loader so that a file system that lives long (the language server's)
    /// can keep the trees of files that did not change between two checks.
    fn parse(
        &self,
        file: crate::source::FileId,
        text: &str,
    ) -> (
        Arc<crate::syntax::ast::File>,
        Option<crate::syntax::SyntaxError>,
    ) {
        let (ast, error) = crate::syntax::parse_prefix(file, text);
        (Arc::new(ast), error)
    }

    /// This file system for as long as the program runs, when a file read from it can be read
    /// again later (the disk): a compile then lets go of each source text once the file is
    /// parsed, and reads it again to quote or place a diagnostic
    /// ([`crate::source::SourceMap::let_go`]). `None` (the default) keeps every text.
    fn lasting(&self) -> Option<&'static dyn Vfs> {
        None
    }

    /// A key that is equal for two paths naming the same file (the import identity): on disk
    /// the device and inode, so that a hard link, a symbolic link and the file itself are one.
    fn identity(&self, path: &Path) -> PathBuf;

    /// The directory that relative imports written in `file` resolve against: the directory
    /// of the file itself, found by following a symbolic link to it, so that a file means the
    /// same wherever it is reached from.
    fn import_dir(&self, file: &Path) -> PathBuf {
        file.parent().unwrap_or(Path::new("")).to_path_buf()
    }

    /// The names of the entries of a directory, sorted (for "did you mean" help); empty when the
    /// directory cannot be listed.
    fn list_dir(&self, path: &Path) -> Vec<String>;

    /// The SHA-256 (hex) of a directory tree: every entry's relative path, in sorted order, with
    /// a file's content or a symbolic link's target (links are never followed). `None` when the
    /// directory does not exist or cannot be read.
    fn tree_digest(&self, dir: &Path) -> Option<String>;

    /// Every entry below `dir` (not `dir` itself), sorted by path, without following links.
    ///
    /// # Errors
    /// Why the tree cannot be had whole: `dir` is missing or not a directory, an entry cannot
    /// be read, or the tree is deeper than [`MAX_TREE_DEPTH`].
    fn walk(&self, dir: &Path) -> Result<Vec<TreeEntry>, String>;

    /// The first `len` bytes of a file (fewer when it is shorter), to recognise its format
    /// without reading it all.
    fn read_prefix(&self, path: &Path, len: usize) -> Option<Vec<u8>>;

    /// `len` bytes of a file from `offset` (fewer at its end): the parts of a large file that
    /// are needed, never the whole of it.
    fn read_range(&self, path: &Path, offset: u64, len: usize) -> Option<Vec<u8>>;

    /// The SHA-256 of a regular file of any size, read as a stream.
    ///
    /// # Errors
    /// When the file is missing, not a regular file or unreadable.
    fn sha256(&self, path: &Path) -> Result<[u8; 32], VfsError>;

    /// Whether two regular files hold the same bytes, read side by side and stopped at the
    /// first difference: several times faster than hashing both.
    ///
    /// # Errors
    /// When either file is missing, not a regular file or unreadable.
    fn same_content(&self, a: &Path, b: &Path) -> Result<bool, VfsError>;

    /// Whether a regular file may be run (any execute bit), as a build tool runs a script.
    ///
    /// # Errors
    /// When the file is missing, not a regular file or unreadable.
    fn executable(&self, path: &Path) -> Result<bool, VfsError>;
}

/// Opens `path` for reading only if it is a regular file, without blocking: a FIFO, a device or
/// a file like `/proc/kmsg` (regular, but its reads wait for data) can never hang pcfg. The
/// type is checked on the opened file, so it cannot be swapped between the check and the read;
/// the metadata of that check is returned with the file (no second `fstat` for its size).
///
/// # Errors
/// When `path` is missing, unreadable, or not a regular file.
pub fn open_regular(path: &Path) -> Result<(std::fs::File, std::fs::Metadata), VfsError> {
    open_checked(path, 0)
}

/// [`open_regular`] for a file that must not be a symbolic link (`O_NOFOLLOW`): one open where
/// an `lstat` and an open were two.
///
/// # Errors
/// When `path` is missing, a link, unreadable, or not a regular file.
pub fn open_regular_nofollow(path: &Path) -> Result<(std::fs::File, std::fs::Metadata), VfsError> {
    open_checked(path, libc::O_NOFOLLOW)
}

fn open_checked(
    path: &Path,
    flags: libc::c_int,
) -> Result<(std::fs::File, std::fs::Metadata), VfsError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | flags)
        .open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(VfsError::IsADirectory);
    }
    if !meta.is_file() {
        return Err(VfsError::Io("not a regular file".to_owned()));
    }
    Ok((file, meta))
}

/// [`encode_name`], held inline when it is short; copied from `bytes` without an allocation of
/// its own when they need no escape.
#[must_use]
pub fn encode_name_compact(bytes: &[u8]) -> CompactString {
    match std::str::from_utf8(bytes) {
        Ok(name) if !name.contains('\\') => CompactString::new(name),
        _ => CompactString::from(encode_name(bytes)),
    }
}

/// A file name (bytes) as tree entries carry it: UTF-8 as it is, `\\` for a backslash and
/// `\xNN` for each byte that is not UTF-8, so that no two names collapse into one and every
/// name can be shown. [`decode_name`] gives the bytes back.
#[must_use]
pub fn encode_name(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
        }
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

/// The path [`encode_name`] encoded.
#[must_use]
pub fn decode_name(name: &str) -> PathBuf {
    use std::os::unix::ffi::OsStringExt as _;
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes.get(i + 1) == Some(&b'\\') {
                out.push(b'\\');
                i += 2;
                continue;
            }
            let hex = bytes
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let (Some(b'x'), Some(byte)) = (
                bytes.get(i + 1),
                hex.and_then(|h| u8::from_str_radix(h, 16).ok()),
            ) {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    PathBuf::from(std::ffi::OsString::from_vec(out))
}

/// One entry of a directory tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeEntry {
    /// Relative to the tree's root, `/`-separated; held inline up to 24 bytes (most
    /// directories and many files of a tree), as the configuration's names are.
    pub path: CompactString,
    pub kind: EntryKind,
    pub size: u64,
    /// Permission bits, including setuid, setgid and sticky.
    pub mode: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    /// The target boxed: links are rare, and every entry of every walked tree is as large as
    /// its kind (a `String` inline made an entry 64 bytes, 56 with the box).
    Symlink {
        target: Box<String>,
    },
    /// A device, FIFO or socket.
    Special,
}

/// Hashes `(relative path, kind, content)` records in the order given.
fn digest<'a>(entries: impl Iterator<Item = (String, &'a str, Vec<u8>)>) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for (path, kind, content) in entries {
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(kind.as_bytes());
        hasher.update([0]);
        hasher.update((content.len() as u64).to_le_bytes());
        hasher.update(&content);
    }
    crate::digest::hex(&hasher.finalize())
}

/// Up to `len` bytes of `file` (of `size` bytes by its `fstat`) from `offset`: a window larger
/// than what is left of the file (a version table's, a manifest's bound, a prefix) allocates
/// only what is there, and is read without a further read to see the end.
fn read_window(file: &std::fs::File, size: u64, offset: u64, len: usize) -> Option<Vec<u8>> {
    use std::os::unix::fs::FileExt as _;
    let left = size.saturating_sub(offset);
    let len = usize::try_from(left).map_or(len, |left| len.min(left));
    let mut bytes = vec![0; len];
    let mut filled = 0;
    while filled < len {
        match file.read_at(&mut bytes[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    bytes.truncate(filled);
    Some(bytes)
}

/// The machine's file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealFs;

impl Vfs for RealFs {
    fn lasting(&self) -> Option<&'static dyn Vfs> {
        Some(&RealFs)
    }

    fn read_range(&self, path: &Path, offset: u64, len: usize) -> Option<Vec<u8>> {
        let (file, meta) = open_regular(path).ok()?;
        read_window(&file, meta.len(), offset, len)
    }

    fn sha256(&self, path: &Path) -> Result<[u8; 32], VfsError> {
        use sha2::{Digest, Sha256};
        let (mut file, _) = open_regular(path)?;
        let mut hasher = Sha256::new();
        io::copy(&mut file, &mut hasher)?;
        Ok(hasher.finalize().into())
    }

    fn same_content(&self, a: &Path, b: &Path) -> Result<bool, VfsError> {
        use std::io::Read as _;
        let ((mut a, meta), (mut b, _)) = (open_regular(a)?, open_regular(b)?);
        // Chunk by chunk, stopped at the first difference or the end of either file; the
        // buffers are no larger than the file (and a byte to see its end): most are small.
        let size = meta.len().saturating_add(1);
        let capacity = usize::try_from(size).map_or(COMPARE_BUFFER, |n| n.min(COMPARE_BUFFER));
        let (mut left, mut right) = (Vec::with_capacity(capacity), Vec::with_capacity(capacity));
        loop {
            left.clear();
            right.clear();
            (&mut a)
                .take(COMPARE_BUFFER as u64)
                .read_to_end(&mut left)?;
            (&mut b)
                .take(COMPARE_BUFFER as u64)
                .read_to_end(&mut right)?;
            if left != right {
                return Ok(false);
            }
            if left.is_empty() {
                return Ok(true);
            }
        }
    }

    fn read_prefix(&self, path: &Path, len: usize) -> Option<Vec<u8>> {
        use std::io::Read as _;
        let (file, meta) = open_regular(path).ok()?;
        if meta.len() > 0 {
            return read_window(&file, meta.len(), 0, len);
        }
        // A size of 0 may hide content (a file in `/proc`): read to the end, bounded.
        let mut bytes = Vec::with_capacity(len.min(PREFIX_CAPACITY));
        file.take(len as u64).read_to_end(&mut bytes).ok()?;
        Some(bytes)
    }

    fn walk(&self, dir: &Path) -> Result<Vec<TreeEntry>, String> {
        walk::walk(dir)
    }

    fn tree_digest(&self, dir: &Path) -> Option<String> {
        use sha2::{Digest, Sha256};
        use std::io::Read as _;
        use std::os::unix::ffi::OsStrExt as _;
        if !dir.is_dir() {
            return None;
        }
        // The records of `digest`, with each file's content streamed into the hash.
        let mut hasher = Sha256::new();
        let record = |hasher: &mut Sha256, path: &str, kind: &str, len: u64| {
            hasher.update(path.as_bytes());
            hasher.update([0]);
            hasher.update(kind.as_bytes());
            hasher.update([0]);
            hasher.update(len.to_le_bytes());
        };
        for entry in walkdir::WalkDir::new(dir)
            .sort_by_file_name()
            .follow_links(false)
        {
            let entry = entry.ok()?;
            let relative = encode_name(entry.path().strip_prefix(dir).ok()?.as_os_str().as_bytes());
            let kind = entry.file_type();
            if kind.is_symlink() {
                let target = std::fs::read_link(entry.path()).ok()?;
                let target = encode_name(target.as_os_str().as_bytes());
                record(&mut hasher, &relative, "link", target.len() as u64);
                hasher.update(target.as_bytes());
            } else if kind.is_file() {
                let (file, meta) = open_regular(entry.path()).ok()?;
                let len = meta.len();
                record(&mut hasher, &relative, "file", len);
                let copied = io::copy(&mut file.take(len), &mut hasher).ok()?;
                if copied != len {
                    return None;
                }
            } else if kind.is_dir() {
                record(&mut hasher, &relative, "dir", 0);
            } else {
                record(&mut hasher, &relative, "special", 0);
            }
        }
        Some(crate::digest::hex(&hasher.finalize()))
    }

    fn executable(&self, path: &Path) -> Result<bool, VfsError> {
        use std::os::unix::fs::PermissionsExt as _;
        let (_, meta) = open_regular(path)?;
        Ok(meta.permissions().mode() & 0o111 != 0)
    }

    fn read(&self, path: &Path) -> Result<Vec<u8>, VfsError> {
        use std::io::Read as _;
        let (file, meta) = open_regular(path)?;
        let len = meta.len();
        if len > MAX_FILE_BYTES {
            return Err(VfsError::TooLarge { bytes: len });
        }
        // The size can change while the file is read (or lie, as in /proc): read no more than
        // the limit allows, into room for the size it has now and one byte to see the end (a
        // source is kept as read: no spare capacity from a buffer grown by doubling).
        let mut bytes = Vec::with_capacity(usize::try_from(len).map_or(0, |n| n + 1));
        file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(VfsError::TooLarge {
                bytes: bytes.len() as u64,
            });
        }
        Ok(bytes)
    }

    fn identity(&self, path: &Path) -> PathBuf {
        use std::os::unix::fs::MetadataExt as _;
        match std::fs::metadata(path) {
            Ok(meta) => PathBuf::from(format!("\0inode/{}/{}", meta.dev(), meta.ino())),
            Err(_) => std::fs::canonicalize(path).unwrap_or_else(|_| normalize(path)),
        }
    }

    fn import_dir(&self, file: &Path) -> PathBuf {
        let dir = file.parent().unwrap_or(Path::new(""));
        // Only a file that is itself a link lives elsewhere (a linked directory on the way is
        // followed by the kernel for the imports too): one `lstat`, and the directory as
        // written otherwise, so that names in messages stay short.
        let linked = std::fs::symlink_metadata(file).is_ok_and(|m| m.file_type().is_symlink());
        let real = linked.then(|| std::fs::canonicalize(file).ok()).flatten();
        real.as_deref()
            .and_then(Path::parent)
            .map_or_else(|| dir.to_path_buf(), Path::to_path_buf)
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
    /// The files inserted as programs (`insert_executable`).
    executables: std::collections::BTreeSet<PathBuf>,
}

impl MemoryFs {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, path: impl AsRef<Path>, contents: impl Into<Vec<u8>>) {
        self.files.insert(normalize(path.as_ref()), contents.into());
    }

    /// Inserts a file that may be run.
    pub fn insert_executable(&mut self, path: impl AsRef<Path>, contents: impl Into<Vec<u8>>) {
        self.executables.insert(normalize(path.as_ref()));
        self.insert(path, contents);
    }

    fn is_dir(&self, path: &Path) -> bool {
        self.files.keys().any(|p| p.starts_with(path) && p != path)
    }
}

impl Vfs for MemoryFs {
    fn executable(&self, path: &Path) -> Result<bool, VfsError> {
        let path = normalize(path);
        if self.files.contains_key(&path) {
            Ok(self.executables.contains(&path))
        } else if self.is_dir(&path) {
            Err(VfsError::IsADirectory)
        } else {
            Err(VfsError::NotFound)
        }
    }

    fn read_range(&self, path: &Path, offset: u64, len: usize) -> Option<Vec<u8>> {
        let bytes = self.files.get(&normalize(path))?;
        let start = usize::try_from(offset).ok()?.min(bytes.len());
        let end = start.saturating_add(len).min(bytes.len());
        Some(bytes[start..end].to_vec())
    }

    fn same_content(&self, a: &Path, b: &Path) -> Result<bool, VfsError> {
        let read = |p: &Path| self.files.get(&normalize(p)).ok_or(VfsError::NotFound);
        Ok(read(a)? == read(b)?)
    }

    fn sha256(&self, path: &Path) -> Result<[u8; 32], VfsError> {
        use sha2::{Digest, Sha256};
        let path = normalize(path);
        match self.files.get(&path) {
            Some(bytes) => Ok(Sha256::digest(bytes).into()),
            // A directory is implied by the files below it.
            None if self
                .files
                .range(path.clone()..)
                .next()
                .is_some_and(|(p, _)| p.starts_with(&path)) =>
            {
                Err(VfsError::IsADirectory)
            }
            None => Err(VfsError::NotFound),
        }
    }

    fn read_prefix(&self, path: &Path, len: usize) -> Option<Vec<u8>> {
        let bytes = self.files.get(&normalize(path))?;
        Some(bytes.get(..len.min(bytes.len()))?.to_vec())
    }

    fn walk(&self, dir: &Path) -> Result<Vec<TreeEntry>, String> {
        let dir = normalize(dir);
        // Paths order by component, so a directory's files are one range of the map.
        let entries: Vec<TreeEntry> = self
            .files
            .range(dir.clone()..)
            .take_while(|(path, _)| path.starts_with(&dir))
            .filter_map(|(path, bytes)| {
                use std::os::unix::ffi::OsStrExt as _;
                let relative =
                    encode_name_compact(path.strip_prefix(&dir).ok()?.as_os_str().as_bytes());
                let size = bytes.len() as u64;
                (!relative.is_empty()).then_some(TreeEntry {
                    path: relative,
                    kind: EntryKind::File,
                    size,
                    mode: 0o644,
                })
            })
            .collect();
        if entries.is_empty() {
            return Err("does not exist".to_owned());
        }
        Ok(entries)
    }

    fn tree_digest(&self, dir: &Path) -> Option<String> {
        let dir = normalize(dir);
        let entries: Vec<(String, &str, Vec<u8>)> = self
            .files
            .range(dir.clone()..)
            .take_while(|(path, _)| path.starts_with(&dir))
            .filter_map(|(path, bytes)| {
                Some((
                    path.strip_prefix(&dir).ok()?.to_string_lossy().into_owned(),
                    "file",
                    bytes.clone(),
                ))
            })
            .filter(|(relative, _, _)| !relative.is_empty())
            .collect();
        (!entries.is_empty()).then(|| digest(entries.into_iter()))
    }

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

#[cfg(test)]
mod tests {
    use super::{decode_name, encode_name};
    use std::os::unix::ffi::OsStrExt as _;

    #[test]
    fn names_round_trip_and_never_collapse() {
        for name in [
            &b"caf\xe9"[..],
            b"caf\xe8",
            b"a\\b",
            b"a\\xe9",
            b"plain/path",
            b"\xff\xfe",
        ] {
            let encoded = encode_name(name);
            assert_eq!(
                decode_name(&encoded).as_os_str().as_bytes(),
                name,
                "{encoded}"
            );
        }
        assert_ne!(encode_name(b"caf\xe9"), encode_name(b"caf\xe8"));
        assert_ne!(encode_name(b"a\\xe9"), encode_name(b"a\xe9"));
    }

    /// A prefix is the file's first bytes, fewer when it is shorter, read by its size in one
    /// read; a file whose size says 0 (one in `/proc`) is read to its end, bounded.
    #[test]
    fn a_prefix_is_the_first_bytes_whatever_the_size_says() {
        use super::{RealFs, Vfs as _};
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("f");
        std::fs::write(&file, b"0123456789").expect("write");
        assert_eq!(RealFs.read_prefix(&file, 4).as_deref(), Some(&b"0123"[..]));
        assert_eq!(
            RealFs.read_prefix(&file, 4096).as_deref(),
            Some(&b"0123456789"[..])
        );
        assert_eq!(RealFs.read_range(&file, 8, 4).as_deref(), Some(&b"89"[..]));
        std::fs::write(&file, b"").expect("write");
        assert_eq!(RealFs.read_prefix(&file, 4).as_deref(), Some(&b""[..]));
        let status = std::path::Path::new("/proc/self/status");
        assert_eq!(std::fs::metadata(status).expect("procfs").len(), 0);
        let prefix = RealFs.read_prefix(status, 5).expect("readable");
        assert_eq!(prefix, b"Name:");
        assert!(RealFs.read_prefix(dir.path(), 4).is_none(), "a directory");
    }
}
