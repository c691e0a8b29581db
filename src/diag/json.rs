//! The `--format json` wire types for diagnostics, version 1.
//!
//! ```json
//! {
//!   "diagnostics": [
//!     {
//!       "code": "pcfg::unknown-field",
//!       "end": { "column": 9, "line": 3, "offset": 40 },
//!       "file": "system.pcfg",
//!       "help": "did you mean `size`?",
//!       "labels": [ { "end": {..}, "file": "..", "message": "..", "start": {..} } ],
//!       "message": "unknown field `sise` in `partition`",
//!       "severity": "error",
//!       "start": { "column": 3, "line": 3, "offset": 36 }
//!     }
//!   ],
//!   "errors": 1,
//!   "version": 1,
//!   "warnings": 0
//! }
//! ```
//!
//! Lines and columns are 1-based, columns count characters, offsets are bytes; `end` is
//! exclusive. `help` is `null` when there is none; a label's `message` may be `null`. Keys are
//! sorted. A new field may be added within version 1; removing or changing one bumps `version`.

use serde::Serialize;

use super::{Diagnostic, Label};
use crate::source::{SourceMap, Span};

/// The schema version of [`Report`].
pub const VERSION: u32 = 1;

#[derive(Serialize)]
pub struct Report {
    pub diagnostics: Vec<JsonDiagnostic>,
    pub errors: usize,
    pub version: u32,
    pub warnings: usize,
}

#[derive(Serialize)]
pub struct JsonDiagnostic {
    pub code: String,
    pub end: Position,
    pub file: String,
    pub help: Option<String>,
    pub labels: Vec<JsonLabel>,
    pub message: String,
    pub severity: &'static str,
    pub start: Position,
}

#[derive(Serialize)]
pub struct JsonLabel {
    pub end: Position,
    pub file: String,
    pub message: Option<String>,
    pub start: Position,
}

#[derive(Serialize)]
pub struct Position {
    pub column: usize,
    pub line: usize,
    pub offset: u32,
}

impl Report {
    /// One report over the diagnostics of several compilations, each with its sources.
    #[must_use]
    pub fn new(parts: &[(&[Diagnostic], &SourceMap)]) -> Report {
        let diagnostics: Vec<JsonDiagnostic> = parts
            .iter()
            .flat_map(|(diagnostics, sources)| {
                diagnostics.iter().map(|d| JsonDiagnostic::new(d, sources))
            })
            .collect();
        let errors = diagnostics.iter().filter(|d| d.severity == "error").count();
        Report {
            warnings: diagnostics.len() - errors,
            diagnostics,
            errors,
            version: VERSION,
        }
    }
}

impl JsonDiagnostic {
    fn new(diagnostic: &Diagnostic, sources: &SourceMap) -> JsonDiagnostic {
        let span = diagnostic.primary.span;
        JsonDiagnostic {
            code: diagnostic.code.to_string(),
            end: position(sources, span.file, span.end),
            file: sources.name(span.file).to_owned(),
            help: diagnostic.help.clone(),
            labels: diagnostic
                .labels
                .iter()
                .map(|l| JsonLabel::new(l, sources))
                .collect(),
            message: diagnostic.message.clone(),
            severity: diagnostic.severity.as_str(),
            start: position(sources, span.file, span.start),
        }
    }
}

impl JsonLabel {
    fn new(label: &Label, sources: &SourceMap) -> JsonLabel {
        let Span { file, start, end } = label.span;
        JsonLabel {
            end: position(sources, file, end),
            file: sources.name(file).to_owned(),
            message: label.message.clone(),
            start: position(sources, file, start),
        }
    }
}

fn position(sources: &SourceMap, file: crate::source::FileId, offset: u32) -> Position {
    let at = sources.get(file).line_col(offset as usize);
    Position {
        column: at.column,
        line: at.line,
        offset,
    }
}
