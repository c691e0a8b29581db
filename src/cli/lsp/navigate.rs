//! What is under the cursor, and what the server says about it: the resolved value at a path
//! with the definition that set it and every one it overrode (what `pcfg why` prints) and the
//! field's schema; the file an `import` names.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::resolve::Node;
use crate::schema::Ty;
use crate::source::FileId;
use crate::syntax::ast::{Ident, Item, ValueKind};
use crate::syntax::parse_prefix;

/// The thing at an offset of a file.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Target {
    /// A field or block, by its path from the top (`partition.root.size`).
    Path(Vec<String>),
    /// An `import`, as written.
    Import(String),
    /// A name in a list that refers to an extension (`requires = [libs]`, `overrides`).
    Extension(String),
}

/// The kind of block the field at `prefix` + `segments` names in its value, as the schema types it
/// (`extension.app.requires`: `extension`).
pub(super) fn refers_to<S: AsRef<str>>(prefix: &[S], segments: &[Ident]) -> Option<&'static str> {
    let path: Vec<&str> = prefix
        .iter()
        .map(AsRef::as_ref)
        .chain(segments.iter().map(|s| s.name.as_str()))
        .collect();
    crate::schema::field_at(&path)?.ty.referenced()
}

/// What is at byte `offset` of `text` (parsed as far as it parses).
pub(super) fn target_at(text: &str, offset: usize) -> Option<Target> {
    let (file, _) = parse_prefix(FileId::FIRST, text);
    let offset = u32::try_from(offset).ok()?;
    in_items(&file.items, offset, &mut Vec::new())
}

fn in_items(items: &[Item], offset: u32, prefix: &mut Vec<String>) -> Option<Target> {
    let within = |start: u32, end: u32| start <= offset && offset <= end;
    for item in items {
        match item {
            Item::Import(import) if within(import.span.start, import.span.end) => {
                return Some(Target::Import(import.path.clone()));
            }
            Item::Block(block) if within(block.span.start, block.span.end) => {
                prefix.push(block.kind.name.as_str().to_owned());
                if let Some(label) = &block.label {
                    prefix.push(label.name.as_str().to_owned());
                }
                let header = block.header_span();
                if within(header.start, header.end) {
                    return Some(Target::Path(prefix.clone()));
                }
                return in_items(&block.items, offset, prefix)
                    .or_else(|| Some(Target::Path(prefix.clone())));
            }
            Item::Assign(assign) if within(assign.span.start, assign.span.end) => {
                let segments = &assign.path.segments;
                // On a name in a list of extensions (as the schema types the field): that
                // extension.
                let names_extensions = refers_to(prefix, segments) == Some("extension");
                if let (true, ValueKind::List(list)) = (names_extensions, &assign.value.kind) {
                    for value in list {
                        if let ValueKind::Symbol(name) = &value.kind {
                            if within(value.span.start, value.span.end) {
                                return Some(Target::Extension(name.as_str().to_owned()));
                            }
                        }
                    }
                }
                // On a segment of the path: the path up to it; elsewhere: the whole path.
                let upto = segments
                    .iter()
                    .position(|s| within(s.span.start, s.span.end))
                    .map_or(segments.len(), |i| i + 1);
                prefix.extend(segments[..upto].iter().map(|s| s.name.as_str().to_owned()));
                return Some(Target::Path(prefix.clone()));
            }
            Item::Remove(remove) if within(remove.span.start, remove.span.end) => {
                prefix.extend(
                    remove
                        .path
                        .segments
                        .iter()
                        .map(|s| s.name.as_str().to_owned()),
                );
                return Some(Target::Path(prefix.clone()));
            }
            _ => {}
        }
    }
    None
}

/// A name that may be written at a place.
pub(super) struct Completion {
    pub(super) name: String,
    /// The text inserted, when it is not `name`.
    pub(super) insert: Option<String>,
    /// A field's type, or what the name is.
    pub(super) detail: String,
    pub(super) kind: Name,
}

pub(super) enum Name {
    Field,
    Block,
    Keyword,
    /// A symbol, a boolean, `auto` or one of a few numbers.
    Value,
    /// The label of a declared block (`requires = [libs]`).
    Label,
}

