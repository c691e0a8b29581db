//! The nom parser: text of one file to [`ast::File`], or its first [`SyntaxError`].
//!
//! Conventions:
//! - every parser is a method `fn NAME(&self, i: &'a str) -> PResult<'a, T>` taking the rest of
//!   the input; spans are computed from how much input is left (`self.offset`);
//! - `expect_*` parsers fail with a committed error (`nom::Err::Failure`) that names what was
//!   expected, `parse_*` parsers may fail softly (`nom::Err::Error`) so the caller can try
//!   something else;
//! - nesting is counted, so deep input is an error, never a stack overflow.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::char;
use nom::combinator::{opt, recognize};
use nom::error::{ErrorKind, ParseError};
use nom::{IResult, Parser as _};

use super::ast::{Assign, Block, File, Ident, Import, Item, Op, Path, Remove, Value, ValueKind};
use super::error::{SyntaxError, SyntaxErrorKind};
use crate::source::{FileId, Span};
use compact_str::CompactString;

/// The words with a meaning in one position; `lang/GRAMMAR.md` lists each (a test checks).
pub const KEYWORDS: &[&str] = &[IMPORT, REMOVE, DEFAULT, TRUE, FALSE, AUTO];
const IMPORT: &str = "import";
const REMOVE: &str = "remove";
const DEFAULT: &str = "default";
const TRUE: &str = "true";
const FALSE: &str = "false";
const AUTO: &str = "auto";

/// The reason of `pcfg::invalid-number` for a number with more after it (`4G5`); a word of this
/// shape is a name where a name may stand.
const AFTER_NUMBER: &str = "unexpected characters after the number";

/// How deep blocks and lists may nest. The schema needs three levels; 64 leaves room for any
/// plausible future schema while keeping recursion far from the stack's limit.
pub const MAX_NESTING: usize = 64;

/// Parses one file.
///
/// # Errors
/// The first syntax error of the file.
pub fn parse(file: FileId, src: &str) -> Result<File, SyntaxError> {
    match parse_prefix(file, src) {
        (ast, None) => Ok(ast),
        (_, Some(error)) => Err(error),
    }
}

/// Parses one file as far as it goes: the top-level items that end before the first syntax
/// error (each followed by its line break or `,`), and that error. An item the error falls in
/// is not kept, nor the one the error follows on its line: what comes after an error could
/// change what they mean.
#[must_use]
pub fn parse_prefix(file: FileId, src: &str) -> (File, Option<SyntaxError>) {
    let parser = Parser { file, src };
    let body = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut items = Vec::new();
    let error = match parser.items(body, None, 0, &mut items) {
        Ok(_) => None,
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Some(parser.to_error(e)),
        Err(nom::Err::Incomplete(_)) => Some(SyntaxError {
            kind: SyntaxErrorKind::UnexpectedToken {
                expected: "more input",
                found: "end of file".to_owned(),
                hint: None,
            },
            span: Span::new(file, src.len(), src.len()),
        }),
    };
    items.shrink_to_fit();
    (File { items }, error)
}

/// A parse failure: the kind and where, as the length of the input left at its start and end.
/// nom's own soft failures carry no kind: they are probes that another branch answers, and
/// describing them eagerly would allocate on every failed alternative.
#[derive(Debug)]
struct PError {
    kind: Option<SyntaxErrorKind>,
    rest_at_start: usize,
    rest_at_end: usize,
}

impl ParseError<&str> for PError {
    fn from_error_kind(input: &str, _kind: ErrorKind) -> Self {
        PError {
            kind: None,
            rest_at_start: input.len(),
            rest_at_end: input.len(),
        }
    }

