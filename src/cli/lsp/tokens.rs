//! Semantic tokens: what each word of a file is, by the syntax tree and the schema — a block's
//! kind, a label, a field, a symbol, a name that refers to a declared block — so that an editor
//! colours `root` in `partition root` apart from `root` in `type = root`, which no grammar can.
//! Comments are found by scanning the text (the syntax tree drops them).

use crate::schema::{BlockSchema, Ty};
use crate::source::{FileId, SourceFile, Span};
use crate::syntax::ast::{Item, Value, ValueKind};
use crate::syntax::parse_prefix;

/// The token types, in the order of the legend the server announces.
pub(super) const TYPES: &[&str] = &[
    "namespace",
    "variable",
    "property",
    "enumMember",
    "string",
    "number",
    "keyword",
    "operator",
    "comment",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// A block's kind (`partition`), or a path segment naming a block.
    Block = 0,
    /// A block's label, or a name that refers to one (`requires = [libs]`).
    Label = 1,
    Field = 2,
    Symbol = 3,
    Str = 4,
    Number = 5,
    Keyword = 6,
    Operator = 7,
    Comment = 8,
}

/// Every token of `text` as `(start, end, kind)` in byte offsets, in order.
pub(super) fn tokens(text: &str) -> Vec<(usize, usize, Kind)> {
    let (file, _) = parse_prefix(FileId::FIRST, text);
    let mut out = Vec::new();
    items(&file.items, Some(&crate::schema::v1::ROOT), &mut out);
    comments(text, &mut out);
    out.sort_by_key(|t| (t.0, t.1));
    out
}

fn push(out: &mut Vec<(usize, usize, Kind)>, span: Span, kind: Kind) {
    out.push((span.start as usize, span.end as usize, kind));
}

fn items(list: &[Item], schema: Option<&BlockSchema>, out: &mut Vec<(usize, usize, Kind)>) {
    for item in list {
        match item {
            Item::Import(import) => {
                let start = import.span.start;
                push(
                    out,
                    Span::new(FileId::FIRST, start as usize, start as usize + 6),
                    Kind::Keyword,
                );
                push(out, import.path_span, Kind::Str);
            }
            Item::Remove(remove) => {
                let start = remove.span.start as usize;
                push(
                    out,
                    Span::new(FileId::FIRST, start, start + 6),
                    Kind::Keyword,
                );
                path(&remove.path.segments, schema, false, out);
            }
            Item::Block(block) => {
                push(out, block.kind.span, Kind::Block);
                if let Some(label) = &block.label {
                    push(out, label.span, Kind::Label);
                }
                let inner = schema.and_then(|s| s.block(&block.kind.name));
                items(&block.items, inner, out);
            }
            Item::Assign(assign) => {
                let ty = path(&assign.path.segments, schema, true, out);
                push(out, assign.op_span, Kind::Operator);
                if let Some(default) = assign.default {
                    push(out, default, Kind::Keyword);
                }
                value(&assign.value, ty, out);
            }
        }
    }
}

/// The segments of a path written in a block of `schema`: blocks, labels, and (when
/// `ends_in_field`) a field last, whose type is returned.
fn path(
    segments: &[crate::syntax::ast::Ident],
    schema: Option<&BlockSchema>,
    ends_in_field: bool,
    out: &mut Vec<(usize, usize, Kind)>,
) -> Option<&'static Ty> {
    let mut schema: Option<&BlockSchema> = schema;
    let mut label_next = false;
    let last = segments.len().saturating_sub(1);
    for (i, segment) in segments.iter().enumerate() {
        if label_next {
            push(out, segment.span, Kind::Label);
            label_next = false;
            continue;
        }
        if ends_in_field && i == last {
            push(out, segment.span, Kind::Field);
            return schema.and_then(|s| s.field(&segment.name)).map(|f| &f.ty);
        }
        let inner = schema.and_then(|s| s.block(&segment.name));
        label_next = inner.is_some_and(|b| b.labelled);
        push(out, segment.span, Kind::Block);
        schema = inner;
    }
    None
}

fn value(value: &Value, ty: Option<&Ty>, out: &mut Vec<(usize, usize, Kind)>) {
    let kind = match &value.kind {
        ValueKind::List(items) => {
            let item_ty = match ty {
                Some(Ty::List(item)) => Some(*item),
                other => other,
            };
            for item in items {
                self::value(item, item_ty, out);
            }
            return;
        }
        ValueKind::Str(_) => Kind::Str,
        ValueKind::Int(_) | ValueKind::Size(_) => Kind::Number,
        ValueKind::Bool(_) | ValueKind::Auto => Kind::Keyword,
        ValueKind::Symbol(_) if matches!(ty, Some(Ty::Reference(_))) => Kind::Label,
        ValueKind::Symbol(_) => Kind::Symbol,
    };
    push(out, value.span, kind);
}

