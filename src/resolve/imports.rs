//! Loading: reads the entry file and everything it imports (through the [`Vfs`]), parses each
//! file once, and orders the files into layers.
//!
//! The import graph is walked depth first without recursion, so a chain of ten thousand
//! imports cannot overflow the stack. A file reached twice (a diamond) is loaded once; a file
//! reached while it is still being loaded closes a cycle, which is reported whole.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::stdlib;
use crate::diag::{did_you_mean, Code, Diagnostic, Label};
use crate::source::{FileId, Origin, SourceMap, Span};
use crate::syntax::ast;
use crate::vfs::{normalize, Vfs, VfsError, MAX_FILE_BYTES};

/// One loaded file: a layer of the configuration.
#[derive(Debug)]
pub struct Layer {
    pub file: FileId,
    /// Shared: a language server keeps the trees of files that did not change. Empty when
    /// [`load`] was not asked to keep them.
    pub ast: Arc<ast::File>,
    /// The layers this file imports directly, in import order.
    pub imports: Vec<usize>,
    /// The import statement that first loaded this file (`None` for the entry file); the whole
    /// chain from the entry file down is [`Layers::chain`].
    pub imported_at: Option<Span>,
}

/// All layers, in load order: every file comes after the files it imports.
#[derive(Debug, Default)]
pub struct Layers {
    pub layers: Vec<Layer>,
    /// `below[a]` holds `b` when layer `a` imports layer `b`, directly or not, as sorted
    /// disjoint ranges of layers: layers are numbered as they finish loading, so what a file
    /// imports is mostly one run of numbers, and a chain of N files costs N ranges, not N² bits.
    below: Vec<Ranges>,
    /// The layer of each file, by file id.
    by_file: Vec<Option<usize>>,
}

impl Layers {
    /// Whether layer `lower` is imported (directly or not) by layer `upper`.
    #[must_use]
    pub fn is_below(&self, lower: usize, upper: usize) -> bool {
        self.below.get(upper).is_some_and(|r| r.contains(lower))
    }

    /// Which of `layers` no other of them imports (directly or not): the topmost, whose
    /// definitions win. One union of the import sets of `layers`, so N sibling layers cost N
    /// merges of ranges, not N² comparisons.
    #[must_use]
    pub fn topmost(&self, layers: &[usize]) -> Vec<bool> {
        let covered = Ranges::union(layers.iter().filter_map(|&l| self.below.get(l)));
        layers
            .iter()
            .map(|&layer| !covered.contains(layer))
            .collect()
    }

    /// The import statements that first led to `layer`'s file, from the entry file down:
    /// computed on demand, so a chain of N files costs N spans, not N² (one chain per layer).
    #[must_use]
    pub fn chain(&self, layer: usize) -> Vec<Span> {
        let mut out = Vec::new();
        let mut current = layer;
        while let Some(span) = self.layers.get(current).and_then(|l| l.imported_at) {
            out.push(span);
            match self.by_file.get(span.file.index()).copied().flatten() {
                Some(importer) if importer != current && out.len() <= self.layers.len() => {
                    current = importer;
                }
                _ => break,
            }
        }
        out.reverse();
        out
    }

    /// The layer of a file, when it was loaded.
    #[must_use]
    pub fn of_file(&self, file: FileId) -> Option<usize> {
        self.by_file.get(file.index()).copied().flatten()
    }

    /// The entry file's layer: the last one loaded.
    #[must_use]
    pub fn entry(&self) -> usize {
        self.layers.len().saturating_sub(1)
    }

    fn compute_below(&mut self) {
        for (index, layer) in self.layers.iter().enumerate() {
            let id = layer.file.index();
            if self.by_file.len() <= id {
                self.by_file.resize(id + 1, None);
            }
            self.by_file[id] = Some(index);
        }
        let mut below: Vec<Ranges> = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let direct: Vec<Ranges> = layer.imports.iter().map(|&i| Ranges::one(i)).collect();
            let mine = Ranges::union(
                direct
                    .iter()
                    .chain(layer.imports.iter().filter_map(|&i| below.get(i))),
            );
            below.push(mine);
        }
        self.below = below;
    }
}

/// A set of layers as sorted, disjoint, non-adjacent half-open ranges.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Ranges(Vec<(usize, usize)>);

impl Ranges {
    fn one(layer: usize) -> Self {
        Ranges(vec![(layer, layer + 1)])
    }

    fn contains(&self, layer: usize) -> bool {
        // The last range starting at or before `layer`.
        let index = self.0.partition_point(|&(start, _)| start <= layer);
        index > 0 && layer < self.0[index - 1].1
    }

