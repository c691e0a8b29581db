//! The canonical layout of `.pcfg` text (`pcfg fmt`): the AST printed again, every comment
//! kept on the line of the item it belongs to.
//!
//! The layout: two spaces of indentation per block; one item a line, except a block written on
//! one line that still fits in [`WIDTH`] columns; `KIND LABEL {`
//! on the block's first line, `}` alone on its last; one space around operators; at most one
//! blank line between items, none at the start or end of a block or file; lists on one line
//! when they were written on one line and fit, otherwise one line per source line of
//! elements, each ending with `,`. Literals are kept as written (`1024M` stays `1024M`).
//!
//! Comments: a comment on a line of its own stays before the item (or list element) it stood
//! before, at that item's indentation; a comment after an item stays after it on its line.
//! Trailing comments that were aligned (same column) between two blank lines stay aligned, at
//! their column when the code still fits before it, else two spaces after the longest line.
//!
//! The result is checked before it is returned: it must parse to the same tree and carry the
//! same comments in the same order, so a formatter bug can never change a configuration.

use super::ast::{Assign, Block, File, Item, Value, ValueKind};
use super::{parse, SyntaxError};
use crate::source::FileId;

/// The column limit for one-line blocks and lists.
pub const WIDTH: usize = 100;

/// Why a text could not be formatted.
#[derive(Debug)]
pub enum FormatError {
    /// The text does not parse.
    Syntax(SyntaxError),
    /// The formatted text would not mean the same (a bug in pcfg; nothing is written).
    Unstable(&'static str),
}

/// The canonical layout of `src` (the text of file `file`, for the spans of a syntax error).
///
/// # Errors
/// A syntax error of `src`, or [`FormatError::Unstable`] when the result would not parse to the
/// same tree with the same comments.
pub fn format(file: FileId, src: &str) -> Result<String, FormatError> {
    let ast = parse(file, src).map_err(FormatError::Syntax)?;
    let comments = scan_comments(src);
    let mut printer = Printer {
        src,
        comments: &comments,
        next: 0,
        line_starts: std::iter::once(0)
            .chain(src.match_indices('\n').map(|(i, _)| i + 1))
            .collect(),
        lines: Vec::new(),
    };
    printer.items(&ast.items, 0, 0, src.len());
    if printer.next != comments.len() {
        return Err(FormatError::Unstable("a comment was not placed"));
    }
    let text = render(&printer.lines);

    let again =
        parse(file, &text).map_err(|_| FormatError::Unstable("the result does not parse"))?;
    if shape(&ast) != shape(&again) {
        return Err(FormatError::Unstable("the result parses to another tree"));
    }
    let texts = |cs: &[Comment]| cs.iter().map(|c| c.text.to_owned()).collect::<Vec<_>>();
    if texts(&comments) != texts(&scan_comments(&text)) {
        return Err(FormatError::Unstable("the result has other comments"));
    }
    Ok(text)
}

/// A comment: its byte range, its text (from `#`, trailing white space dropped) and the column
/// (in characters) it starts at.
#[derive(Debug)]
struct Comment<'s> {
    start: usize,
    text: &'s str,
    column: usize,
}

impl Comment<'_> {
    fn end(&self) -> usize {
        self.start + self.text.len()
    }
}

/// Every comment of a text that parses: `#` outside a string, to the end of its line.
fn scan_comments(src: &str) -> Vec<Comment<'_>> {
    let bytes = src.as_bytes();
    let mut comments = Vec::new();
    let mut line_start = 0;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'\n' => line_start = at + 1,
            b'"' => {
                // Strings end on their line; `\\` escapes one byte.
                at += 1;
                while at < bytes.len() && !matches!(bytes[at], b'"' | b'\n') {
                    at += if bytes[at] == b'\\' { 2 } else { 1 };
                }
                if bytes.get(at) == Some(&b'\n') {
                    continue;
                }
            }
            b'#' => {
                let end = src[at..].find('\n').map_or(src.len(), |n| at + n);
                comments.push(Comment {
                    start: at,
                    text: src[at..end].trim_end(),
                    column: src[line_start..at].chars().count(),
                });
                at = end;
                continue;
            }
            _ => {}
        }
        at += 1;
    }
    comments
}