/// The comments: from a `#` outside a string to the end of its line.
fn comments(text: &str, out: &mut Vec<(usize, usize, Kind)>) {
    let mut in_string = false;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if in_string => {
                chars.next();
            }
            '"' => in_string = !in_string,
            '\n' => in_string = false,
            '#' if !in_string => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                out.push((i, end, Kind::Comment));
                in_string = false;
                // Skip to the end of the line.
                while chars.next().is_some_and(|(_, c)| c != '\n') {}
            }
            _ => {}
        }
    }
}

/// The tokens as the protocol encodes them: each relative to the one before, in UTF-16 units.
pub(super) fn encode(
    file: &SourceFile,
    tokens: &[(usize, usize, Kind)],
) -> Vec<lsp_types::SemanticToken> {
    let mut previous = (0u32, 0u32);
    let mut out = Vec::with_capacity(tokens.len());
    for &(start, end, kind) in tokens {
        let from = super::convert::position(file, start);
        let to = super::convert::position(file, end);
        // A token never spans lines in pcfg; one that would is cut at its line's end.
        let length = if to.line == from.line {
            to.character - from.character
        } else {
            continue;
        };
        let delta_line = from.line - previous.0;
        let delta_start = if delta_line == 0 {
            from.character - previous.1
        } else {
            from.character
        };
        out.push(lsp_types::SemanticToken {
            delta_line,
            delta_start,
            length,
            token_type: kind as u32,
            token_modifiers_bitset: 0,
        });
        previous = (from.line, from.character);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_told_apart_by_what_they_are() {
        let text = "import \"base.pcfg\"  # the base\npartition root { type = root, size = 4G }\nextension app { requires = [libs], source = \"a#b\" }\npartition.root.format = default erofs\nremove extension.old\n";
        let found: Vec<(&str, Kind)> = tokens(text)
            .into_iter()
            .map(|(s, e, k)| (&text[s..e], k))
            .collect();
        let kind_of = |word: &str| -> Vec<Kind> {
            found
                .iter()
                .filter(|(w, _)| *w == word)
                .map(|(_, k)| *k)
                .collect()
        };
        assert_eq!(kind_of("import"), [Kind::Keyword]);
        assert_eq!(kind_of("\"base.pcfg\""), [Kind::Str]);
        assert_eq!(kind_of("# the base"), [Kind::Comment]);
        // `root` the label, `root` the partition type (a symbol), `root` in a path (a label).
        assert_eq!(kind_of("root"), [Kind::Label, Kind::Symbol, Kind::Label]);
        assert_eq!(kind_of("partition"), [Kind::Block, Kind::Block]);
        assert_eq!(kind_of("type"), [Kind::Field]);
        assert_eq!(kind_of("4G"), [Kind::Number]);
        assert_eq!(
            kind_of("libs"),
            [Kind::Label],
            "a reference to an extension"
        );
        assert_eq!(
            kind_of("\"a#b\""),
            [Kind::Str],
            "no comment inside a string"
        );
        assert_eq!(kind_of("default"), [Kind::Keyword]);
        assert_eq!(kind_of("erofs"), [Kind::Symbol]);
        assert_eq!(kind_of("format"), [Kind::Field]);
        assert_eq!(kind_of("remove"), [Kind::Keyword]);
        assert_eq!(kind_of("old"), [Kind::Label]);
        assert_eq!(kind_of("="), [Kind::Operator; 5]);
    }

    /// Every example and standard library file: tokens in order, never overlapping, each on
    /// one line, and every letter or digit inside one (a word, a string or a comment).
    #[test]
    fn every_word_of_every_example_is_a_token() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<std::path::PathBuf> = walkdir::WalkDir::new(root.join("examples"))
            .into_iter()
            .chain(walkdir::WalkDir::new(root.join("lang/std")))
            .filter_map(Result::ok)
            .map(walkdir::DirEntry::into_path)
            .filter(|p| p.extension().is_some_and(|e| e == "pcfg"))
            .collect();
        files.sort();
        assert!(files.len() > 5, "{files:?}");
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read");
            let found = tokens(&text);
            let mut covered = vec![false; text.len()];
            let mut last_end = 0;
            for &(start, end, kind) in &found {
                assert!(start >= last_end, "{}: overlap at {start}", file.display());
                assert!(
                    !text[start..end].contains('\n'),
                    "{}: {kind:?}",
                    file.display()
                );
                covered[start..end].iter_mut().for_each(|c| *c = true);
                last_end = end;
            }
            for (i, c) in text.char_indices() {
                assert!(
                    !c.is_alphanumeric() || covered[i],
                    "{}: `{c}` at byte {i} has no token",
                    file.display()
                );
            }
        }
    }

    #[test]
    fn tokens_are_encoded_relative_to_the_one_before() {
        let text = "system {\n  name = \"é\"\n}\n";
        let file = super::super::convert::indexed(text);
        let encoded = encode(&file, &tokens(text));
        let plain: Vec<(u32, u32, u32, u32)> = encoded
            .iter()
            .map(|t| (t.delta_line, t.delta_start, t.length, t.token_type))
            .collect();
        assert_eq!(
            plain,
            [(0, 0, 6, 0), (1, 2, 4, 2), (0, 5, 1, 7), (0, 2, 3, 4)],
            "the string is three UTF-16 units"
        );
    }
}