    /// The union of `sets`: their ranges sorted and merged.
    fn union<'r>(sets: impl Iterator<Item = &'r Ranges>) -> Ranges {
        let mut all: Vec<(usize, usize)> = sets.flat_map(|r| r.0.iter().copied()).collect();
        all.sort_unstable();
        let mut out: Vec<(usize, usize)> = Vec::with_capacity(all.len().min(4));
        for (start, end) in all {
            match out.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => out.push((start, end)),
            }
        }
        out.shrink_to_fit();
        Ranges(out)
    }
}

/// Why the entry file itself could not be loaded: a failure of the invocation, not a
/// diagnostic in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryError {
    pub path: PathBuf,
    pub error: VfsError,
}

impl std::fmt::Display for EntryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.path.display();
        match &self.error {
            VfsError::NotFound => write!(f, "cannot read `{path}`: no such file"),
            VfsError::IsADirectory => write!(f, "cannot read `{path}`: it is a directory"),
            VfsError::TooLarge { bytes } => write!(f, "cannot read `{path}`: {bytes} bytes is more than the {MAX_FILE_BYTES} a source file may have"),
            VfsError::Io(message) => write!(f, "cannot read `{path}`: {message}"),
        }
    }
}

impl std::error::Error for EntryError {}

/// Where a file to load is: on disk, or in the standard library.
#[derive(Clone, Debug)]
enum Location {
    Disk(PathBuf),
    Std(String),
}

/// A file on the stack of the depth-first walk.
struct Frame {
    layer: Layer,
    key: PathBuf,
    location: Location,
    /// `(path, span)` of each import statement, and how many are done.
    pending: Vec<(String, Span)>,
    next: usize,
}

/// What [`load`] hands over as each file finishes loading: its layer number, the layer, and the
/// diagnostics so far (every problem of this file and of the files it imports is among them).
/// Files finish in layer order, each after everything it imports. The callback may take the
/// layer's syntax tree (the merge moves its values out) unless the syntax is to be kept.
pub type OnLoaded<'f> = dyn FnMut(usize, &mut Layer, &[Diagnostic]) + 'f;

/// Loads `entry` and everything it imports, handing each file to `finished` as it finishes. The
/// layers keep their syntax trees when `keep_syntax` is set; otherwise each tree is let go of
/// once `finished` has seen it (the layer's `ast` is then empty), so that a large configuration
/// never holds more trees than the files on one chain of imports, and each file's text once it
/// is parsed, when `vfs` can read it again ([`Vfs::lasting`]).
///
/// # Errors
/// When the entry file itself cannot be read. Problems in imports are diagnostics.
pub fn load(
    vfs: &dyn Vfs,
    sources: &mut SourceMap,
    entry: &Path,
    diagnostics: &mut Vec<Diagnostic>,
    keep_syntax: bool,
    finished: &mut OnLoaded<'_>,
) -> Result<Layers, EntryError> {
    let mut loader = Loader {
        vfs,
        let_go: if keep_syntax { None } else { vfs.lasting() },
        sources,
        diagnostics,
        done: HashMap::new(),
        layers: Layers::default(),
    };
    let location = Location::Disk(normalize(entry));
    let bytes = vfs.read(entry).map_err(|error| EntryError {
        path: entry.to_path_buf(),
        error,
    })?;
    let key = loader.key(&location);
    // Where each file on the stack is, for finding a cycle without walking the stack.
    let mut on_stack: HashMap<PathBuf, usize> = HashMap::from([(key.clone(), 0)]);
    let mut stack = vec![loader.frame(location, key, bytes, None)];
    let empty = Arc::new(ast::File { items: Vec::new() });
    while let Some(top) = stack.last_mut() {
        let Some((path, span)) = top.pending.get(top.next).cloned() else {
            let mut frame = stack.pop().expect("the stack is not empty");
            on_stack.remove(&frame.key);
            let index = loader.layers.layers.len();
            finished(index, &mut frame.layer, loader.diagnostics.as_slice());
            if !keep_syntax {
                frame.layer.ast = Arc::clone(&empty);
            }
            loader.done.insert(frame.key, index);
            loader.layers.layers.push(frame.layer);
            if let Some(parent) = stack.last_mut() {
                parent.layer.imports.push(index);
            }
            continue;
        };
        top.next += 1;
        let from = top.location.clone();
        let Some(location) = loader.locate(&from, &path, span) else {
            continue;
        };
        let key = loader.key(&location);
        if let Some(&index) = loader.done.get(&key) {
            top.layer.imports.push(index);
            continue;
        }
        if let Some(&start) = on_stack.get(&key) {
            loader.report_cycle(&stack[start..], span);
            continue;
        }
        if let Some(bytes) = loader.read(&location, span) {
            on_stack.insert(key.clone(), stack.len());
            stack.push(loader.frame(location, key, bytes, Some(span)));
        }
    }
    loader.layers.compute_below();
    Ok(loader.layers)
}

