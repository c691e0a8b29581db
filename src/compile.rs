//! The pipeline, in the order it runs: load and resolve → check headers → validate against the
//! schema. Later phases (model, checks, plan, emit) attach here.

use std::path::Path;

use crate::diag::{self, Diagnostic};
use crate::resolve::{self, EntryError, Resolved};
use crate::schema;
use crate::source::{SourceMap, Span};
use crate::vfs::Vfs;

/// Everything one compilation produced: the sources (for rendering), the resolved tree when
/// resolution got that far, and the diagnostics in a stable order.
#[derive(Debug)]
pub struct Compilation {
    pub sources: SourceMap,
    pub resolved: Option<Resolved>,
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
    let mut sources = SourceMap::new();
    let mut diagnostics = Vec::new();
    let resolved = resolve::resolve(vfs, &mut sources, entry, &mut diagnostics)?;
    if let Some(resolved) = &resolved {
        let before = diagnostics.len();
        for layer in &resolved.layers.layers {
            schema::check_headers(&layer.ast, &mut diagnostics);
        }
        if diagnostics.len() == before {
            let entry_file = resolved
                .layers
                .layers
                .get(resolved.layers.entry())
                .map(|l| l.file);
            if let Some(file) = entry_file {
                schema::validate(resolved, &sources, Span::new(file, 0, 0), &mut diagnostics);
            }
        }
    }
    diag::sort(&mut diagnostics);
    diagnostics.dedup();
    Ok(Compilation {
        sources,
        resolved,
        diagnostics,
    })
}