/// What may be written as the value of the field at `path` (labels included): its symbols,
/// `true` and `false`, `auto`, its few numbers, or the labels `labels` gives for the kind of block
/// it refers to. Outside a list, a list field's items are offered in brackets.
pub(super) fn value_completions(
    path: &[String],
    in_list: bool,
    labels: &dyn Fn(&str) -> Vec<String>,
) -> Vec<Completion> {
    let parts: Vec<&str> = path.iter().map(String::as_str).collect();
    let Some(field) = crate::schema::field_at(&parts) else {
        return Vec::new();
    };
    let (ty, bracket) = match (&field.ty, in_list) {
        (Ty::List(item), false) => (*item, true),
        (Ty::List(item), true) => (*item, false),
        (ty, _) => (ty, false),
    };
    let words: Vec<(String, Name)> = match ty {
        Ty::Symbol(symbols) => symbols
            .iter()
            .map(|s| ((*s).to_owned(), Name::Value))
            .collect(),
        Ty::Bool => vec![
            ("true".to_owned(), Name::Value),
            ("false".to_owned(), Name::Value),
        ],
        Ty::SizeOrAuto => vec![("auto".to_owned(), Name::Value)],
        Ty::OneOf(numbers) => numbers
            .iter()
            .map(|n| (n.to_string(), Name::Value))
            .collect(),
        // An extension does not require or override itself.
        Ty::Reference(kind) => labels(kind)
            .into_iter()
            .filter(|label| !(parts.first() == Some(kind) && parts.get(1) == Some(&label.as_str())))
            .map(|label| (label, Name::Label))
            .collect(),
        Ty::Str(_) | Ty::Int { .. } | Ty::Size | Ty::List(_) => Vec::new(),
    };
    let detail = ty.describe();
    words
        .into_iter()
        .map(|(word, kind)| Completion {
            insert: bracket.then(|| format!("[{word}]")),
            name: word,
            detail: detail.clone(),
            kind,
        })
        .collect()
}

/// What may be written inside the block at `path`: its fields (with their types) and nested
/// blocks, as the schema has them; at the top level, the block kinds and the keywords.
pub(super) fn completions(path: &[String]) -> Vec<Completion> {
    let parts: Vec<&str> = path.iter().map(String::as_str).collect();
    let Some(schema) = crate::schema::block_at(&parts) else {
        return Vec::new();
    };
    let fields = schema.fields.iter().map(|f| Completion {
        name: f.name.to_owned(),
        insert: None,
        detail: f.ty.describe(),
        kind: Name::Field,
    });
    let blocks = schema.blocks.iter().map(|b| Completion {
        name: b.name.to_owned(),
        insert: None,
        detail: if b.labelled {
            "block, with a label"
        } else {
            "block"
        }
        .to_owned(),
        kind: Name::Block,
    });
    let keywords = ["import", "remove"]
        .into_iter()
        .filter(|_| path.is_empty())
        .map(|keyword| Completion {
            name: keyword.to_owned(),
            insert: None,
            detail: "keyword".to_owned(),
            kind: Name::Keyword,
        });
    fields.chain(blocks).chain(keywords).collect()
}

/// The labels a file gives blocks of `kind` at its top level: in headers (`extension libs { }`)
/// and in paths (`extension.libs.kind = sysext`).
pub(super) fn labels_of(items: &[Item], kind: &str) -> Vec<String> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Block(block) if block.kind.name == kind => block.label.as_ref(),
            Item::Assign(assign) => match assign.path.segments.as_slice() {
                [first, label, _, ..] if first.name == kind => Some(label),
                _ => None,
            },
            _ => None,
        })
        .map(|label| label.name.as_str().to_owned())
        .collect()
}

/// The outline of a file: each block with its label, and the fields set in it, nested.
pub(super) fn outline(text: &str) -> Vec<Symbol> {
    let (file, _) = parse_prefix(FileId::FIRST, text);
    symbols(&file.items)
}

/// One entry of an outline: a name, a range and a selection range (byte offsets), whether it
/// is a block, and what it holds.
pub(super) struct Symbol {
    pub(super) name: String,
    pub(super) span: (u32, u32),
    pub(super) name_span: (u32, u32),
    pub(super) block: bool,
    pub(super) children: Vec<Symbol>,
}

fn symbols(items: &[Item]) -> Vec<Symbol> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Block(block) => {
                let header = block.header_span();
                let name = match &block.label {
                    Some(label) => format!("{} {}", block.kind.name, label.name),
                    None => block.kind.name.as_str().to_owned(),
                };
                Some(Symbol {
                    name,
                    span: (block.span.start, block.span.end),
                    name_span: (header.start, header.end),
                    block: true,
                    children: symbols(&block.items),
                })
            }
            Item::Assign(assign) => Some(Symbol {
                name: assign.path.dotted(),
                span: (assign.span.start, assign.span.end),
                name_span: (assign.path.span.start, assign.path.span.end),
                block: false,
                children: Vec::new(),
            }),
            Item::Import(_) | Item::Remove(_) => None,
        })
        .collect()
}