struct Loader<'v, 'm> {
    vfs: &'v dyn Vfs,
    /// Where texts are read again, when each is let go of once parsed (no syntax kept, and a
    /// file system that lasts, [`Vfs::lasting`]).
    let_go: Option<&'static dyn Vfs>,
    sources: &'m mut SourceMap,
    diagnostics: &'m mut Vec<Diagnostic>,
    /// Identity of each finished file to its layer index.
    done: HashMap<PathBuf, usize>,
    layers: Layers,
}

impl Loader<'_, '_> {
    fn key(&self, location: &Location) -> PathBuf {
        match location {
            Location::Disk(path) => self.vfs.identity(path),
            Location::Std(name) => PathBuf::from(format!("\0std/{name}")),
        }
    }

    /// Adds the file to the source map, parses it and lists its imports.
    fn frame(
        &mut self,
        location: Location,
        key: PathBuf,
        bytes: Vec<u8>,
        imported_at: Option<Span>,
    ) -> Frame {
        let (name, origin) = match &location {
            Location::Disk(path) => (path.display().to_string(), Origin::Disk),
            Location::Std(name) => (format!("{}{name}", stdlib::PREFIX), Origin::Std),
        };
        let (file, bad_utf8) = decode(self.sources, name, origin, bytes);
        let ast = if let Some(diagnostic) = bad_utf8 {
            self.diagnostics
                .push(diagnostic.with_labels(imported_at.map(|s| Label::new(s, "imported here"))));
            Arc::new(ast::File { items: Vec::new() })
        } else {
            // The items before a syntax error still count: their imports load, so that every
            // file that parses is checked too (see `resolve`).
            let (ast, error) = self.vfs.parse(file, self.sources.get(file).text());
            if let Some(error) = error {
                self.diagnostics
                    .push(error.to_diagnostic(&crate::schema::nested_blocks));
            }
            ast
        };
        if let (Location::Disk(path), Some(vfs)) = (&location, self.let_go) {
            self.sources.let_go(file, path, vfs);
        }
        let mut pending: Vec<(String, Span)> = ast
            .items
            .iter()
            .filter_map(|item| match item {
                ast::Item::Import(import) => Some((import.path.clone(), import.path_span)),
                _ => None,
            })
            .collect();
        // Imports load in the order of their paths, not of the `import` lines: files that do
        // not import each other then mean the same however their importer lists them (SPEC,
        // "Load order"). Paths written in one file are relative to one directory, so the order
        // is the same from any working directory and on any machine.
        pending.sort_by_cached_key(|(path, _)| normalize(Path::new(path)));
        let layer = Layer {
            file,
            ast,
            imports: Vec::new(),
            imported_at,
        };
        Frame {
            layer,
            key,
            location,
            pending,
            next: 0,
        }
    }