/// One output line.
#[derive(Debug)]
enum Line {
    Blank,
    Code {
        indent: usize,
        text: String,
        /// A trailing comment and the column it had.
        comment: Option<(String, usize)>,
    },
}

struct Printer<'s, 'c> {
    src: &'s str,
    comments: &'c [Comment<'s>],
    /// The first comment not yet printed.
    next: usize,
    /// Where each line starts.
    line_starts: Vec<usize>,
    lines: Vec<Line>,
}

impl Printer<'_, '_> {
    fn push(&mut self, indent: usize, text: String) {
        self.lines.push(Line::Code {
            indent,
            text,
            comment: None,
        });
    }

    fn blank(&mut self) {
        if matches!(self.lines.last(), Some(Line::Code { .. })) {
            self.lines.push(Line::Blank);
        }
    }

    /// The 0-based line of a byte offset.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset) - 1
    }

    fn line_breaks(&self, from: usize, to: usize) -> usize {
        self.src
            .get(from..to)
            .map_or(0, |s| s.bytes().filter(|&b| b == b'\n').count())
    }

    /// Whether a comment not yet printed starts between `start` and `end`.
    fn comment_within(&self, start: usize, end: usize) -> bool {
        self.comments[self.next..]
            .iter()
            .find(|c| c.start >= start)
            .is_some_and(|c| c.start < end)
    }

    /// The comments that start before `until`, each on its own line; a blank line kept before
    /// one (except the first of a block) that followed one. Moves `prev_end` past them.
    fn own_line_comments(
        &mut self,
        until: usize,
        indent: usize,
        prev_end: &mut usize,
        first: &mut bool,
    ) {
        while let Some(comment) = self.comments.get(self.next) {
            if comment.start >= until {
                break;
            }
            if !*first && self.line_breaks(*prev_end, comment.start) >= 2 {
                self.blank();
            }
            self.push(indent, comment.text.to_owned());
            *prev_end = comment.end();
            *first = false;
            self.next += 1;
        }
    }

    /// Attaches the comment after `end` on the same line, before `limit`, to the last line.
    /// Returns where the line's content ends.
    fn trailing_comment(&mut self, end: usize, limit: usize) -> usize {
        let Some(comment) = self.comments.get(self.next) else {
            return end;
        };
        if comment.start < end || comment.start >= limit || self.line_breaks(end, comment.start) > 0
        {
            return end;
        }
        if let Some(Line::Code { comment: slot, .. }) = self.lines.last_mut() {
            *slot = Some((comment.text.to_owned(), comment.column));
        }
        self.next += 1;
        comment.end()
    }

    /// The items of a file or block, between `prev_end` and `close`.
    fn items(&mut self, items: &[Item], indent: usize, prev_end: usize, close: usize) {
        let mut prev_end = prev_end;
        let mut first = true;
        for (n, item) in items.iter().enumerate() {
            let span = item_span(item);
            self.own_line_comments(span.0, indent, &mut prev_end, &mut first);
            if !first && self.line_breaks(prev_end, span.0) >= 2 {
                self.blank();
            }
            self.item(item, indent);
            let limit = items.get(n + 1).map_or(close, |next| item_span(next).0);
            prev_end = self.trailing_comment(span.1, limit);
            first = false;
        }
        self.own_line_comments(close, indent, &mut prev_end, &mut first);
    }

    fn item(&mut self, item: &Item, indent: usize) {
        match item {
            Item::Block(block) => self.block(block, indent),
            Item::Assign(assign) => self.assign(assign, indent),
            Item::Import(_) | Item::Remove(_) => {
                let text = self.inline_item(item);
                self.push(indent, text);
            }
        }
    }

    /// An item on one line (an import, a remove, or an assignment inside a one-line block).
    fn inline_item(&self, item: &Item) -> String {
        match item {
            Item::Import(import) => format!("import {}", self.slice(import.path_span)),
            Item::Remove(remove) => format!("remove {}", remove.path.dotted()),
            Item::Assign(assign) => {
                format!(
                    "{}{}",
                    assign_prefix(assign),
                    self.inline_value(&assign.value)
                )
            }
            Item::Block(block) => self.inline_block(block),
        }
    }

    /// `KIND LABEL { ITEM, ITEM }`.
    fn inline_block(&self, block: &Block) -> String {
        let inner: Vec<String> = block.items.iter().map(|i| self.inline_item(i)).collect();
        format!("{} {{ {} }}", header(block), inner.join(", "))
    }

    fn block(&mut self, block: &Block, indent: usize) {
        let (start, end) = (block.span.start as usize, block.span.end as usize);
        let header = header(block);
        let inner_comments = self.comment_within(start, end);
        if block.items.is_empty() && !inner_comments {
            self.push(indent, format!("{header} {{ }}"));
            return;
        }
        if !self.src[start..end].contains('\n') && !inner_comments {
            let text = self.inline_block(block);
            if fits(indent, &text) {
                self.push(indent, text);
                return;
            }
        }
        let open = block.header_span().end as usize
            + self.src[block.header_span().end as usize..]
                .find('{')
                .unwrap_or(0)
            + 1;
        let close = end - 1;
        self.push(indent, format!("{header} {{"));
        let first_item = block.items.first().map_or(close, |i| item_span(i).0);
        let after_open = self.trailing_comment(open, first_item);
        self.items(&block.items, indent + 1, after_open, close);
        self.push(indent, "}".to_owned());
    }

    fn assign(&mut self, assign: &Assign, indent: usize) {
        let prefix = assign_prefix(assign);
        if let ValueKind::List(elements) = &assign.value.kind {
            self.list(&assign.value, elements, indent, &prefix);
        } else {
            let text = format!("{prefix}{}", self.slice(assign.value.span));
            self.push(indent, text);
        }
    }

    /// A value on one line; a list only when it was written on one line without comments.
    fn inline_value(&self, value: &Value) -> String {
        match &value.kind {
            ValueKind::List(elements) => {
                let inner: Vec<String> = elements.iter().map(|e| self.inline_value(e)).collect();
                format!("[{}]", inner.join(", "))
            }
            _ => self.slice(value.span).to_owned(),
        }
    }

    fn slice(&self, span: crate::source::Span) -> &str {
        &self.src[span.start as usize..span.end as usize]
    }

    /// Whether a list is printed on one line: written so, without comments, and fitting.
    fn list_is_inline(&self, value: &Value, indent: usize, prefix: &str) -> bool {
        let (start, end) = (value.span.start as usize, value.span.end as usize);
        !self.src[start..end].contains('\n')
            && !self.comment_within(start, end)
            && fits(indent, &format!("{prefix}{}", self.inline_value(value)))
    }

    /// A list starting with `prefix`; its last line is left for the caller's comma or comment.
    fn list(&mut self, value: &Value, elements: &[Value], indent: usize, prefix: &str) {
        let (start, end) = (value.span.start as usize, value.span.end as usize);
        let has_comments = self.comment_within(start, end);
        if elements.is_empty() && !has_comments {
            self.push(indent, format!("{prefix}[]"));
            return;
        }
        if self.list_is_inline(value, indent, prefix) {
            let text = format!("{prefix}{}", self.inline_value(value));
            self.push(indent, text);
            return;
        }
        let written_on_one_line = !self.src[start..end].contains('\n');
        // Lines of elements: as written, or one element a line when a one-line list is too long.
        let mut groups: Vec<Vec<&Value>> = Vec::new();
        let mut last_line = usize::MAX;
        for element in elements {
            let line = self.line_of(element.span.start as usize);
            let alone = written_on_one_line
                || (matches!(element.kind, ValueKind::List(_))
                    && !self.list_is_inline(element, indent + 1, ""));
            match groups.last_mut() {
                Some(group) if line == last_line && !alone && group_is_inline(group) => {
                    group.push(element);
                }
                _ => groups.push(vec![element]),
            }
            last_line = if alone { usize::MAX } else { line };
        }

        let close = end - 1;
        self.push(indent, format!("{prefix}["));
        let first_start = elements.first().map_or(close, |e| e.span.start as usize);
        let mut prev_end = self.trailing_comment(start + 1, first_start);
        let mut first = true;
        for (n, group) in groups.iter().enumerate() {
            let group_start = group[0].span.start as usize;
            self.own_line_comments(group_start, indent + 1, &mut prev_end, &mut first);
            if !first && self.line_breaks(prev_end, group_start) >= 2 {
                self.blank();
            }
            let last = group[group.len() - 1];
            match (&last.kind, group.len()) {
                (ValueKind::List(inner), 1) if !self.list_is_inline(last, indent + 1, "") => {
                    self.list(last, inner, indent + 1, "");
                }
                _ => {
                    let texts: Vec<String> = group.iter().map(|e| self.inline_value(e)).collect();
                    self.push(indent + 1, texts.join(", "));
                }
            }
            if let Some(Line::Code { text, .. }) = self.lines.last_mut() {
                text.push(',');
            }
            let limit = groups
                .get(n + 1)
                .map_or(close, |g| g[0].span.start as usize);
            prev_end = self.trailing_comment(last.span.end as usize, limit);
            first = false;
        }
        self.own_line_comments(close, indent + 1, &mut prev_end, &mut first);
        self.push(indent, "]".to_owned());
    }
}

