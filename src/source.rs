//! Source files and byte spans: `FileId`, `Span` and the `SourceMap` that owns every loaded text.
//!
//! Everything else refers to source text through a `Span`; only this module turns byte offsets
//! into lines and columns.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use xxhash_rust::xxh3::xxh3_64;

use crate::vfs::Vfs;

/// The index of a file in a [`SourceMap`], held as one more than the index so that an absent
/// one costs nothing: an `Option<Span>` is 12 bytes, not 16, and a model field's value and span
/// of a small value 16, not 24 (`At<bool>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(std::num::NonZeroU32);

const _: () = assert!(std::mem::size_of::<Option<Span>>() == 12);

impl FileId {
    /// The first file a map hands out (and the one of a single parsed text).
    pub const FIRST: FileId = FileId(std::num::NonZeroU32::MIN);

    /// The file at `index`.
    ///
    /// # Panics
    /// When `index` is 2^32 - 1 or more: no map holds that many files.
    #[must_use]
    pub fn new(index: usize) -> Self {
        u32::try_from(index)
            .ok()
            .and_then(|i| std::num::NonZeroU32::MIN.checked_add(i))
            .map(FileId)
            .expect("fewer than 2^32 - 1 files")
    }

    /// Its place in its map.
    #[must_use]
    pub fn index(self) -> usize {
        self.0.get() as usize - 1
    }
}

/// A byte range `start..end` in one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    #[must_use]
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span {
            file,
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    /// The smallest span that covers both `self` and `other` (same file).
    #[must_use]
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    #[must_use]
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    #[must_use]
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

/// A line and column, both 1-based; the column counts characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for LineCol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Where a file came from: a path on disk (as the user named it) or the embedded standard library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Disk,
    Std,
}

/// One loaded source file.
#[derive(Debug)]
pub struct SourceFile {
    /// The name shown to users: the path as given on the command line joined with import paths,
    /// or `std/NAME` for the standard library.
    pub name: String,
    pub origin: Origin,
    /// The text ([`SourceFile::text`]): unset between [`SourceMap::let_go`] and the first time
    /// it is asked for again, when it is read again.
    text: OnceLock<String>,
    /// Where to read the text again, and what it was, once it has been let go of.
    let_go: Option<Box<LetGo>>,
    /// Where each line starts, made the first time a position is asked for: a compile that
    /// reports nothing never needs it (offsets fit in `u32`, as spans do).
    line_starts: OnceLock<Vec<u32>>,
}

/// A text let go of: the file it is read again from, and its length and hash to know that what
/// is read is what was compiled.
struct LetGo {
    path: PathBuf,
    vfs: &'static dyn Vfs,
    len: usize,
    hash: u64,
    /// What reading the file again found: nothing yet ([`LetGo::UNREAD`]), the compiled text
    /// ([`LetGo::SAME`]) or not ([`LetGo::CHANGED`]: changed, removed or unreadable, and the
    /// text is then empty). Once changed it stays changed: a text read again later that is the
    /// compiled one again cannot undo a diagnostic already made.
    found: AtomicU8,
}

impl LetGo {
    const UNREAD: u8 = 0;
    const SAME: u8 = 1;
    const CHANGED: u8 = 2;

    /// Reads the file again: its text when it is still the compiled one.
    fn read(&self) -> Option<String> {
        // Decoded as the loader decodes (`resolve::imports::decode`): lossily, and copied only
        // when it is not UTF-8.
        let text = self
            .vfs
            .read(&self.path)
            .ok()
            .map(|bytes| {
                String::from_utf8(bytes)
                    .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned())
            })
            .filter(|text| text.len() == self.len && xxh3_64(text.as_bytes()) == self.hash);
        let found = if text.is_some() {
            Self::SAME
        } else {
            Self::CHANGED
        };
        self.found.fetch_max(found, Ordering::Relaxed);
        text
    }

    fn changed(&self) -> bool {
        self.found.load(Ordering::Relaxed) == Self::CHANGED
    }
}