    /// Where an import of `path`, written in a file at `from`, points.
    fn locate(&mut self, from: &Location, path: &str, span: Span) -> Option<Location> {
        let std_name = stdlib::imported_name(path, matches!(from, Location::Std(_)));
        match (std_name, from) {
            (Some(name), _) => {
                if stdlib::module(name).is_some() {
                    return Some(Location::Std(name.to_owned()));
                }
                let suggestion = did_you_mean(name, stdlib::names())
                    .map_or_else(String::new, |s| format!("did you mean `std/{s}`? "));
                let names: Vec<String> = stdlib::names().map(|n| format!("`std/{n}`")).collect();
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::UnknownStdModule,
                        format!("no standard library module `{name}`"),
                        Label::new(span, "not in the standard library"),
                    )
                    .with_help(format!(
                        "{suggestion}the standard library has {}",
                        names.join(", ")
                    )),
                );
                None
            }
            (None, Location::Disk(base)) => {
                let dir = self.vfs.import_dir(base);
                Some(Location::Disk(normalize(&dir.join(path))))
            }
            (None, Location::Std(_)) => None,
        }
    }

    fn read(&mut self, location: &Location, span: Span) -> Option<Vec<u8>> {
        let path = match location {
            Location::Std(name) => return stdlib::module(name).map(|s| s.as_bytes().to_vec()),
            Location::Disk(path) => path,
        };
        let shown = path.display();
        let diagnostic = match self.vfs.read(path) {
            Ok(bytes) => return Some(bytes),
            Err(VfsError::NotFound) => {
                let dir = path.parent().unwrap_or(Path::new(""));
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let entries = self.vfs.list_dir(dir);
                let help = match did_you_mean(&name, entries.iter().map(String::as_str)) {
                    Some(similar) => format!("did you mean `{}`?", dir.join(similar).display()),
                    None => "import paths are relative to the importing file; standard library modules are written `std/NAME`".to_owned(),
                };
                Diagnostic::new(Code::FileNotFound, format!("imported file `{shown}` does not exist"), Label::new(span, "no such file")).with_help(help)
            }
            Err(VfsError::IsADirectory) => Diagnostic::new(Code::FileIsDirectory, format!("imported path `{shown}` is a directory"), Label::new(span, "a directory"))
                .with_help("import a `.pcfg` file, e.g. `import \"base/system.pcfg\"`"),
            Err(VfsError::TooLarge { bytes }) => Diagnostic::new(Code::FileTooLarge, format!("imported file `{shown}` is {bytes} bytes, more than the {MAX_FILE_BYTES} a source file may have"), Label::new(span, "too large"))
                .with_help("check that the import names a configuration, not an image or a log"),
            Err(VfsError::Io(message)) => Diagnostic::new(Code::FileUnreadable, format!("cannot read imported file `{shown}`: {message}"), Label::new(span, "unreadable"))
                .with_help("make the file readable by the user running pcfg (`chmod a+r`)"),
        };
        self.diagnostics.push(diagnostic);
        None
    }

    /// `cycle` starts at the file that `closing` imports again.
    fn report_cycle(&mut self, cycle: &[Frame], closing: Span) {
        let mut names: Vec<&str> = cycle
            .iter()
            .map(|f| self.sources.name(f.layer.file))
            .collect();
        if let Some(first) = names.first().copied() {
            names.push(first);
        }
        let message = format!("import cycle: {}", names.join(" → "));
        let labels = cycle.iter().skip(1).filter_map(|frame| {
            frame.layer.imported_at.map(|span| {
                Label::new(
                    span,
                    format!("imports `{}`", self.sources.name(frame.layer.file)),
                )
            })
        });
        let first = cycle
            .first()
            .map_or("", |f| self.sources.name(f.layer.file));
        let diagnostic = Diagnostic::new(Code::ImportCycle, message.clone(), Label::new(closing, format!("imports `{first}` again")))
            .with_labels(labels.collect::<Vec<_>>())
            .with_help("a file may not import itself, directly or through others: move what both files need into a third file that both import");
        self.diagnostics.push(diagnostic);
    }
}

/// Adds a file's bytes to the source map as text; when they are not UTF-8, the text is decoded
/// lossily and the `pcfg::invalid-utf8` diagnostic comes back with it.
pub fn decode(
    sources: &mut SourceMap,
    name: String,
    origin: Origin,
    bytes: Vec<u8>,
) -> (FileId, Option<Diagnostic>) {
    match String::from_utf8(bytes) {
        Ok(text) => (sources.add(name, origin, text), None),
        Err(err) => {
            let at = err.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
            let file = sources.add(name, origin, text);
            // The lossy text holds U+FFFD (three bytes) where the invalid sequence was.
            let span = Span::new(file, at, at + '\u{fffd}'.len_utf8());
            let diagnostic = Diagnostic::new(
                Code::InvalidUtf8,
                "file is not valid UTF-8",
                Label::new(span, "this byte is not UTF-8"),
            )
            .with_help("save the file as UTF-8 (`iconv -t UTF-8`); pcfg reads no other encoding");
            (file, Some(diagnostic))
        }
    }
}

#[cfg(test)]
mod ranges_tests {
    use super::Ranges;

    #[test]
    fn unions_merge_touching_and_overlapping_ranges() {
        let a = Ranges(vec![(0, 3), (7, 9)]);
        let b = Ranges(vec![(3, 5), (8, 12)]);
        let u = Ranges::union([&a, &b, &Ranges::one(20)].into_iter());
        assert_eq!(u, Ranges(vec![(0, 5), (7, 12), (20, 21)]));
        let members: Vec<usize> = (0..25).filter(|&l| u.contains(l)).collect();
        assert_eq!(members, [0, 1, 2, 3, 4, 7, 8, 9, 10, 11, 20]);
        assert!(!Ranges::default().contains(0));
    }
}
