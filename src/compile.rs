//! The pipeline, in the order it runs: load and resolve → check headers → validate against the
//! schema → lower to the OS model → run the model's checks → analyse the extension trees.
//! `pcfg build` and `pcfg plan` continue from the model (`emit`, `plan`).

use std::collections::HashSet;
use std::path::Path;

use crate::analysis;
use crate::check as checks;
use crate::diag::{self, Code, Diagnostic, Label};
use crate::model::{self, Model};
use crate::resolve::{self, EntryError, Resolution, Resolved};
use crate::schema;
use crate::source::{FileId, SourceMap, Span};
use crate::vfs::Vfs;

/// Everything one compilation produced: the sources (for rendering), the resolved tree when
/// resolution got that far, and the diagnostics in a stable order.
#[derive(Debug)]
pub struct Compilation {
    pub sources: SourceMap,
    pub resolved: Option<Resolved>,
    /// The OS model, when the configuration passed schema validation.
    pub model: Option<Model>,
    /// The analysis of the extension trees (its diagnostics are in `diagnostics`).
    pub extensions: Option<analysis::Report>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Compilation {
    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Loads, resolves and validates the configuration whose entry file is `entry`.
///
/// # Errors
/// When the entry file itself cannot be read (a problem with the invocation, not the input).
pub fn check(vfs: &dyn Vfs, entry: &Path) -> Result<Compilation, EntryError> {
    check_as(vfs, entry, &analysis::Quiet, None, None, Syntax::Keep)
}

/// Whether a compilation keeps the syntax trees once the model is lowered.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Syntax {
    /// For questions about what was written (`pcfg why`, the language server): [`check`].
    Keep,
    /// For commands that go on from the model (`check`, `build`, `plan`, `extensions`): each
    /// file's syntax tree is dropped as soon as the file is flattened into the definitions, as
    /// it finishes loading (each layer's `ast` is empty; the trees were almost half of a large
    /// compile's peak memory), and the resolved tree once the model is lowered, before the
    /// extension trees are analysed (`Resolved::root` is then empty; its layers and removals
    /// stay). Each file's text is let go of once parsed, on a file system that can read it
    /// again (`Vfs::lasting`), and read again at the end of the compile, where it is kept only
    /// when a diagnostic points into it.
    Drop,
}

/// [`check`], reporting the progress of the extension-tree analysis. Each file's syntax tree is
/// dropped as soon as the file is flattened (each layer's `ast` is empty), and the resolved tree
/// once the model is lowered (`resolved.root` is empty): [`check`] keeps both. Each text is let
/// go of once parsed and read again at the end (`pcfg::source-changed` when it no longer is
/// what was compiled): `sources` then holds the texts of the files a diagnostic points into,
/// and reads any other again when it is asked for.
///
/// # Errors
/// When the entry file itself cannot be read.
pub fn check_with(
    vfs: &dyn Vfs,
    entry: &Path,
    progress: &dyn analysis::Progress,
) -> Result<Compilation, EntryError> {
    check_against(vfs, entry, progress, None)
}

/// [`check_with`], with the extension trees checked against `base` (a base directory or
/// manifest; a relative path is relative to the entry file's directory, so callers pass an
/// absolute one) instead of `system.base-tree`.
///
/// # Errors
/// When the entry file itself cannot be read.
pub fn check_against(
    vfs: &dyn Vfs,
    entry: &Path,
    progress: &dyn analysis::Progress,
    base: Option<&Path>,
) -> Result<Compilation, EntryError> {
    check_as(vfs, entry, progress, base, None, Syntax::Drop)
}

/// [`check_with`] with the system's version given at build time (`pcfg build --version`): the
/// version every derived value and check sees, in place of `system.version`. The caller checks
/// it against the version grammar.
///
/// # Errors
/// When the entry file itself cannot be read.
pub fn check_with_version(
    vfs: &dyn Vfs,
    entry: &Path,
    progress: &dyn analysis::Progress,
    version: Option<&str>,
) -> Result<Compilation, EntryError> {
    check_as(vfs, entry, progress, None, version, Syntax::Drop)
}

fn check_as(
    vfs: &dyn Vfs,
    entry: &Path,
    progress: &dyn analysis::Progress,
    base: Option<&Path>,
    version: Option<&str>,
    syntax: Syntax,
) -> Result<Compilation, EntryError> {
    let mut sources = SourceMap::new();
    let mut diagnostics = Vec::new();
    // Each file's block headers are its own: checked in every file that parses, as it loads.
    let mut headers = Vec::new();
    let resolution = resolve::resolve(
        vfs,
        &mut sources,
        entry,
        &mut diagnostics,
        syntax == Syntax::Keep,
        &mut |file| schema::check_headers(file, &mut headers),
    )?;
    let header_errors = headers.iter().any(Diagnostic::is_error);
    diagnostics.append(&mut headers);
    let mut resolved = match resolution {
        Resolution::Whole(resolved) => Some(resolved),
        Resolution::Partial(_) => None,
    };
    // A block header that is wrong would only add follow-up errors to validation.
    let mut model = resolved
        .as_mut()
        .filter(|_| !header_errors)
        .and_then(|r| validate_and_lower(r, &sources, version, syntax, &mut diagnostics));
    if let (Some(model), Some(base)) = (model.as_mut(), base) {
        // An absolute path stays itself when joined to the entry file's directory.
        model.system.base_tree.value = Some(base.display().to_string());
    }
    // The extension trees, where they are present.
    let extensions = model.as_ref().map(|m| {
        let mut report =
            analysis::analyse(m, vfs, entry.parent().unwrap_or(Path::new("")), progress);
        diagnostics.append(&mut report.diagnostics);
        report
    });
    // The texts let go of as each file was parsed, read again: a file that no longer holds the
    // text compiled is an error, and nothing of it is quoted. The texts that diagnostics quote
    // and place are kept for rendering; any other that something asks for later (`--locked`'s
    // lock) is read again then, checked the same way.
    let quoted: HashSet<FileId> = diagnostics.iter().flat_map(Diagnostic::files).collect();
    for file in sources.read_again(|file| quoted.contains(&file)) {
        diagnostics.push(
            Diagnostic::new(
                Code::SourceChanged,
                format!("`{}` changed while pcfg compiled it", sources.name(file)),
                Label::new(Span::new(file, 0, 0), "changed, removed or unreadable since it was read"),
            )
            .with_help("run pcfg again once the files are saved: what was compiled is no longer what the file holds"),
        );
    }
    diag::sort(&mut diagnostics);
    diagnostics.dedup();
    Ok(Compilation {
        sources,
        resolved,
        model,
        extensions,
        diagnostics,
    })
}

/// Schema validation, then (when it passed) lowering to the model and the model's checks.
/// The resolved tree is dropped after lowering when `syntax` says so.
fn validate_and_lower(
    resolved: &mut Resolved,
    sources: &SourceMap,
    version: Option<&str>,
    syntax: Syntax,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Model> {
    let entry = resolved.layers.layers.get(resolved.layers.entry())?;
    let start_of_entry = Span::new(entry.file, 0, 0);
    schema::validate(resolved, sources, start_of_entry, diagnostics);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return None;
    }
    let mut model = match syntax {
        Syntax::Keep => model::lower(resolved),
        // Nothing after lowering reads the tree (the lock reads the layers, which stay): taken
        // apart as the model is made, it is no part of that peak nor of the analysis's.
        Syntax::Drop => model::lower_emptying(resolved),
    };
    if let Some(version) = version {
        // Given when building: declared nowhere, so a problem with it is shown at the entry.
        model.system.version = model::At::derived(Some(version.to_owned()));
    }
    diagnostics.extend(checks::run(&model, start_of_entry));
    Some(model)
}