    fn append(_input: &str, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

type PResult<'a, T> = IResult<&'a str, T, PError>;

/// Whether `word`, written as a value, is the name `word` (a symbol) rather than a number, a
/// size, a keyword value or an error: what a label must be for a reference to reach it.
#[must_use]
pub fn is_name(word: &str) -> bool {
    let parser = Parser {
        file: FileId::FIRST,
        src: word,
    };
    matches!(
        parser.expect_value(word, 0),
        Ok(("", Value { kind: ValueKind::Symbol(s), .. })) if s == word
    )
}

/// The diagnostic a word that starts with a digit gets where a number or a size is expected
/// (`size = 4X`, `4g`): the parser reads such a word as a name, since it could be one
/// (`requires = [1password]`); what the number's error would have been, at `span`.
#[must_use]
pub fn number_error(word: &str, span: Span) -> Option<SyntaxError> {
    let parser = Parser {
        file: span.file,
        src: word,
    };
    let Err(nom::Err::Failure(e) | nom::Err::Error(e)) = parser.expect_number(word) else {
        return None;
    };
    let error = parser.to_error(e);
    Some(SyntaxError {
        kind: error.kind,
        span: Span::new(
            span.file,
            (span.start + error.span.start) as usize,
            (span.start + error.span.end) as usize,
        ),
    })
}

struct Parser<'s> {
    file: FileId,
    src: &'s str,
}

/// A word (a kind, a label, a path segment, a symbol) starts with a letter or a digit: labels
/// are names as they are in the wild (`1password`). In a value, a word that reads as a number
/// or a size is one (see [`Parser::expect_value`]).
fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// How to name the start of `input` in an "expected X, found Y" message.
fn describe(input: &str) -> String {
    let Some(c) = input.chars().next() else {
        return "end of file".to_owned();
    };
    match c {
        _ if line_break(input).is_some() => "a line break".to_owned(),
        c if is_ident_start(c) => {
            let word: String = input
                .chars()
                .take_while(|&c| is_ident_char(c))
                .take(40)
                .collect();
            format!("`{word}`")
        }
        c if c.is_ascii_digit() => "a number".to_owned(),
        '"' => "a string".to_owned(),
        c => format!("`{c}`"),
    }
}

/// A character that is never valid outside strings and comments: control characters but a
/// line feed and a tab (a CR only as part of CRLF, which is consumed as a line break before a
/// token is looked at), and anything outside ASCII, white space included (U+00A0, U+3000).
fn is_invalid_char(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\t')) || !c.is_ascii()
}

/// `i` after one line break (`\n` or `\r\n`), if it starts with one.
fn line_break(i: &str) -> Option<&str> {
    i.strip_prefix('\n').or_else(|| i.strip_prefix("\r\n"))
}

impl<'s> Parser<'s> {
    fn offset(&self, rest: &str) -> usize {
        self.src.len() - rest.len()
    }

    fn span(&self, start: &str, end: &str) -> Span {
        Span::new(self.file, self.offset(start), self.offset(end))
    }

    fn to_error(&self, e: PError) -> SyntaxError {
        let start = self.src.len() - e.rest_at_start;
        let end = (self.src.len() - e.rest_at_end).max(start);
        let kind = e.kind.unwrap_or_else(|| SyntaxErrorKind::UnexpectedToken {
            expected: "a token",
            found: describe(self.src.get(start..).unwrap_or("")),
            hint: None,
        });
        SyntaxError {
            kind,
            span: Span::new(self.file, start, end),
        }
    }

    /// A committed error at `at`, covering `len` bytes.
    fn fail<T>(at: &str, len: usize, kind: SyntaxErrorKind) -> PResult<'_, T> {
        Err(nom::Err::Failure(PError {
            kind: Some(kind),
            rest_at_start: at.len(),
            rest_at_end: at.len().saturating_sub(len),
        }))
    }

