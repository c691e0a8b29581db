//! The schema of the language (v1) and its validation of a resolved tree.
//!
//! [`v1`] holds the schema as data; [`validate`] checks a resolved configuration against it
//! (unknown names, types, symbols, ranges, required fields, references), and [`headers`]
//! checks block headers in each file, where a wrong label is best pointed at.

pub mod domains;
mod headers;
pub mod v1;
mod validate;

pub use headers::check_headers;
pub use validate::{validate, BASE};

/// A block kind: its fields and nested blocks, and whether it takes a label.
#[derive(Debug)]
pub struct BlockSchema {
    pub name: &'static str,
    pub labelled: bool,
    pub fields: &'static [Field],
    pub blocks: &'static [BlockSchema],
}

impl BlockSchema {
    #[must_use]
    pub const fn plain(
        name: &'static str,
        fields: &'static [Field],
        blocks: &'static [BlockSchema],
    ) -> Self {
        BlockSchema {
            name,
            labelled: false,
            fields,
            blocks,
        }
    }

    #[must_use]
    pub const fn labelled(
        name: &'static str,
        fields: &'static [Field],
        blocks: &'static [BlockSchema],
    ) -> Self {
        BlockSchema {
            name,
            labelled: true,
            fields,
            blocks,
        }
    }

    #[must_use]
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    #[must_use]
    pub fn block(&self, name: &str) -> Option<&'static BlockSchema> {
        self.blocks.iter().find(|b| b.name == name)
    }

    /// Every name allowed inside this block, fields first.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.fields
            .iter()
            .map(|f| f.name)
            .chain(self.blocks.iter().map(|b| b.name))
    }
}

/// A field of a block.
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    /// The default as users read it, when there is one.
    pub default: Option<&'static str>,
    /// Whether the field reaches an emitted file; `tests/effects.rs` holds every field to it.
    pub effect: Effect,
}

/// What a field does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Every change of its value changes a file the tools read.
    Emitted,
    /// It changes no emitted file: pcfg checks the configuration against it. The reason says
    /// what it is for (`pcfg explain PATH`, the schema chapter).
    CheckOnly(&'static str),
}

/// The type of a field's value.
#[derive(Debug)]
pub enum Ty {
    Str(Str),
    Int {
        min: u64,
        max: u64,
    },
    /// A size with a unit, or a plain integer of bytes; at least one byte.
    Size,
    SizeOrAuto,
    /// One of a few integers.
    OneOf(&'static [u64]),
    Bool,
    Symbol(&'static [&'static str]),
    List(&'static Ty),
    /// The label of a block of this kind, written as a bare name.
    Reference(&'static str),
}

/// What a string field accepts: each is a grammar in [`domains`], chosen so that a value means
/// the same to every tool that reads it. There is no "any string".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Str {
    /// The image id: letters, digits, `.`, `_` and `-`, at most 64 characters.
    ImageId,
    /// os-release `ID=`: lower-case letters, digits, `.`, `_` and `-`.
    OsId,
    /// A version: letters, digits and `.~^+-`, no `_` (the label separator).
    Version,
    /// A distribution release: letters, digits and `._~+-`.
    Release,
    /// One line of printable text.
    Text,
    /// One line of printable text without `#` (it reaches mkosi's configuration).
    Title,
    /// A package name.
    Package,
    /// One kernel command-line option.
    CmdlineOption,
    /// An absolute, normalised path.
    AbsolutePath,
    /// A path of the configuration (relative to the entry file, or absolute).
    ConfigPath,
    /// An http(s) URL or an absolute path.
    Url,
    /// A GPT partition label: at most 36 bytes (systemd-repart's limit), printable.
    GptLabel,
    /// A Flatpak application id or ref.
    FlatpakApp,
    /// A Flatpak runtime id or ref.
    FlatpakRuntime,
    /// A kernel module's name: letters, digits, `_` and `-`.
    KernelModule,
}

impl Str {
    /// How the grammar is named in messages and the schema chapter.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Str::ImageId => "an image id",
            Str::OsId => "an os-release ID",
            Str::Version => "a version",
            Str::Release => "a release",
            Str::Text => "a line of text",
            Str::Title => "a title",
            Str::Package => "a package name",
            Str::CmdlineOption => "a kernel command-line option",
            Str::AbsolutePath => "an absolute path",
            Str::ConfigPath => "a path",
            Str::Url => "a URL or an absolute path",
            Str::GptLabel => "a partition label",
            Str::FlatpakApp => "a Flatpak app",
            Str::FlatpakRuntime => "a Flatpak runtime",
            Str::KernelModule => "a kernel module",
        }
    }

    /// An example value, for help lines.
    #[must_use]
    pub fn example(self) -> &'static str {
        match self {
            Str::ImageId | Str::OsId => "\"myos\"",
            Str::Version => "\"1.0\"",
            Str::Release => "\"trixie\"",
            Str::Text => "\"My OS\"",
            Str::Title => "\"Debug\"",
            Str::Package => "\"systemd-boot\"",
            Str::CmdlineOption => "\"quiet\"",
            Str::AbsolutePath => "\"/var/log\"",
            Str::ConfigPath => "\"keys/db.key\"",
            Str::Url => "\"https://example.org/updates\"",
            Str::GptLabel => "\"root\"",
            Str::FlatpakApp => "\"org.gnome.Maps\"",
            Str::FlatpakRuntime => "\"org.gnome.Platform//47\"",
            Str::KernelModule => "\"virtio_blk\"",
        }
    }
}