/// A group that may take another element: one of inline elements.
fn group_is_inline(group: &[&Value]) -> bool {
    group.iter().all(|e| !matches!(e.kind, ValueKind::List(_)))
}

fn header(block: &Block) -> String {
    match &block.label {
        Some(label) => format!("{} {}", block.kind.name, label.name),
        None => block.kind.name.as_str().to_owned(),
    }
}

fn assign_prefix(assign: &Assign) -> String {
    let default = if assign.default.is_some() {
        "default "
    } else {
        ""
    };
    format!("{} {} {default}", assign.path.dotted(), assign.op.as_str())
}

fn item_span(item: &Item) -> (usize, usize) {
    let span = match item {
        Item::Import(i) => i.span,
        Item::Remove(r) => r.span,
        Item::Block(b) => b.span,
        Item::Assign(a) => a.span,
    };
    (span.start as usize, span.end as usize)
}

fn fits(indent: usize, text: &str) -> bool {
    indent * 2 + text.chars().count() <= WIDTH
}

/// The lines as text: indentation, trailing comments aligned, one final line break.
fn render(lines: &[Line]) -> String {
    let columns = comment_columns(lines);
    let mut out = String::new();
    let end = lines
        .iter()
        .rposition(|l| matches!(l, Line::Code { .. }))
        .map_or(0, |n| n + 1);
    for (n, line) in lines[..end].iter().enumerate() {
        match line {
            Line::Blank => out.push('\n'),
            Line::Code {
                indent,
                text,
                comment,
            } => {
                let code = format!("{}{text}", "  ".repeat(*indent));
                out.push_str(&code);
                if let Some((comment, _)) = comment {
                    let pad = columns[n].saturating_sub(code.chars().count()).max(1);
                    out.push_str(&" ".repeat(pad));
                    out.push_str(comment);
                }
                out.push('\n');
            }
        }
    }
    out
}