impl fmt::Debug for LetGo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LetGo")
            .field("path", &self.path)
            .field("len", &self.len)
            .field("found", &self.found)
            .finish_non_exhaustive()
    }
}

impl SourceFile {
    /// A file (what [`SourceMap::add`] keeps); its line index is made when first needed.
    #[must_use]
    pub fn new(name: String, origin: Origin, text: String) -> Self {
        SourceFile {
            name,
            origin,
            text: OnceLock::from(text),
            let_go: None,
            line_starts: OnceLock::new(),
        }
    }

    /// The file's text; one that was let go of ([`SourceMap::let_go`]) is read again the first
    /// time it is asked for, and is empty if the file no longer holds it ([`Self::changed`]).
    #[must_use]
    pub fn text(&self) -> &str {
        self.text.get_or_init(|| {
            self.let_go
                .as_ref()
                .and_then(|let_go| let_go.read())
                .unwrap_or_default()
        })
    }

    /// Whether the text was let go of and the file, read again, no longer held it: positions
    /// in it are then unknown and nothing of it can be quoted. Reads the text when it is not
    /// held, so that what is asked about next is the text this answer is about.
    #[must_use]
    pub fn changed(&self) -> bool {
        self.let_go.as_ref().is_some_and(|let_go| {
            let _ = self.text();
            let_go.changed()
        })
    }

    /// Where each line starts (the first at 0), as byte offsets.
    fn line_starts(&self) -> &[u32] {
        self.line_starts.get_or_init(|| {
            let to_u32 = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
            let mut starts: Vec<u32> = std::iter::once(0)
                .chain(self.text().match_indices('\n').map(|(i, _)| to_u32(i + 1)))
                .collect();
            starts.shrink_to_fit();
            starts
        })
    }

    /// The byte offset where the 0-based line `line` starts, if the file has it.
    fn line_start(&self, line: usize) -> Option<usize> {
        self.line_starts().get(line).map(|&start| start as usize)
    }

    /// Line and column of a byte offset (clamped to the text and to a character boundary).
    #[must_use]
    pub fn line_col(&self, offset: usize) -> LineCol {
        let (line, before) = self.line_of(offset);
        LineCol {
            line: line + 1,
            column: before.chars().count() + 1,
        }
    }

    /// The 0-based line of a byte offset and its column in UTF-16 code units, from 0: a
    /// position as the Language Server Protocol counts it.
    #[must_use]
    pub fn utf16_position(&self, offset: usize) -> (usize, usize) {
        let (line, before) = self.line_of(offset);
        (line, before.encode_utf16().count())
    }

    /// The 0-based line of a byte offset (clamped to the text and to a character boundary),
    /// and the text of that line before it.
    fn line_of(&self, offset: usize) -> (usize, &str) {
        let offset = self.floor_boundary(offset);
        let line = self
            .line_starts()
            .partition_point(|&start| start as usize <= offset)
            .saturating_sub(1);
        let start = self.line_start(line).unwrap_or(0);
        (line, self.text().get(start..offset).unwrap_or(""))
    }

    /// The byte range of 1-based lines `first` to `last` (clamped to the file), line breaks
    /// included.
    #[must_use]
    pub fn lines_bytes(&self, first: usize, last: usize) -> (usize, usize) {
        let start = self
            .line_start(first.saturating_sub(1))
            .unwrap_or(self.text().len());
        let end = self.line_start(last).unwrap_or(self.text().len());
        (start.min(end), end)
    }

    /// The text of 1-based line `line`, without its line break.
    #[must_use]
    pub fn line_text(&self, line: usize) -> &str {
        let Some(start) = self.line_start(line.saturating_sub(1)) else {
            return "";
        };
        let end = self.line_start(line).unwrap_or(self.text().len());
        self.text()
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }

    /// The text a span covers (empty when the span does not fall on character boundaries).
    #[must_use]
    pub fn slice(&self, span: Span) -> &str {
        self.text()
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    fn floor_boundary(&self, offset: usize) -> usize {
        let text = self.text();
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }
}

/// Every file loaded in one compilation, indexed by [`FileId`].
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, name: String, origin: Origin, text: String) -> FileId {
        let id = FileId::new(self.files.len());
        self.files.push(SourceFile::new(name, origin, text));
        id
    }

    /// Lets go of a file's text, which was read from `path` on `vfs` (a file system whose files
    /// can be read again for as long as the program runs, [`Vfs::lasting`]): a compile that has
    /// parsed a file needs its text again only to quote or place a diagnostic, and the texts
    /// were a tenth of a large compile's peak memory. [`SourceFile::text`] reads it again.
    pub fn let_go(&mut self, id: FileId, path: &Path, vfs: &'static dyn Vfs) {
        let Some(file) = self.files.get_mut(id.index()) else {
            return;
        };
        let Some(text) = file.text.take() else {
            return;
        };
        file.let_go = Some(Box::new(LetGo {
            path: path.to_path_buf(),
            vfs,
            len: text.len(),
            hash: xxh3_64(text.as_bytes()),
            found: AtomicU8::new(LetGo::UNREAD),
        }));
    }

    /// Reads every text that was let go of again, and names the files that no longer hold the
    /// text that was compiled. The texts of the files `keep` names stay held (those a
    /// diagnostic quotes or places); the others are let go of again, to be read once more only
    /// if something asks for them ([`SourceFile::text`], which finds a change then too).
    #[must_use]
    pub fn read_again(&mut self, keep: impl Fn(FileId) -> bool) -> Vec<FileId> {
        let mut changed = Vec::new();
        for (index, file) in self.files.iter_mut().enumerate() {
            let Some(let_go) = &file.let_go else {
                continue;
            };
            let id = FileId::new(index);
            if keep(id) {
                let _ = file.text();
            } else {
                // Its line index goes with it, to be made again from the text read next.
                file.line_starts.take();
                if file.text.take().is_none() {
                    // Not asked for while compiling: read, checked and let go of at once.
                    let _ = let_go.read();
                }
            }
            if let_go.changed() {
                changed.push(id);
            }
        }
        changed
    }

    /// The file behind an id this map handed out.
    ///
    /// # Panics
    /// When `id` did not come from this map, which is a bug in the caller.
    #[must_use]
    pub fn get(&self, id: FileId) -> &SourceFile {
        self.files
            .get(id.index())
            .expect("FileId belongs to this SourceMap")
    }

    #[must_use]
    pub fn name(&self, id: FileId) -> &str {
        &self.get(id).name
    }

    #[must_use]
    pub fn line_col(&self, span: Span) -> LineCol {
        self.get(span.file).line_col(span.start as usize)
    }

    /// Renames every file with `rename` (which returns the new name, if any): `pcfg diff`
    /// shows a revision's files as `REV:path`, not where they were unpacked.
    pub fn rename(&mut self, rename: impl Fn(&str) -> Option<String>) {
        for file in &mut self.files {
            if let Some(name) = rename(&file.name) {
                file.name = name;
            }
        }
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId::new(i), f))
    }
}

#[cfg(test)]
mod tests {
    use super::{FileId, Origin, SourceMap};

    /// A file's id gives back the index it was made from, orders as its index does, and is the
    /// one the map handed out for the file at that place.
    #[test]
    fn a_file_id_is_its_index() {
        for index in [0, 1, 2, 255, 65_536, u32::MAX as usize - 1] {
            assert_eq!(FileId::new(index).index(), index);
        }
        assert_eq!(FileId::FIRST, FileId::new(0));
        assert!(FileId::new(0) < FileId::new(1) && FileId::new(1) < FileId::new(300));
        let mut map = SourceMap::new();
        let ids: Vec<FileId> = (0..3)
            .map(|i| map.add(format!("f{i}.pcfg"), Origin::Disk, String::new()))
            .collect();
        assert_eq!(ids, [FileId::new(0), FileId::new(1), FileId::new(2)]);
        assert!(map.files().map(|(id, _)| id).eq(ids.iter().copied()));
        assert_eq!(map.name(ids[2]), "f2.pcfg");
        assert!(std::panic::catch_unwind(|| FileId::new(u32::MAX as usize)).is_err());
    }
}
