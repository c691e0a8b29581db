//! Resolution: from an entry file to one resolved tree with provenance.
//!
//! [`imports`] loads the files and orders them into layers, [`overrides`] applies the remix
//! semantics, [`provenance`] holds the result. Nothing here knows the schema.

pub mod imports;
pub mod overrides;
pub mod provenance;
pub mod stdlib;

use std::path::Path;

pub use imports::{EntryError, Layers};
pub use overrides::Removal;
pub use provenance::{Block, Entry, Leaf, Node, Overridden, Provenance, Site};

use crate::diag::Diagnostic;
use crate::source::SourceMap;
use crate::vfs::Vfs;

/// A configuration after layering: the tree, the layers it came from and the removals.
#[derive(Debug)]
pub struct Resolved {
    pub root: Block,
    pub layers: Layers,
    pub removals: Vec<Removal>,
}

/// Loads `entry` with its imports and merges the layers.
///
/// Returns `None` when loading or parsing failed (the diagnostics say why): merging files with
/// syntax errors would only add confusing follow-up errors.
///
/// # Errors
/// When the entry file itself cannot be read.
pub fn resolve(
    vfs: &dyn Vfs,
    sources: &mut SourceMap,
    entry: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Option<Resolved>, EntryError> {
    let before = diagnostics.len();
    let layers = imports::load(vfs, sources, entry, diagnostics)?;
    if diagnostics[before..].iter().any(Diagnostic::is_error) {
        return Ok(None);
    }
    let (root, removals) = overrides::merge(&layers, sources, diagnostics);
    Ok(Some(Resolved {
        root,
        layers,
        removals,
    }))
}
