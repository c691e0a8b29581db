//! Resolution: from an entry file to one resolved tree with provenance.
//!
//! [`imports`] loads the files and orders them into layers, [`overrides`] applies the remix
//! semantics, [`provenance`] holds the result. Nothing here knows the schema.

pub mod imports;
mod list_ops;
pub mod name_map;
pub mod overrides;
pub mod provenance;
pub mod stdlib;

use std::collections::HashSet;
use std::path::Path;

pub use imports::{EntryError, Layers};
pub use overrides::Removal;
pub use provenance::{Block, Entry, Leaf, Node, Overridden, Provenance, Site};

use crate::diag::Diagnostic;
use crate::source::{FileId, SourceMap};
use crate::syntax::ast;
use crate::vfs::Vfs;

/// A configuration after layering: the tree, the layers it came from and the removals.
#[derive(Debug)]
pub struct Resolved {
    pub root: Block,
    pub layers: Layers,
    pub removals: Vec<Removal>,
}

/// Loads `entry` with its imports and merges the layers: the whole configuration, or (when a
/// file did not parse or an import could not be loaded) the layers as far as they loaded.
///
/// Each file is flattened into the definitions as it finishes loading, and handed to
/// `per_file` (for the checks that need one file's syntax only); the layers keep their syntax
/// trees only when `keep_syntax` is set, so that otherwise a file's tree is freed before the
/// next file is read.
///
/// Merging files with syntax errors would only add confusing follow-up errors, so then only
/// the files that are whole (parsed, with everything they import) are merged, and only what
/// one of them sees is reported: a problem among files that some whole file imports, which no
/// text after a syntax error can change. The caller checks the rest per file.
///
/// # Errors
/// When the entry file itself cannot be read.
pub fn resolve(
    vfs: &dyn Vfs,
    sources: &mut SourceMap,
    entry: &Path,
    diagnostics: &mut Vec<Diagnostic>,
    keep_syntax: bool,
    per_file: &mut dyn FnMut(&ast::File),
) -> Result<Resolution, EntryError> {
    let mut definitions = overrides::Definitions::default();
    // The files with an error so far: a file's own problems (its syntax, its imports) are all
    // reported before it finishes loading, so whether it is whole is known then.
    let mut failed: HashSet<FileId> = HashSet::new();
    let mut seen = diagnostics.len();
    let mut whole: Vec<bool> = Vec::new();
    let layers = imports::load(
        vfs,
        sources,
        entry,
        diagnostics,
        keep_syntax,
        &mut |index, layer, diagnostics| {
            let new = diagnostics.get(seen..).unwrap_or_default();
            failed.extend(
                new.iter()
                    .filter(|d| d.is_error())
                    .map(|d| d.primary.span.file),
            );
            seen = diagnostics.len();
            let is_whole = !failed.contains(&layer.file)
                && layer
                    .imports
                    .iter()
                    .all(|&i| whole.get(i).copied().unwrap_or(false));
            debug_assert_eq!(whole.len(), index);
            whole.push(is_whole);
            per_file(&layer.ast);
            if is_whole {
                // A kept syntax tree is copied from; any other is let go of as it is added.
                let file = if keep_syntax {
                    ast::File::clone(&layer.ast)
                } else {
                    let tree = std::mem::take(&mut layer.ast);
                    std::sync::Arc::try_unwrap(tree)
                        .unwrap_or_else(|shared| ast::File::clone(&shared))
                };
                definitions.add(index, file);
            }
        },
    )?;
    // Every file with an error is a layer, and not whole: all whole means nothing failed.
    if whole.iter().all(|&w| w) {
        let (root, removals) = definitions.merge(&layers, sources, diagnostics);
        return Ok(Resolution::Whole(Resolved {
            root,
            layers,
            removals,
        }));
    }
    let is_whole = |layer: usize| whole.get(layer).copied().unwrap_or(false);
    let mut found = Vec::new();
    definitions.merge(&layers, sources, &mut found);
    diagnostics.extend(
        found
            .into_iter()
            .filter(|d| seen_whole(d, &layers, &is_whole)),
    );
    Ok(Resolution::Partial(layers))
}

/// Whether some whole layer is, or imports, every file a diagnostic names: then it is a
/// problem of that file as it stands.
fn seen_whole(diagnostic: &Diagnostic, layers: &Layers, is_whole: &dyn Fn(usize) -> bool) -> bool {
    let named: Option<Vec<usize>> = std::iter::once(&diagnostic.primary)
        .chain(&diagnostic.labels)
        .map(|label| layers.of_file(label.span.file))
        .collect();
    let Some(named) = named else {
        return false;
    };
    (0..layers.layers.len()).any(|top| {
        is_whole(top)
            && named
                .iter()
                .all(|&layer| layer == top || layers.is_below(layer, top))
    })
}

/// What resolution made of the configuration.
#[derive(Debug)]
pub enum Resolution {
    /// Every file loaded and parsed: the merged tree.
    Whole(Resolved),
    /// Some file did not parse or could not be loaded: the layers as loaded (a file with a
    /// syntax error holds the items before it), for the checks that need only one file.
    Partial(Layers),
}