    /// "expected X, found Y" at `at`; an invalid character is reported as such instead.
    fn unexpected<T>(at: &'s str, expected: &'static str, hint: Option<&str>) -> PResult<'s, T> {
        match at.chars().next() {
            Some(c) if is_invalid_char(c) => Self::fail(
                at,
                c.len_utf8(),
                SyntaxErrorKind::InvalidCharacter { found: c },
            ),
            next => {
                let len = match next {
                    Some(c) if is_ident_start(c) => {
                        at.chars().take_while(|&c| is_ident_char(c)).count()
                    }
                    Some(c) => c.len_utf8(),
                    None => 0,
                };
                Self::fail(
                    at,
                    len,
                    SyntaxErrorKind::UnexpectedToken {
                        expected,
                        found: describe(at),
                        hint: hint.map(str::to_owned),
                    },
                )
            }
        }
    }

    // ---- trivia -------------------------------------------------------------------------

    /// Spaces, tabs and a comment, not line breaks.
    #[allow(clippy::unused_self)] // a method like its siblings, for uniform call sites
    fn inline_space(&self, i: &'s str) -> &'s str {
        let rest = i.trim_start_matches([' ', '\t']);
        match rest.strip_prefix('#') {
            Some(comment) => comment.find('\n').map_or("", |n| &comment[n..]),
            None => rest,
        }
    }

    /// Any whitespace, line breaks and comments.
    fn any_space(&self, i: &'s str) -> &'s str {
        let mut i = i;
        loop {
            let spaced = self.inline_space(i);
            let next = line_break(spaced).unwrap_or(spaced);
            if next.len() == i.len() {
                return i;
            }
            i = next;
        }
    }

    /// Line breaks, commas, whitespace and comments between items.
    fn separators(&self, i: &'s str) -> &'s str {
        let mut i = i;
        loop {
            let next = self.any_space(i).trim_start_matches(',');
            if next.len() == i.len() {
                return i;
            }
            i = next;
        }
    }

    // ---- items --------------------------------------------------------------------------

    /// Items up to `close` (a block's `}`) or the end of the file, pushed to `items` as each is
    /// found complete: on an error, `items` holds those before it.
    fn items(
        &self,
        i: &'s str,
        close: Option<(char, &'s str)>,
        depth: usize,
        items: &mut Vec<Item>,
    ) -> PResult<'s, ()> {
        let mut i = i;
        loop {
            i = self.separators(i);
            match (i.chars().next(), close) {
                (None, None) | (Some('}'), Some(_)) => return Ok((i, ())),
                (None, Some((open, at))) => {
                    return Self::fail(
                        at,
                        1,
                        SyntaxErrorKind::UnclosedDelimiter {
                            open,
                            what: "a block",
                        },
                    );
                }
                _ => {}
            }
            let (rest, item) = self.item(i, depth)?;
            if depth > 0 {
                if let Item::Import(import) = &item {
                    let at = &self.src[import.span.start as usize..];
                    return Self::fail(at, import.span.len(), SyntaxErrorKind::MisplacedImport);
                }
            }
            i = self.inline_space(rest);
            match i.chars().next() {
                None | Some(',') => {}
                Some(_) if line_break(i).is_some() => {}
                Some('}') if close.is_some() => {}
                Some(c) => {
                    // `key-file + tpm2`: a symbol is one token.
                    let hint = if c == '+' {
                        "a combined symbol is one word, without spaces around `+`: `key-file+tpm2`"
                    } else {
                        "put each item on its own line, or separate items with `,`"
                    };
                    return Self::unexpected(i, "a line break or `,` after an item", Some(hint));
                }
            }
            items.push(item);
        }
    }

    fn item(&self, i: &'s str, depth: usize) -> PResult<'s, Item> {
        let start = i;
        let Ok((after_word, word)) = self.parse_ident(i) else {
            return Self::unexpected(
                i,
                "an item (a block, an assignment, `import` or `remove`)",
                None,
            );
        };
        let next = self.inline_space(after_word);
        if word.name == IMPORT && next.starts_with('"') {
            let (rest, (path, path_span)) = self.expect_string(next)?;
            let import = Import {
                path: path.into_string(),
                path_span,
                span: self.span(start, rest),
            };
            return Ok((rest, Item::Import(import)));
        }
        if word.name == REMOVE && next.starts_with(is_ident_start) {
            let (rest, path) = self.expect_path(next)?;
            // `remove x { ... }`: `remove` is a keyword, never a block's kind.
            let after = self.inline_space(rest);
            if after.starts_with('{') {
                let hint = format!(
                    "`remove` takes a path and nothing else: write `remove {0}`; to change its fields, write `{0}.FIELD = VALUE`",
                    path.dotted()
                );
                return Self::unexpected(after, "a line break after `remove PATH`", Some(&hint));
            }
            return Ok((
                rest,
                Item::Remove(Remove {
                    path,
                    span: self.span(start, rest),
                }),
            ));
        }
        match next.chars().next() {
            Some('{') => self.block(start, word, None, next, depth),
            Some(c) if is_ident_start(c) => {
                let (after_label, label) = self.parse_ident(next)?;
                let brace = self.inline_space(after_label);
                if brace.starts_with('{') {
                    self.block(start, word, Some(label), brace, depth)
                } else {
                    let (kind, label) = (&word.name, &label.name);
                    let hint = format!("write `{kind} = {label}` to set a field, or `{kind} {label} {{ ... }}` for a labelled block");
                    Self::unexpected(
                        brace,
                        "`=` between a name and its value, or `{` after a block label",
                        Some(&hint),
                    )
                }
            }
            _ => self.assign(start, word, after_word, depth),
        }
    }

    fn block(
        &self,
        start: &'s str,
        kind: Ident,
        label: Option<Ident>,
        brace: &'s str,
        depth: usize,
    ) -> PResult<'s, Item> {
        if depth + 1 > MAX_NESTING {
            return Self::fail(
                brace,
                1,
                SyntaxErrorKind::NestingTooDeep { limit: MAX_NESTING },
            );
        }
        let (inner, _) = char('{').parse(brace)?;
        let mut items = Vec::new();
        let (rest, ()) = self.items(inner, Some(('{', brace)), depth + 1, &mut items)?;
        // Kept for the whole compilation: no spare capacity (a block of six fields would
        // otherwise hold eight).
        items.shrink_to_fit();
        let (rest, _) = char('}').parse(rest)?;
        Ok((
            rest,
            Item::Block(Block {
                kind,
                label,
                items,
                span: self.span(start, rest),
            }),
        ))
    }

    fn assign(
        &self,
        start: &'s str,
        first: Ident,
        after_first: &'s str,
        depth: usize,
    ) -> PResult<'s, Item> {
        let (i, path) = self.path_rest(start, first, after_first)?;
        let i = self.inline_space(i);
        let op_start = i;
        let (i, op) = match alt((tag::<_, _, PError>("+="), tag("-="), tag("="))).parse(i) {
            Ok((rest, "+=")) => (rest, Op::Append),
            Ok((rest, "-=")) => (rest, Op::Subtract),
            Ok((rest, _)) => (rest, Op::Set),
            Err(_) if i.starts_with('{') => {
                // `trust.tpm2 { ... }`: a block's kind is one name (a single word would have
                // opened a block above). Which names take a label is the schema's to say.
                return Self::fail(
                    i,
                    1,
                    SyntaxErrorKind::BlockAfterPath {
                        path: path
                            .segments
                            .iter()
                            .map(|s| s.name.as_str().to_owned())
                            .collect(),
                    },
                );
            }
            Err(_) if i.starts_with('.') => {
                // `partition . root`: a path is one token.
                let hint = "a path is one word, without spaces around `.`: `partition.root.weight`";
                return Self::unexpected(i, "`=`, `+=` or `-=`", Some(hint));
            }
            Err(_) => {
                let hint = Some("an assignment is written `PATH = VALUE`; a block is written `KIND LABEL? { ... }`");
                let expected = if path.segments.len() > 1 {
                    "`=`, `+=`, `-=` or `.`"
                } else {
                    "`=`, `+=`, `-=`, `.` or `{`"
                };
                return Self::unexpected(i, expected, hint);
            }
        };
        let op_span = self.span(op_start, i);
        let i = self.inline_space(i);
        // `default` is the keyword only when a value follows it on the line; otherwise it is
        // the value (the symbol `default`).
        let keyword = self
            .parse_keyword(i, DEFAULT)
            .map(|rest| (rest, self.inline_space(rest)))
            .filter(|(_, value)| {
                !value.is_empty() && !value.starts_with(['\n', '\r', ',', '}', ']'])
            });
        let (i, default) = match keyword {
            Some((rest, value)) => (value, Some(self.span(i, rest))),
            None => (i, None),
        };
        let (rest, value) = self.expect_value(i, depth)?;
        let assign = Assign {
            path,
            op,
            op_span,
            default,
            value: Box::new(value),
            span: self.span(start, rest),
        };
        Ok((rest, Item::Assign(assign)))
    }

    /// `word` followed by at least one space, or `None`.
    #[allow(clippy::unused_self)] // a method like its siblings, for uniform call sites
    fn parse_keyword(&self, i: &'s str, word: &str) -> Option<&'s str> {
        let rest = i.strip_prefix(word)?;
        rest.starts_with([' ', '\t']).then_some(rest)
    }

    // ---- paths and identifiers ----------------------------------------------------------

    /// An identifier. A trailing `-` is not part of it, so `cmdline-=` reads as `cmdline -=`.
    fn parse_ident(&self, i: &'s str) -> PResult<'s, Ident> {
        let (_, word) =
            recognize((take_while1(is_ident_start), take_while(is_ident_char))).parse(i)?;
        let word = word.trim_end_matches('-');
        let rest = &i[word.len()..];
        Ok((
            rest,
            Ident {
                name: CompactString::from(word),
                span: self.span(i, rest),
            },
        ))
    }

    fn expect_ident(&self, i: &'s str, expected: &'static str) -> PResult<'s, Ident> {
        match self.parse_ident(i) {
            Ok(ok) => Ok(ok),
            Err(_) => Self::unexpected(i, expected, None),
        }
    }

    fn expect_path(&self, i: &'s str) -> PResult<'s, Path> {
        let (rest, first) = self.expect_ident(i, "a path such as `partition.swap`")?;
        self.path_rest(i, first, rest)
    }

    /// The `.b.c` after the first segment of a path.
    fn path_rest(&self, start: &'s str, first: Ident, i: &'s str) -> PResult<'s, Path> {
        let mut segments = smallvec::smallvec![first];
        let mut i = i;
        while let Some(rest) = i.strip_prefix('.') {
            if segments.len() >= MAX_NESTING {
                return Self::fail(i, 1, SyntaxErrorKind::NestingTooDeep { limit: MAX_NESTING });
            }
            let (rest, segment) = self.expect_ident(rest, "a name after `.`")?;
            segments.push(segment);
            i = rest;
        }
        Ok((
            i,
            Path {
                segments,
                span: self.span(start, i),
            },
        ))
    }

    // ---- values -------------------------------------------------------------------------

    fn expect_value(&self, i: &'s str, depth: usize) -> PResult<'s, Value> {
        match i.chars().next() {
            Some('"') => {
                let (rest, (s, span)) = self.expect_string(i)?;
                Ok((rest, Value { kind: ValueKind::Str(s), span }))
            }
            Some('[') => self.expect_list(i, depth),
            Some(c) if c.is_ascii_digit() => match self.expect_number(i) {
                Err(nom::Err::Failure(e)) if Self::name_not_number(i, &e) => self.word_value(i),
                number => number,
            },
            Some('-' | '+') if i[1..].starts_with(|c: char| c.is_ascii_digit()) => {
                Self::fail(i, 1, SyntaxErrorKind::InvalidNumber { reason: "numbers have no sign; every value pcfg takes is zero or more" })
            }
            Some(c) if is_ident_start(c) => self.word_value(i),
            _ => Self::unexpected(i, "a value", Some("values are strings (`\"x\"`), numbers (`42`), sizes (`4G`), `true`, `false`, `auto`, names (`erofs`) and lists (`[a, b]`)")),
        }
    }

    /// Whether a word that starts with a digit and is no number (`e`) is a name instead
    /// (`1password`, `7zip`, `4x-tools`): its letters are not a size unit, decimal ones
    /// included (`4GB` stays `pcfg::decimal-size-unit`), it is not hexadecimal (`0x1g` stays
    /// `pcfg::invalid-number`) and no `.` follows it (`1.5X` is a size with a wrong unit).
    fn name_not_number(i: &str, e: &PError) -> bool {
        let word_len = i.chars().take_while(|&c| is_ident_char(c)).count();
        let name_like = matches!(
            e.kind,
            Some(
                SyntaxErrorKind::InvalidSizeUnit { .. }
                    | SyntaxErrorKind::InvalidNumber {
                        reason: AFTER_NUMBER
                    }
            )
        );
        name_like && !i.starts_with("0x") && !i.starts_with("0X") && !i[word_len..].starts_with('.')
    }

    /// `true`, `false`, `auto` or a symbol; symbols may join words with `+` (`key-file+tpm2`).
    fn word_value(&self, i: &'s str) -> PResult<'s, Value> {
        let (mut rest, first) = self.parse_ident(i)?;
        let mut name = first.name;
        while let Some(after) = rest.strip_prefix('+') {
            let (after, next) = self.expect_ident(after, "a name after `+`")?;
            name.push('+');
            name.push_str(&next.name);
            rest = after;
        }
        let kind = match name.as_str() {
            TRUE => ValueKind::Bool(true),
            FALSE => ValueKind::Bool(false),
            AUTO => ValueKind::Auto,
            _ => ValueKind::Symbol(name),
        };
        Ok((
            rest,
            Value {
                kind,
                span: self.span(i, rest),
            },
        ))
    }

    fn expect_list(&self, i: &'s str, depth: usize) -> PResult<'s, Value> {
        if depth + 1 > MAX_NESTING {
            return Self::fail(i, 1, SyntaxErrorKind::NestingTooDeep { limit: MAX_NESTING });
        }
        let open = i;
        let (mut rest, _) = char('[').parse(i)?;
        let mut items = Vec::new();
        loop {
            rest = self.any_space(rest);
            if let Some(after) = rest.strip_prefix(']') {
                items.shrink_to_fit();
                return Ok((
                    after,
                    Value {
                        kind: ValueKind::List(items),
                        span: self.span(open, after),
                    },
                ));
            }
            if rest.is_empty() {
                return Self::fail(
                    open,
                    1,
                    SyntaxErrorKind::UnclosedDelimiter {
                        open: '[',
                        what: "a list",
                    },
                );
            }
            let (after, item) = self.expect_value(rest, depth + 1)?;
            items.push(item);
            rest = self.any_space(after);
            match rest.chars().next() {
                Some(',') => rest = &rest[1..],
                Some(']') => {}
                None => {
                    return Self::fail(
                        open,
                        1,
                        SyntaxErrorKind::UnclosedDelimiter {
                            open: '[',
                            what: "a list",
                        },
                    )
                }
                Some(_) => {
                    return Self::unexpected(
                        rest,
                        "`,` or `]` in a list",
                        Some("separate list items with `,`"),
                    )
                }
            }
        }
    }

    /// A string literal; returns its value and its span (quotes included).
    fn expect_string(&self, i: &'s str) -> PResult<'s, (CompactString, Span)> {
        let (mut rest, _) = char('"').parse(i)?;
        let mut value = CompactString::default();
        loop {
            let (after, chunk) = take_while(|c: char| {
                c != '"' && c != '\\' && c != '\n' && !(c.is_control() && c != '\t')
            })
            .parse(rest)?;
            rest = after;
            match rest.chars().next() {
                Some('"') => {
                    // Most strings have no escape: made from their text at once.
                    if value.is_empty() {
                        value = CompactString::from(chunk);
                    } else {
                        value.push_str(chunk);
                    }
                    let end = &rest[1..];
                    return Ok((end, (value, self.span(i, end))));
                }
                Some('\\') => {
                    value.push_str(chunk);
                    let (after, c) = self.expect_escape(rest)?;
                    value.push(c);
                    rest = after;
                }
                None => {
                    return Self::fail(i, i.len(), SyntaxErrorKind::UnterminatedString);
                }
                Some(_) if line_break(rest).is_some() => {
                    // Up to the line break: the string as written on its line.
                    let line_len = self.offset(rest) - self.offset(i);
                    return Self::fail(i, line_len, SyntaxErrorKind::UnterminatedString);
                }
                Some(c) => {
                    return Self::fail(
                        rest,
                        c.len_utf8(),
                        SyntaxErrorKind::InvalidCharacter { found: c },
                    )
                }
            }
        }
    }

    /// One escape sequence, starting at its backslash.
    #[allow(clippy::unused_self)] // a method like its siblings, for uniform call sites
    fn expect_escape(&self, i: &'s str) -> PResult<'s, char> {
        let body = &i[1..];
        let simple = match body.chars().next() {
            Some('\\') => Some('\\'),
            Some('"') => Some('"'),
            Some('n') => Some('\n'),
            Some('t') => Some('\t'),
            _ => None,
        };
        if let Some(c) = simple {
            return Ok((&body[1..], c));
        }
        if let Some(rest) = body.strip_prefix("u{") {
            let hex: &str = rest.split('}').next().unwrap_or("");
            let closed = rest.len() > hex.len();
            let valid = closed
                && (1..=6).contains(&hex.len())
                && hex.chars().all(|c| c.is_ascii_hexdigit());
            if let Some(c) = valid
                .then(|| u32::from_str_radix(hex, 16).ok().and_then(char::from_u32))
                .flatten()
            {
                return Ok((&rest[hex.len() + 1..], c));
            }
            let len = if closed {
                3 + hex.len() + 1
            } else {
                3 + hex.len()
            };
            let escape = i.get(..len).unwrap_or(i).to_owned();
            return Self::fail(i, len, SyntaxErrorKind::InvalidEscape { escape });
        }
        let len = 1 + body.chars().next().map_or(0, char::len_utf8);
        let escape = i.get(..len).unwrap_or("\\").to_owned();
        Self::fail(i, len, SyntaxErrorKind::InvalidEscape { escape })
    }

    /// An integer (`42`, `0x1f`) or a size (`512M`, `1.5G`, `4KiB`).
    fn expect_number(&self, i: &'s str) -> PResult<'s, Value> {
        if let Some(after) = i.strip_prefix("0X") {
            let len = 2 + after.chars().take_while(|&c| is_ident_char(c)).count();
            return Self::fail(
                i,
                len,
                SyntaxErrorKind::InvalidNumber {
                    reason: "a hexadecimal number starts with a lower-case `0x`",
                },
            );
        }
        if let Some(hex) = i.strip_prefix("0x") {
            let (rest, digits) = take_while(|c: char| c.is_ascii_hexdigit()).parse(hex)?;
            if digits.is_empty() || rest.starts_with(is_ident_char) {
                let len = self.offset(rest) - self.offset(i)
                    + rest.chars().take_while(|&c| is_ident_char(c)).count();
                return Self::fail(
                    i,
                    len,
                    SyntaxErrorKind::InvalidNumber {
                        reason: "a hexadecimal number is `0x` followed by the digits 0-9 and a-f",
                    },
                );
            }
            return match u64::from_str_radix(digits, 16) {
                Ok(n) => Ok((
                    rest,
                    Value {
                        kind: ValueKind::Int(n),
                        span: self.span(i, rest),
                    },
                )),
                Err(_) => Self::fail(
                    i,
                    self.offset(rest) - self.offset(i),
                    SyntaxErrorKind::NumberTooLarge,
                ),
            };
        }
        let digits = take_while1::<_, _, PError>(|c: char| c.is_ascii_digit());
        let (after_num, (whole, frac)) = (
            digits,
            opt((char('.'), take_while1(|c: char| c.is_ascii_digit()))),
        )
            .parse(i)?;
        let (rest, unit) = take_while(|c: char| c.is_ascii_alphabetic()).parse(after_num)?;
        let span = self.span(i, rest);
        let len = span.len();
        if rest.starts_with(|c: char| is_ident_char(c) || c == '.') {
            let bad = rest
                .chars()
                .take_while(|&c| is_ident_char(c) || c == '.')
                .count();
            return Self::fail(
                i,
                len + bad,
                SyntaxErrorKind::InvalidNumber {
                    reason: AFTER_NUMBER,
                },
            );
        }
        let frac = frac.map_or("", |(_, f)| f);
        if unit.is_empty() {
            if !frac.is_empty() {
                return Self::fail(
                    i,
                    len,
                    SyntaxErrorKind::InvalidNumber {
                        reason: "a decimal needs a size unit, as in `1.5G`",
                    },
                );
            }
            return match whole.parse::<u64>() {
                Ok(n) => Ok((
                    rest,
                    Value {
                        kind: ValueKind::Int(n),
                        span,
                    },
                )),
                Err(_) => Self::fail(i, len, SyntaxErrorKind::NumberTooLarge),
            };
        }
        let unit_at = after_num;
        let Some(multiplier) = unit_multiplier(unit) else {
            let kind = match decimal_unit_suggestion(unit) {
                Some(binary) => SyntaxErrorKind::DecimalSizeUnit {
                    unit: unit.to_owned(),
                    suggestion: format!(
                        "{whole}{}{binary}",
                        if frac.is_empty() {
                            String::new()
                        } else {
                            format!(".{frac}")
                        }
                    ),
                },
                None => SyntaxErrorKind::InvalidSizeUnit {
                    unit: unit.to_owned(),
                },
            };
            return Self::fail(unit_at, unit.len(), kind);
        };
        match size_bytes(whole, frac, multiplier) {
            Ok(bytes) => Ok((
                rest,
                Value {
                    kind: ValueKind::Size(bytes),
                    span,
                },
            )),
            Err(kind) => Self::fail(i, len, kind),
        }
    }
}

/// The multiplier of a binary size unit.
fn unit_multiplier(unit: &str) -> Option<u64> {
    Some(match unit {
        "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        "T" | "TiB" => 1 << 40,
        _ => return None,
    })
}

/// For a decimal or lower-case unit (`MB`, `mb`, `m`), the binary unit meant.
fn decimal_unit_suggestion(unit: &str) -> Option<&'static str> {
    let upper = unit.to_ascii_uppercase();
    Some(match upper.as_str() {
        "K" | "KB" | "KIB" => "K",
        "M" | "MB" | "MIB" => "M",
        "G" | "GB" | "GIB" => "G",
        "T" | "TB" | "TIB" => "T",
        _ => return None,
    })
}

/// `whole.frac * multiplier` as whole bytes, exactly: `multiplier` is `2^k`, so `0.FRAC` (trailing
/// zeros dropped, `d` digits, value `m`) times it is whole exactly when `5^d` divides `m` and
/// `d <= k` (a fraction that ends in a digit other than 0 and is a multiple of 5 is odd), and it
/// is then `m / 5^d * 2^(k - d)`. Any number of decimal places is read this way.
fn size_bytes(whole: &str, frac: &str, multiplier: u64) -> Result<u64, SyntaxErrorKind> {
    let too_large = || SyntaxErrorKind::NumberTooLarge;
    let not_whole = || SyntaxErrorKind::InvalidNumber {
        reason: "the size is not a whole number of bytes",
    };
    let whole: u64 = whole.parse().map_err(|_| too_large())?;
    let whole_bytes = whole.checked_mul(multiplier).ok_or_else(too_large)?;
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        return Ok(whole_bytes);
    }
    let k = multiplier.trailing_zeros() as usize;
    if frac.len() > k {
        return Err(not_whole());
    }
    // `m / 5^d` by long division of the decimal digits, five at a time.
    let mut digits: Vec<u8> = frac.bytes().map(|b| b - b'0').collect();
    for _ in 0..frac.len() {
        let mut remainder = 0u8;
        for digit in &mut digits {
            let current = remainder * 10 + *digit;
            *digit = current / 5;
            remainder = current % 5;
        }
        if remainder != 0 {
            return Err(not_whole());
        }
    }
    let quotient = digits
        .iter()
        .try_fold(0u64, |n, &d| n.checked_mul(10)?.checked_add(u64::from(d)))
        .ok_or_else(too_large)?;
    let frac_bytes = quotient
        .checked_mul(1u64 << (k - frac.len()))
        .ok_or_else(too_large)?;
    whole_bytes.checked_add(frac_bytes).ok_or_else(too_large)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(src: &str) -> Result<ValueKind, SyntaxErrorKind> {
        let text = format!("x = {src}");
        match parse(FileId::FIRST, &text) {
            Ok(file) => match file.items.into_iter().next() {
                Some(Item::Assign(a)) => Ok(a.value.kind.clone()),
                other => panic!("not an assignment: {other:?}"),
            },
            Err(e) => Err(e.kind),
        }
    }

    #[test]
    fn sizes_are_binary() {
        assert_eq!(value("512M"), Ok(ValueKind::Size(512 << 20)));
        assert_eq!(value("1.5G"), Ok(ValueKind::Size(3 << 29)));
        assert_eq!(value("4KiB"), Ok(ValueKind::Size(4096)));
        assert_eq!(value("2T"), Ok(ValueKind::Size(2 << 40)));
        assert_eq!(value("4096"), Ok(ValueKind::Int(4096)));
        assert_eq!(value("0x1f"), Ok(ValueKind::Int(31)));
        assert!(matches!(
            value("1.3K"),
            Err(SyntaxErrorKind::InvalidNumber { .. })
        ));
        assert!(matches!(
            value("5MB"),
            Err(SyntaxErrorKind::DecimalSizeUnit { .. })
        ));
        assert!(matches!(
            value("16777216T"),
            Err(SyntaxErrorKind::NumberTooLarge)
        ));
    }

    /// A raw tab is allowed in a string, as SPEC and GRAMMAR say (issue 15, item 15); other
    /// control characters are not.
    #[test]
    fn strings_take_a_raw_tab() {
        assert_eq!(value("\"a\tb\""), Ok(ValueKind::Str("a\tb".into())));
        assert!(matches!(
            value("\"a\u{7}b\""),
            Err(SyntaxErrorKind::InvalidCharacter { .. })
        ));
    }

    /// Any number of decimal places is read exactly (issue 15, item 14): trailing zeros, and
    /// the 40 places of 2^-40 T, which is one byte.
    #[test]
    fn sizes_with_many_decimal_places_are_exact() {
        assert_eq!(
            value("1.0000000000000000000G"),
            Ok(ValueKind::Size(1 << 30))
        );
        assert_eq!(
            value("0.0000000000009094947017729282379150390625T"),
            Ok(ValueKind::Size(1))
        );
        assert_eq!(value("0.0009765625K"), Ok(ValueKind::Size(1)));
        assert_eq!(value("2.25K"), Ok(ValueKind::Size(2304)));
        for not_whole in [
            "0.00048828125K",
            "1.1K",
            "0.0000000000000000000000000000000000000000001T",
        ] {
            assert!(
                matches!(value(not_whole), Err(SyntaxErrorKind::InvalidNumber { .. })),
                "{not_whole}"
            );
        }
    }

    /// Names may start with a digit (issue 14: `1password`); a word is a number or a size
    /// whenever it reads as one, and a label must not (`is_name`).
    #[test]
    fn a_word_that_starts_with_a_digit_is_a_name_unless_it_is_a_number() {
        for name in ["1password", "7zip", "4x-tools", "2fa_x", "4G5", "0day"] {
            assert_eq!(value(name), Ok(ValueKind::Symbol(name.into())), "{name}");
            assert!(is_name(name), "{name}");
        }
        let Ok(ValueKind::List(items)) = value("[1password, 7zip]") else {
            panic!("not a list");
        };
        let names: Vec<_> = items.into_iter().map(|v| v.kind).collect();
        assert_eq!(
            names,
            [
                ValueKind::Symbol("1password".into()),
                ValueKind::Symbol("7zip".into())
            ]
        );
        for number in [
            "10", "0x1f", "4G", "4KiB", "1.5G", "4GB", "0x1g", "0X1", "1.5X", "true",
        ] {
            assert!(!is_name(number), "{number}");
        }
        assert!(matches!(
            value("4GB"),
            Err(SyntaxErrorKind::DecimalSizeUnit { .. })
        ));
        assert!(matches!(
            value("0x1g"),
            Err(SyntaxErrorKind::InvalidNumber { .. })
        ));
        assert!(matches!(
            value("1.5X"),
            Err(SyntaxErrorKind::InvalidSizeUnit { .. })
        ));
        // Where a number is expected, such a name gets the number's diagnostic, at the unit.
        let span = Span::new(FileId::FIRST, 10, 12);
        let error = number_error("4X", span).expect("an error");
        assert_eq!(
            error.kind,
            SyntaxErrorKind::InvalidSizeUnit { unit: "X".into() }
        );
        assert_eq!((error.span.start, error.span.end), (11, 12));
        // Blocks, labels and path segments take such words too.
        let file = parse(
            FileId::FIRST,
            "extension 1password { requires = [7zip] }\nextension.2fa.kind = sysext\n",
        )
        .expect("parses");
        assert_eq!(file.items.len(), 2);
    }

    #[test]
    fn symbols_join_with_plus() {
        assert_eq!(
            value("key-file+tpm2"),
            Ok(ValueKind::Symbol("key-file+tpm2".into()))
        );
        assert_eq!(value("x86-64"), Ok(ValueKind::Symbol("x86-64".into())));
        assert_eq!(value("auto"), Ok(ValueKind::Auto));
    }

    #[test]
    fn escapes() {
        assert_eq!(
            value(r#""a\"b\\c\n\t\u{41}""#),
            Ok(ValueKind::Str("a\"b\\c\n\tA".into()))
        );
        assert!(matches!(
            value(r#""\q""#),
            Err(SyntaxErrorKind::InvalidEscape { .. })
        ));
        assert!(matches!(
            value(r#""\u{110000}""#),
            Err(SyntaxErrorKind::InvalidEscape { .. })
        ));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "a { ".repeat(10_000);
        assert!(matches!(
            parse(FileId::FIRST, &deep).map_err(|e| e.kind),
            Err(SyntaxErrorKind::NestingTooDeep { .. })
        ));
        let lists = format!("x = {}", "[".repeat(10_000));
        assert!(matches!(
            parse(FileId::FIRST, &lists).map_err(|e| e.kind),
            Err(SyntaxErrorKind::NestingTooDeep { .. })
        ));
    }
}