impl Ty {
    /// The kind of block a value of this type names (`requires`: `extension`), itself or as the
    /// items of a list.
    #[must_use]
    pub fn referenced(&self) -> Option<&'static str> {
        match self {
            Ty::Reference(kind) => Some(kind),
            Ty::List(item) => item.referenced(),
            _ => None,
        }
    }

    /// How the type is named in messages: "a size", "one of `a`, `b`".
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Ty::Str(_) => "a string".to_owned(),
            Ty::Int { .. } => "an integer".to_owned(),
            Ty::Size => "a size".to_owned(),
            Ty::SizeOrAuto => "a size or `auto`".to_owned(),
            Ty::OneOf(values) => {
                let values: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
                format!("one of {}", values.join(", "))
            }
            Ty::Bool => "`true` or `false`".to_owned(),
            Ty::Symbol(symbols) => format!("one of {}", quote_all(symbols)),
            Ty::List(item) => format!("a list of {}", plural(item)),
            Ty::Reference(kind) => format!("the name of an `{kind}`"),
        }
    }

    /// An example of a value of this type, for help lines.
    #[must_use]
    pub fn example(&self) -> String {
        match self {
            Ty::Str(rule) => rule.example().to_owned(),
            Ty::Int { min, .. } => min.to_string(),
            Ty::Size | Ty::SizeOrAuto => "4G".to_owned(),
            Ty::OneOf(values) => values.first().map_or_else(String::new, ToString::to_string),
            Ty::Bool => "true".to_owned(),
            Ty::Symbol(symbols) => symbols.first().copied().unwrap_or("").to_owned(),
            Ty::List(item) => format!("[{}]", item.example()),
            Ty::Reference(_) => "name".to_owned(),
        }
    }
}

fn plural(ty: &Ty) -> String {
    match ty {
        Ty::Str(_) => "strings".to_owned(),
        Ty::Int { min, max } => format!("integers from {min} to {max}"),
        Ty::Reference(kind) => format!("`{kind}` names"),
        other => other.describe(),
    }
}

/// A string field of the schema, as the property tests and the fuzz targets reach it.
#[derive(Clone, Debug)]
pub struct StringField {
    /// The dotted path, with `label(kind, field)` for each labelled block.
    pub path: String,
    pub rule: Str,
    pub list: bool,
}