/// The hover text (Markdown) of `path` in `compilation`: its resolved value and provenance,
/// or that it is a block, or that nothing sets it; then the field's schema.
pub(super) fn hover(compilation: &crate::compile::Compilation, path: &[String]) -> String {
    let dotted = path.join(".");
    let mut text = String::new();
    let parts: Vec<&str> = path.iter().map(String::as_str).collect();
    let entry = compilation
        .resolved
        .as_ref()
        .and_then(|r| Some((r, r.root.get(&parts)?)));
    match entry {
        Some((resolved, entry)) => match &entry.node {
            Node::Leaf(leaf) => {
                let _ = writeln!(text, "```pcfg\n{dotted} = {}\n```", leaf.value.kind);
                let mut history = String::new();
                super::super::why::describe_leaf(
                    &mut history,
                    leaf,
                    resolved,
                    &compilation.sources,
                );
                let _ = writeln!(text, "```text{history}```");
            }
            Node::Block(block) => {
                let _ = writeln!(
                    text,
                    "`{dotted}` is a block with {} {}",
                    block.entries.len(),
                    if block.entries.len() == 1 {
                        "entry"
                    } else {
                        "entries"
                    }
                );
                let derived = derived_fields(compilation, &parts, block);
                if !derived.is_empty() {
                    let _ = writeln!(text, "\nderived, not written:\n```pcfg\n{derived}```");
                }
            }
        },
        None if compilation.resolved.is_some() => {
            let _ = writeln!(text, "`{dotted}` is not set in this configuration");
        }
        None => {
            let _ = writeln!(
                text,
                "`{dotted}`: the configuration does not resolve yet (see its errors)"
            );
        }
    }
    let mut schema = Vec::new();
    if super::super::explain_field(&dotted, &mut schema).is_ok() {
        let _ = write!(text, "\n---\n{}", String::from_utf8_lossy(&schema));
    }
    text
}

/// The fields of the block at `path` that are not written and that pcfg derives, each with
/// its value and its rule (what `pcfg why FIELD` prints for it), one per line.
fn derived_fields(
    compilation: &crate::compile::Compilation,
    path: &[&str],
    block: &crate::resolve::Block,
) -> String {
    let (Some(model), Some(schema)) = (&compilation.model, crate::schema::block_at(path)) else {
        return String::new();
    };
    let mut out = String::new();
    for field in schema.fields {
        if block.entries.contains_key(field.name) {
            continue;
        }
        let mut at = path.to_vec();
        at.push(field.name);
        if let Some((value, rule)) = super::super::why::derived(&at, model) {
            let _ = writeln!(out, "{} = {value}  # {rule}", field.name);
        }
    }
    out
}

/// Where `path` is decided: the definition that set the value (or, for a block, where it is
/// first declared), as a span of `compilation`'s sources.
pub(super) fn winning_definition(
    compilation: &crate::compile::Compilation,
    path: &[String],
) -> Option<crate::source::Span> {
    let parts: Vec<&str> = path.iter().map(String::as_str).collect();
    let entry = compilation.resolved.as_ref()?.root.get(&parts)?;
    match &entry.node {
        Node::Leaf(leaf) => leaf
            .winner_place()
            .map(|(_, span)| span)
            .or_else(|| leaf.provenance.applied().last().map(|site| site.span)),
        Node::Block(block) => block.defined_at.first().copied(),
    }
}

/// Every definition of `path` in the configuration: the one that won, the list operations
/// applied on it, and every one it overrode (or, for a block, every place it is declared).
pub(super) fn definitions(
    compilation: &crate::compile::Compilation,
    path: &[String],
) -> Vec<crate::source::Span> {
    let parts: Vec<&str> = path.iter().map(String::as_str).collect();
    let Some(entry) = compilation
        .resolved
        .as_ref()
        .and_then(|r| r.root.get(&parts))
    else {
        return Vec::new();
    };
    match &entry.node {
        Node::Leaf(leaf) => {
            let p = &leaf.provenance;
            let winner = leaf.winner();
            winner
                .iter()
                .chain(p.applied())
                .chain(p.overridden().iter().map(|(site, _)| site))
                .map(|site| site.span)
                .collect()
        }
        Node::Block(block) => block.defined_at.clone(),
    }
}

