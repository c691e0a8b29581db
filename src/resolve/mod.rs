//! Resolution: from an entry file to one resolved tree with provenance.
//!
//! [`imports`] loads the files and orders them into layers, [`overrides`] applies the remix
//! semantics, [`provenance`] holds the result. Nothing here knows the schema.

pub mod imports;
mod list_ops;
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
) -> Result<Resolution, EntryError> {
    let before = diagnostics.len();
    let layers = imports::load(vfs, sources, entry, diagnostics)?;
    let failed: HashSet<FileId> = diagnostics[before..]
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.primary.span.file)
        .collect();
    if failed.is_empty() {
        let (root, removals) = overrides::merge(&layers, sources, diagnostics);
        return Ok(Resolution::Whole(Resolved {
            root,
            layers,
            removals,
        }));
    }
    let whole = layers.whole(&|file| failed.contains(&file));
    let is_whole = |layer: usize| whole.get(layer).copied().unwrap_or(false);
    let mut found = Vec::new();
    overrides::merge_some(&layers, &is_whole, sources, &mut found);
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