/// Every string field (and list of strings) of the schema, walked from the root; `label` names
/// the block of a labelled kind that holds the field (`label("extension", "app")`).
#[must_use]
pub fn string_fields(label: &dyn Fn(&str, &str) -> &'static str) -> Vec<StringField> {
    fn walk(
        schema: &BlockSchema,
        prefix: &[&str],
        label: &dyn Fn(&str, &str) -> &'static str,
        out: &mut Vec<StringField>,
    ) {
        for field in schema.fields {
            let (rule, list) = match &field.ty {
                Ty::Str(rule) => (*rule, false),
                Ty::List(Ty::Str(rule)) => (*rule, true),
                _ => continue,
            };
            let mut path: Vec<&str> = prefix.to_vec();
            if schema.labelled {
                path.push(label(schema.name, field.name));
            }
            path.push(field.name);
            out.push(StringField {
                path: path.join("."),
                rule,
                list,
            });
        }
        for block in schema.blocks {
            let mut path = prefix.to_vec();
            if schema.labelled {
                path.push(label(schema.name, ""));
            }
            path.push(block.name);
            walk(block, &path, label, out);
        }
    }
    let mut out = Vec::new();
    walk(&v1::ROOT, &[], label, &mut out);
    out
}

/// The field at a dotted path of a configuration (labels included: `partition.root.size`).
#[must_use]
pub fn field_at(path: &[&str]) -> Option<&'static Field> {
    let (name, blocks) = path.split_last()?;
    block_at(blocks)?.field(name)
}

/// The block at a dotted path of a configuration, labels included (`partition.root`); the
/// top level for an empty path.
#[must_use]
pub fn block_at(path: &[&str]) -> Option<&'static BlockSchema> {
    let mut schema: &'static BlockSchema = &v1::ROOT;
    let mut rest = path.iter();
    while let Some(segment) = rest.next() {
        schema = schema.block(segment)?;
        if schema.labelled {
            rest.next()?;
        }
    }
    Some(schema)
}

/// A dotted path of blocks written as nested blocks around `inner`, each label beside its kind
/// (`update.channel.main` is `update { channel main { INNER } }`); a name the schema does not
/// know opens a block of its own.
#[must_use]
pub fn nested(path: &[&str], inner: &str) -> String {
    let mut headers: Vec<String> = Vec::new();
    let mut schema: Option<&'static BlockSchema> = Some(&v1::ROOT);
    let mut rest = path.iter().peekable();
    while let Some(name) = rest.next() {
        schema = schema.and_then(|s| s.block(name));
        match (schema, rest.peek()) {
            (Some(block), Some(label)) if block.labelled => {
                headers.push(format!("{name} {label}"));
                rest.next();
            }
            _ => headers.push((*name).to_owned()),
        }
    }
    headers
        .iter()
        .rev()
        .fold(inner.to_owned(), |inner, header| {
            format!("{header} {{ {inner} }}")
        })
}

/// [`nested`] around `...`: what a syntax error's help suggests for a block opened after a
/// dotted path.
#[must_use]
pub fn nested_blocks(path: &[&str]) -> String {
    nested(path, "...")
}

/// The field at a dotted path, with or without the labels of labelled blocks
/// (`partition.root.size` or `partition.size`).
#[must_use]
pub fn field_at_loose(path: &[&str]) -> Option<&'static Field> {
    if let Some(field) = field_at(path) {
        return Some(field);
    }
    let (name, blocks) = path.split_last()?;
    let mut schema: &'static BlockSchema = &v1::ROOT;
    for segment in blocks {
        schema = schema.block(segment)?;
    }
    schema.field(name)
}

