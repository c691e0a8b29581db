//! Syntax errors: what the parser found wrong, as data, and their diagnostics.

use crate::diag::{Code, Diagnostic, Label};
use crate::source::Span;

/// The first syntax error of a file.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxError {
    pub kind: SyntaxErrorKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SyntaxErrorKind {
    /// A character that has no place in pcfg source (a NUL byte, a control character, `@`).
    InvalidCharacter {
        found: char,
    },
    /// Something else than what the grammar allows here.
    UnexpectedToken {
        expected: &'static str,
        found: String,
        /// What to write instead, when it is clear.
        hint: Option<String>,
    },
    /// A `{` or `[` never closed; `span` is the opening delimiter.
    UnclosedDelimiter {
        open: char,
        what: &'static str,
    },
    UnterminatedString,
    InvalidEscape {
        escape: String,
    },
    InvalidNumber {
        reason: &'static str,
    },
    NumberTooLarge,
    DecimalSizeUnit {
        unit: String,
        suggestion: String,
    },
    InvalidSizeUnit {
        unit: String,
    },
    NestingTooDeep {
        limit: usize,
    },
    MisplacedImport,
    /// `trust.tpm2 { ... }`: a block opened after a dotted path (`path` its names).
    BlockAfterPath {
        path: Vec<String>,
    },
}

impl SyntaxError {
    /// The diagnostic; `nest` writes a dotted path of blocks as nested blocks around `...`
    /// (the schema knows which kinds take a label: [`crate::schema::nested`]).
    #[must_use]
    pub fn to_diagnostic(&self, nest: &dyn Fn(&[&str]) -> String) -> Diagnostic {
        use SyntaxErrorKind as K;
        let span = self.span;
        match &self.kind {
            K::InvalidCharacter { found } => {
                let shown = if found.is_control() || !found.is_ascii() {
                    format!("U+{:04X}", u32::from(*found))
                } else {
                    format!("`{found}`")
                };
                Diagnostic::new(Code::InvalidCharacter, format!("invalid character {shown}"), Label::new(span, "not allowed here"))
                    .with_help("pcfg source is plain text: remove the character, or write it inside a string with an escape such as `\\u{2028}`")
            }
            K::UnexpectedToken { expected, found, hint } => {
                let d = Diagnostic::new(
                    Code::UnexpectedToken,
                    format!("expected {expected}, found {found}"),
                    Label::new(span, format!("expected {expected}")),
                );
                d.with_help(hint.clone().unwrap_or_else(|| "see `lang/SPEC.md` for the grammar of items and values".to_owned()))
            }
            K::UnclosedDelimiter { open, what } => {
                let close = if *open == '{' { '}' } else { ']' };
                Diagnostic::new(Code::UnclosedDelimiter, format!("unclosed `{open}` of {what}"), Label::new(span, "opened here"))
                    .with_help(format!("add `{close}` where it ends"))
            }
            K::UnterminatedString => Diagnostic::new(
                Code::UnterminatedString,
                "unterminated string",
                Label::new(span, "this string is not closed on its line"),
            )
            .with_help("close the string with `\"`; write a line break inside a string as `\\n`"),
            K::InvalidEscape { escape } => Diagnostic::new(
                Code::InvalidEscape,
                format!("invalid escape `{escape}` in string"),
                Label::new(span, "unknown escape"),
            )
            .with_help("the escapes are `\\\\`, `\\\"`, `\\n`, `\\t` and `\\u{XXXX}` (1 to 6 hex digits)"),
            K::InvalidNumber { reason } => Diagnostic::new(
                Code::InvalidNumber,
                format!("invalid number: {reason}"),
                Label::bare(span),
            )
            .with_help("write an integer (`42`, `0x1f`) or a size with a 1024-based unit (`512M`, `1.5G`)"),
            K::NumberTooLarge => Diagnostic::new(
                Code::NumberTooLarge,
                "number does not fit in 64 bits",
                Label::bare(span),
            )
            .with_help("the largest value is 18446744073709551615 (16E minus one byte); write a smaller number"),
            K::DecimalSizeUnit { unit, suggestion } => Diagnostic::new(
                Code::DecimalSizeUnit,
                format!("size unit `{unit}` is decimal"),
                Label::new(span, "decimal unit"),
            )
            .with_help(format!("pcfg sizes are 1024-based, as in systemd: write `{suggestion}` (K, M, G, T, or KiB, MiB, GiB, TiB)")),
            K::InvalidSizeUnit { unit } => Diagnostic::new(
                Code::InvalidSizeUnit,
                format!("unknown size unit `{unit}`"),
                Label::new(span, "unknown unit"),
            )
            .with_help("size units are `K`, `M`, `G`, `T` (1024-based) or `KiB`, `MiB`, `GiB`, `TiB`; a number without unit is bytes"),
            K::NestingTooDeep { limit } => Diagnostic::new(
                Code::NestingTooDeep,
                format!("blocks and lists nest deeper than {limit} levels"),
                Label::new(span, "too deep"),
            )
            .with_help("the schema nests at most three blocks deep: flatten the structure or use a dotted path"),
            K::MisplacedImport => Diagnostic::new(
                Code::MisplacedImport,
                "`import` inside a block",
                Label::new(span, "imports are top-level items"),
            )
            .with_help("move the `import` to the top level of the file, before the blocks"),
            K::BlockAfterPath { path } => {
                let names: Vec<&str> = path.iter().map(String::as_str).collect();
                let expected = "`=`, `+=` or `-=` after a dotted path";
                Diagnostic::new(
                    Code::UnexpectedToken,
                    format!("expected {expected}, found `{{`"),
                    Label::new(span, format!("expected {expected}")),
                )
                .with_help(format!(
                    "a block is opened by its kind (and label), not a path: write `{}`, or set each field with its path: `{}.FIELD = VALUE`",
                    nest(&names),
                    names.join(".")
                ))
            }
        }
    }
}