/// The column of each line's trailing comment. Between two blank lines, comments that had the
/// same column keep a common one: that column if every line's code ends before it, else two
/// spaces after the longest of their lines.
fn comment_columns(lines: &[Line]) -> Vec<usize> {
    let mut columns = vec![0; lines.len()];
    let mut run_start = 0;
    for n in 0..=lines.len() {
        if n < lines.len() && !matches!(lines[n], Line::Blank) {
            continue;
        }
        let run = run_start..n;
        run_start = n + 1;
        let mut groups: Vec<(usize, Vec<(usize, usize)>)> = Vec::new();
        for i in run {
            if let Line::Code {
                indent,
                text,
                comment: Some((_, column)),
            } = &lines[i]
            {
                let width = indent * 2 + text.chars().count();
                match groups.iter_mut().find(|(c, _)| c == column) {
                    Some((_, members)) => members.push((i, width)),
                    None => groups.push((*column, vec![(i, width)])),
                }
            }
        }
        for (column, members) in groups {
            let widest = members.iter().map(|&(_, w)| w).max().unwrap_or(0);
            let at = if widest < column { column } else { widest + 2 };
            for (i, _) in members {
                columns[i] = at;
            }
        }
    }
    columns
}

/// The tree without spans, for comparing a text with its formatted form.
fn shape(file: &File) -> String {
    use std::fmt::Write as _;
    fn walk(out: &mut String, items: &[Item]) {
        for item in items {
            // Writing to a String cannot fail.
            let _ = match item {
                Item::Import(i) => write!(out, "import {:?};", i.path),
                Item::Remove(r) => write!(out, "remove {};", r.path.dotted()),
                Item::Assign(a) => write!(
                    out,
                    "{} {} {}{};",
                    a.path.dotted(),
                    a.op.as_str(),
                    if a.default.is_some() { "default " } else { "" },
                    a.value.kind
                ),
                Item::Block(b) => {
                    let label = b.label.as_ref().map(|l| &l.name);
                    let _ = write!(out, "{} {label:?} {{", b.kind.name);
                    walk(out, &b.items);
                    write!(out, "}}")
                }
            };
        }
    }
    let mut out = String::new();
    walk(&mut out, &file.items);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(src: &str) -> String {
        match format(FileId::FIRST, src) {
            Ok(text) => text,
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn layout() {
        let src = "import   \"std/particleos\"\n\n\n\nsystem{name=\"x\",version = \"1\"   # v\n\n}\npartition esp { type = esp, size = 1G }\nsystem.packages+=[ \"a\" ,\"b\",\n  \"c\" ]\n";
        let expected = "import \"std/particleos\"\n\nsystem {\n  name = \"x\"\n  version = \"1\"                 # v\n}\npartition esp { type = esp, size = 1G }\nsystem.packages += [\n  \"a\", \"b\",\n  \"c\",\n]\n";
        assert_eq!(fmt(src), expected);
        assert_eq!(fmt(expected), expected);
    }

    #[test]
    fn comments_stay_with_their_items() {
        let src = "# head\n\n# about a\na = 1 # after a\nb { # after brace\n  # before c\n  c = [ # after bracket\n    # before x\n    x, # after x\n    y\n    # dangling in list\n  ] # after list\n  # dangling in block\n}\n# at the end\n";
        let out = fmt(src);
        assert_eq!(
            out,
            "# head\n\n# about a\na = 1 # after a\nb { # after brace\n  # before c\n  c = [ # after bracket\n    # before x\n    x, # after x\n    y,\n    # dangling in list\n  ] # after list\n  # dangling in block\n}\n# at the end\n"
        );
        assert_eq!(fmt(&out), out);
    }

    #[test]
    fn aligned_comments_stay_aligned() {
        // `two` was aligned at column 30; the formatted `release` line is longer, so both move.
        let src = "system {\n  name = \"x\"        # one\n  release=\"rawhide-long-name\" # two\n  version = \"1\"               # two\n}\n";
        let out = fmt(src);
        assert_eq!(out, "system {\n  name = \"x\"        # one\n  release = \"rawhide-long-name\"  # two\n  version = \"1\"                  # two\n}\n");
        assert_eq!(fmt(&out), out);
    }

    #[test]
    fn line_endings_byte_order_mark_and_empty_texts() {
        assert_eq!(
            fmt("\u{feff}system {\r\n  name = \"x\"   # c\r\n}\r\n"),
            "system {\n  name = \"x\"   # c\n}\n"
        );
        assert_eq!(fmt(""), "");
        assert_eq!(
            fmt("\n\n# only\n\n\n# comments\n\n"),
            "# only\n\n# comments\n"
        );
        assert_eq!(fmt("a = [\n]\nd {\n}\n"), "a = []\nd { }\n");
    }
}