/// The file an import written in `from` names, when it is on disk (the standard library's
/// files are embedded and have no file to open).
pub(super) fn import_target(from: &Path, import: &str) -> Option<PathBuf> {
    if import.starts_with(crate::resolve::stdlib::PREFIX) {
        return None;
    }
    let dir = from.parent()?;
    Some(crate::vfs::normalize(&dir.join(import)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(dotted: &str) -> Target {
        Target::Path(dotted.split('.').map(str::to_owned).collect())
    }

    #[test]
    fn the_target_is_the_path_under_the_cursor() {
        let text = "import \"base.pcfg\"\npartition root {\n  size = 4G\n}\nsystem.cmdline += [\"quiet\"]\n";
        let at = |needle: &str| text.find(needle).unwrap_or(0);
        assert_eq!(
            target_at(text, at("base")),
            Some(Target::Import("base.pcfg".to_owned()))
        );
        assert_eq!(target_at(text, at("root")), Some(path("partition.root")));
        assert_eq!(
            target_at(text, at("size")),
            Some(path("partition.root.size"))
        );
        assert_eq!(target_at(text, at("4G")), Some(path("partition.root.size")));
        assert_eq!(target_at(text, at("system")), Some(path("system")));
        assert_eq!(target_at(text, at("cmdline")), Some(path("system.cmdline")));
        assert_eq!(target_at(text, at("quiet")), Some(path("system.cmdline")));
        assert_eq!(target_at(text, text.len()), None);
        let requires = "extension app { requires = [libs, more] }\n";
        assert_eq!(
            target_at(requires, requires.find("more").unwrap_or(0)),
            Some(Target::Extension("more".to_owned()))
        );
        assert_eq!(
            target_at(requires, requires.find("requires").unwrap_or(0)),
            Some(path("extension.app.requires"))
        );
    }

    #[test]
    fn completions_follow_the_schema() {
        let names = |path: &[&str]| -> Vec<String> {
            let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
            completions(&path).into_iter().map(|c| c.name).collect()
        };
        let top = names(&[]);
        assert!(
            ["system", "partition", "extension", "import"]
                .iter()
                .all(|n| top.contains(&(*n).to_owned())),
            "{top:?}"
        );
        let partition = names(&["partition", "root"]);
        assert!(
            partition.contains(&"size-min".to_owned()) && partition.contains(&"format".to_owned()),
            "{partition:?}"
        );
        assert!(names(&["nothing"]).is_empty());
    }

    #[test]
    fn values_follow_the_field() {
        let values = |path: &str, in_list: bool| -> Vec<(String, Option<String>)> {
            let path: Vec<String> = path.split('.').map(str::to_owned).collect();
            let labels = |kind: &str| -> Vec<String> {
                assert_eq!(kind, "extension");
                vec!["app".to_owned(), "libs".to_owned()]
            };
            value_completions(&path, in_list, &labels)
                .into_iter()
                .map(|c| (c.name, c.insert))
                .collect()
        };
        let formats = values("partition.root.format", false);
        assert!(
            formats.contains(&("erofs".to_owned(), None))
                && formats.contains(&("ext4".to_owned(), None)),
            "{formats:?}"
        );
        assert!(values("partition.root.type", false).contains(&("esp".to_owned(), None)));
        assert_eq!(values("partition.root.size", false), []);
        assert_eq!(
            values("partition.root.factory-reset", false),
            [("true".to_owned(), None), ("false".to_owned(), None)]
        );
        // An extension's references: the other extensions, bracketed outside a list.
        assert_eq!(
            values("extension.app.requires", true),
            [("libs".to_owned(), None)]
        );
        assert_eq!(
            values("extension.app.requires", false),
            [("libs".to_owned(), Some("[libs]".to_owned()))]
        );
        assert!(values("nothing.here", false).is_empty());
    }

    #[test]
    fn the_outline_nests_blocks_and_their_fields() {
        let outline = outline(
            "system { name = \"x\" }\npartition root {\n  size = 4G\n}\nsystem.version = \"1\"\n",
        );
        let names: Vec<&str> = outline.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["system", "partition root", "system.version"]);
        assert_eq!(outline[1].children.len(), 1);
        assert_eq!(outline[1].children[0].name, "size");
        assert!(outline[1].block && !outline[2].block);
    }
}