/// Every check-only field as `(dotted path, reason)`, labels left out (`partition.size`).
#[must_use]
pub fn check_only_fields() -> Vec<(String, &'static str)> {
    fn walk(schema: &BlockSchema, prefix: &str, out: &mut Vec<(String, &'static str)>) {
        for field in schema.fields {
            if let Effect::CheckOnly(reason) = field.effect {
                out.push((format!("{prefix}{}", field.name), reason));
            }
        }
        for block in schema.blocks {
            walk(block, &format!("{prefix}{}.", block.name), out);
        }
    }
    let mut out = Vec::new();
    walk(&v1::ROOT, "", &mut out);
    out
}

/// The items of a list field's default, which `+=` and `-=` start from when nothing else set
/// the list: `[7]` for `trust.tpm2.pcrs`, `["main"]` for a package source's `components`,
/// nothing for the others.
#[must_use]
pub fn list_default(path: &[&str]) -> Vec<crate::syntax::ast::ValueKind> {
    use crate::syntax::ast::ValueKind;
    let Some(field) = field_at(path) else {
        return Vec::new();
    };
    let (Ty::List(item), Some(default)) = (&field.ty, field.default) else {
        return Vec::new();
    };
    let items = default
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(str::trim)
        .filter(|i| !i.is_empty());
    match item {
        Ty::Int { .. } => items
            .filter_map(|i| i.parse().ok())
            .map(ValueKind::Int)
            .collect(),
        Ty::Str(_) => items
            .filter_map(|i| i.strip_prefix('"')?.strip_suffix('"'))
            .map(|i| ValueKind::Str(i.into()))
            .collect(),
        _ => Vec::new(),
    }
}

/// `a`, `b`, `c` with backticks.
#[must_use]
pub fn quote_all(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    quoted.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The help for a block opened after a dotted path suggests nested blocks that parse and
    /// whose headers are right (each label beside its kind), for every block of the schema.
    #[test]
    fn nested_suggestions_are_valid_blocks() {
        fn walk(schema: &BlockSchema, prefix: &[&str], count: &mut usize) {
            for block in schema.blocks {
                let mut path = prefix.to_vec();
                path.push(block.name);
                if block.labelled {
                    path.push("x");
                }
                let text = nested(&path, "");
                let file = crate::syntax::parse(crate::source::FileId::FIRST, &text)
                    .unwrap_or_else(|e| panic!("{text}: {e:?}"));
                let mut diagnostics = Vec::new();
                check_headers(&file, &mut diagnostics);
                assert!(diagnostics.is_empty(), "{text}: {diagnostics:?}");
                *count += 1;
                walk(block, &path, count);
            }
        }
        let mut count = 0;
        walk(&v1::ROOT, &[], &mut count);
        assert!(count > 10, "{count}");
        assert_eq!(
            nested(&["update", "channel", "main"], "..."),
            "update { channel main { ... } }"
        );
    }

    /// Every list field's default is a list literal `+=` can start from: `[]`, integers or strings.
    #[test]
    fn list_defaults_are_literals() {
        fn walk(schema: &BlockSchema, prefix: &[&str], count: &mut usize) {
            for field in schema.fields {
                if let Ty::List(item) = &field.ty {
                    let default = field.default.unwrap_or("[]");
                    let mut path = prefix.to_vec();
                    path.push(field.name);
                    let items = list_default(&path);
                    let written: Vec<String> = items.iter().map(ToString::to_string).collect();
                    assert_eq!(default, format!("[{}]", written.join(", ")), "{path:?}");
                    assert!(items.is_empty() || matches!(item, Ty::Int { .. } | Ty::Str(_)));
                    *count += 1;
                }
            }
            for block in schema.blocks {
                let mut path = prefix.to_vec();
                path.push(block.name);
                if block.labelled {
                    path.push("label");
                }
                walk(block, &path, count);
            }
        }
        let mut count = 0;
        walk(&v1::ROOT, &[], &mut count);
        assert!(count >= 7, "{count} list fields");
        assert_eq!(list_default(&["trust", "tpm2", "pcrs"]).len(), 1);
    }
}
