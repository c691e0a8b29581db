//! Diagnostics as data: what went wrong, where, and what to write instead.
//!
//! Each phase reports its problems as its own error type and converts them into [`Diagnostic`]
//! values here; rendering (miette for people, JSON for machines) lives in [`render`] and
//! [`json`] and nowhere else (architecture invariant A5).

pub mod codes;
pub mod json;
pub mod render;
pub mod sarif;

pub use codes::Code;

use crate::source::{FileId, Span};

/// How bad a diagnostic is. Errors make `pcfg check` exit 1; warnings only under
/// `--deny-warnings`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A span with an optional note ("first defined here").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: Option<String>,
}

impl Label {
    #[must_use]
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Label {
            span,
            message: Some(message.into()),
        }
    }

    #[must_use]
    pub fn bare(span: Span) -> Self {
        Label {
            span,
            message: None,
        }
    }
}

/// One problem in the user's input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    /// One clause stating the fact, lower case, no trailing period.
    pub message: String,
    /// The place the problem is.
    pub primary: Label,
    /// Every other place involved, in any file.
    pub labels: Vec<Label>,
    /// The concrete fix.
    pub help: Option<String>,
    /// The fix as an edit, when it is one (a did-you-mean, a duplicate to remove, a name to
    /// add to a list): what an editor applies as a quick fix.
    pub fix: Option<Fix>,
}

/// An edit that fixes a diagnostic, in the terms of the configuration: the editor's side turns
/// it into text edits with the file's text at hand (separators, indentation), so that the
/// phases that find problems need no text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    /// What an editor shows: "Replace with `size`".
    pub title: String,
    pub span: Span,
    pub edit: Edit,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// The text at the span becomes this.
    Replace(String),
    /// The item or list entry at the span goes, with the separator that goes with it.
    Remove,
    /// `field` gains `item`: the span is the field's list, or, when the block does not set the
    /// field, the label that declares the block.
    Append {
        field: String,
        item: String,
        to_list: bool,
    },
}

impl Diagnostic {
    /// The files this diagnostic points into (its labels' and its fix's), each as often as
    /// it is pointed at.
    pub fn files(&self) -> impl Iterator<Item = FileId> + '_ {
        std::iter::once(&self.primary)
            .chain(&self.labels)
            .map(|label| label.span.file)
            .chain(self.fix.as_ref().map(|fix| fix.span.file))
    }

    /// A diagnostic with the code's default severity.
    #[must_use]
    pub fn new(code: Code, message: impl Into<String>, primary: Label) -> Self {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            primary,
            labels: Vec::new(),
            help: None,
            fix: None,
        }
    }

    #[must_use]
    pub fn with_label(mut self, label: Label) -> Self {
        self.labels.push(label);
        self
    }

    #[must_use]
    pub fn with_labels(mut self, labels: impl IntoIterator<Item = Label>) -> Self {
        self.labels.extend(labels);
        self
    }

    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The fix as an edit: `span` becomes `replacement`.
    #[must_use]
    pub fn with_fix(self, span: Span, replacement: impl Into<String>) -> Self {
        let replacement = replacement.into();
        let title = format!("Replace with `{replacement}`");
        self.with_edit(title, span, Edit::Replace(replacement))
    }

    /// The fix as any edit, with the title an editor shows for it.
    #[must_use]
    pub fn with_edit(mut self, title: impl Into<String>, span: Span, edit: Edit) -> Self {
        self.fix = Some(Fix {
            title: title.into(),
            span,
            edit,
        });
        self
    }

    #[must_use]
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts diagnostics into a stable order: by file, then position, then code.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (a.primary.span, a.code, &a.message).cmp(&(b.primary.span, b.code, &b.message))
    });
}

/// "did you mean `x`?" for the closest of `candidates` to `name`, if any is close enough.
#[must_use]
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

/// Characters that must never reach a terminal or a file as they are: control characters (C0,
/// DEL, C1 — line breaks among them) and the invisible format characters that make text read
/// differently from what it is (zero-width characters, line and paragraph separators,
/// bidirectional overrides and isolates, the byte-order mark).
#[must_use]
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// A value as messages show it: control characters, line breaks and invisible format
/// characters escaped (`\n`, `\u{1b}`), so input can never drive the terminal, and at most
/// `max` characters, the rest elided with `…`.
#[must_use]
pub fn excerpt(value: &str, max: usize) -> String {
    let mut out = String::new();
    for (count, c) in value.chars().enumerate() {
        if count == max {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_hidden(c) => {
                out.push_str(&c.escape_unicode().to_string());
            }
            c => out.push(c),
        }
    }
    out
}
