//! Validation of a resolved tree against the v1 schema. Reports every problem, not the first.

use super::{domains, quote_all, v1, BlockSchema, Field, Str, Ty};
use crate::diag::{did_you_mean, excerpt, Code, Diagnostic, Label};
use crate::resolve::{Block, Entry, Node, Resolved};
use crate::source::{SourceMap, Span};
use crate::syntax::ast::{Value, ValueKind};
use compact_str::CompactString;

/// The largest size a field takes, 1 EiB: far beyond any disk, and small enough that sums of
/// sizes never overflow.
pub(crate) const MAX_SIZE: u64 = 1 << 60;
/// The name `overrides` uses for the base tree, and mkosi for the tree every image builds on;
/// no extension may take it.
pub const BASE: &str = "base";

/// Checks the resolved configuration; `entry_span` is where to report what is missing
/// altogether (the start of the entry file).
pub fn validate(
    resolved: &Resolved,
    sources: &SourceMap,
    entry_span: Span,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut validator = Validator {
        sources,
        resolved,
        diagnostics,
        suggestions_left: SUGGESTION_BUDGET,
    };
    validator.block(&resolved.root, &v1::ROOT, &mut Vec::new(), entry_span);
}

/// How many names one check may compare an unknown reference with to suggest one: each unknown
/// reference costs as many comparisons as there are names of its kind, so thousands of unknown
/// references among thousands of names would cost their product. Past this, the help line says
/// how to declare the name instead (the first hundreds of references still get suggestions).
const SUGGESTION_BUDGET: usize = 1_000_000;

struct Validator<'a> {
    sources: &'a SourceMap,
    resolved: &'a Resolved,
    diagnostics: &'a mut Vec<Diagnostic>,
    /// Comparisons left for did-you-mean suggestions of references.
    suggestions_left: usize,
}

impl Validator<'_> {
    fn block(
        &mut self,
        block: &Block,
        schema: &BlockSchema,
        path: &mut Vec<CompactString>,
        at: Span,
    ) {
        for (name, entry) in &block.entries {
            path.push(name.clone());
            if let Some(field) = schema.field(name) {
                self.field(entry, field, path);
            } else if let Some(kind) = schema.block(name) {
                self.nested(entry, kind, path);
            } else if Self::label_position(entry, schema) {
                self.unexpected_label(entry.key_span(), schema, path);
            } else {
                self.unknown(entry.key_span(), schema, path);
            }
            path.pop();
        }
        self.missing(block, schema, path, at);
    }

    fn nested(&mut self, entry: &Entry, kind: &BlockSchema, path: &mut Vec<CompactString>) {
        let Node::Block(block) = &entry.node else {
            self.expected_block(entry, kind, path);
            return;
        };
        if !kind.labelled {
            self.block(block, kind, path, entry.key_span());
            return;
        }
        for (label, labelled) in &block.entries {
            // `extension true { }`: a reference to it would read as the value `true`.
            if ["true", "false", "auto"].contains(&label.as_str()) {
                self.diagnostics.push(
                    Diagnostic::new(Code::InvalidValue, format!("`{label}` cannot be the label of a `{}` block", kind.name), Label::new(labelled.key_span(), "a value, not a name"))
                        .with_help(format!("`{label}` is a value wherever a name is expected (`requires = [{label}]` is the value `{label}`), so nothing could refer to it: choose another name")),
                );
            }
            // `extension 10 { }`, `partition 4G { }`: a reference would read as a number.
            if label.starts_with(|c: char| c.is_ascii_digit()) && !crate::syntax::is_name(label) {
                self.diagnostics.push(
                    Diagnostic::new(Code::InvalidValue, format!("`{label}` cannot be the label of a `{}` block", kind.name), Label::new(labelled.key_span(), "a number, not a name"))
                        .with_help(format!("`{label}` reads as a number or a size wherever a name is expected (`requires = [{label}]`), so nothing could refer to it: a label that starts with a digit needs letters that are not a size unit, e.g. `{label}-x` or `x{label}`")),
                );
            }
            if kind.name == "extension" && label == BASE {
                self.diagnostics.push(
                    Diagnostic::new(Code::InvalidValue, "`base` cannot name an extension", Label::new(labelled.key_span(), "reserved"))
                        .with_help("`base` names the base tree (in `overrides` and in the mkosi project): choose another name, e.g. `base-libs`"),
                );
            }
            match &labelled.node {
                Node::Block(inner) => {
                    path.push(label.clone());
                    self.block(inner, kind, path, labelled.key_span());
                    path.pop();
                }
                Node::Leaf(_) => {
                    let field_hint = kind
                        .field(label)
                        .map_or_else(String::new, |_| format!(": `{}.NAME.{label}`", kind.name));
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::MissingLabel,
                            format!("`{}.{label}` names no `{}`", path.join("."), kind.name),
                            Label::new(labelled.key_span(), "a label is missing before this"),
                        )
                        .with_help(format!(
                            "a `{}` needs a label{field_hint}, as in `{} NAME {{ {label} = ... }}`",
                            kind.name, kind.name
                        )),
                    );
                }
            }
        }
    }

    /// `trust.tpm2.t.pcrs`: a name that is neither a field nor a block of a block that takes
    /// no label, followed by the block's own fields, stands where a label would — the dotted
    /// form of `trust { tpm2 t { pcrs = ... } }`, and reported as that form is.
    fn label_position(entry: &Entry, schema: &BlockSchema) -> bool {
        let Node::Block(inner) = &entry.node else {
            return false;
        };
        !schema.name.is_empty()
            && !schema.labelled
            && !inner.entries.is_empty()
            && inner
                .entries
                .keys()
                .all(|k| schema.field(k).is_some() || schema.block(k).is_some())
    }

    fn unexpected_label(&mut self, key_span: Span, schema: &BlockSchema, path: &[CompactString]) {
        let (label, parent) = path.split_last().expect("path has the label");
        self.diagnostics.push(
            Diagnostic::new(
                Code::UnexpectedLabel,
                format!("`{}` takes no label", schema.name),
                Label::new(key_span, "unexpected label"),
            )
            .with_help(format!(
                "remove `{label}`: write `{}.FIELD = ...`",
                parent.join(".")
            )),
        );
    }

    fn expected_block(&mut self, entry: &Entry, kind: &BlockSchema, path: &[CompactString]) {
        let example = if kind.labelled {
            format!("{} NAME {{ ... }}", kind.name)
        } else {
            format!("{} {{ ... }}", kind.name)
        };
        self.diagnostics.push(
            Diagnostic::new(
                Code::TypeMismatch,
                format!("`{}` is a block, not a value", path.join(".")),
                Label::new(entry.key_span(), "given a value"),
            )
            .with_help(format!(
                "write `{example}`, or set one of its fields with `{}.FIELD = ...`",
                path.join(".")
            )),
        );
    }

    fn unknown(&mut self, key_span: Span, schema: &BlockSchema, path: &[CompactString]) {
        let (name, parent) = path.split_last().expect("path has the unknown name");
        let suggestion = did_you_mean(name, schema.names());
        let (message, help) = if schema.name.is_empty() {
            (
                format!("unknown block kind `{name}`"),
                format!(
                    "the top-level blocks are {}",
                    quote_all(&schema.names().collect::<Vec<_>>())
                ),
            )
        } else {
            (
                format!(
                    "unknown field `{name}` in `{}`",
                    display_parent(parent, schema)
                ),
                format!(
                    "`{}` has {}",
                    schema.name,
                    quote_all(&schema.names().collect::<Vec<_>>())
                ),
            )
        };
        let mut diagnostic =
            Diagnostic::new(Code::UnknownField, message, Label::new(key_span, "unknown"));
        diagnostic = match suggestion {
            Some(similar) => diagnostic
                .with_help(format!("did you mean `{similar}`?"))
                .with_fix(key_span, similar),
            None => diagnostic.with_help(help),
        };
        self.diagnostics.push(diagnostic);
    }

    fn missing(&mut self, block: &Block, schema: &BlockSchema, path: &[CompactString], at: Span) {
        for field in schema.fields.iter().filter(|f| f.required) {
            if block.entries.contains_key(field.name) {
                continue;
            }
            let at = block.defined_at.last().copied().unwrap_or(at);
            let within = if path.is_empty() {
                String::new()
            } else {
                format!(" in `{}`", path.join("."))
            };
            let prefix = if path.is_empty() {
                String::new()
            } else {
                format!("{}.", path.join("."))
            };
            let help = match &field.ty {
                Ty::Symbol(symbols) => format!(
                    "add `{} = {}` (one of {})",
                    field.name,
                    field.ty.example(),
                    quote_all(symbols)
                ),
                _ => format!("add `{prefix}{} = {}`", field.name, field.ty.example()),
            };
            self.diagnostics.push(
                Diagnostic::new(
                    Code::MissingField,
                    format!("missing required field `{}`{within}", field.name),
                    Label::new(at, "declared here"),
                )
                .with_help(help),
            );
        }
        if schema.name.is_empty() && !block.entries.contains_key("system") {
            self.diagnostics.push(
                Diagnostic::new(Code::MissingField, "missing required block `system`", Label::new(at, "in this file"))
                    .with_help("add `system { name = \"myos\" }`, or import a base with `import \"std/particleos\"`"),
            );
        }
    }

    fn field(&mut self, entry: &Entry, field: &Field, path: &[CompactString]) {
        let Node::Leaf(leaf) = &entry.node else {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    format!("`{}` is a field, not a block", path.join(".")),
                    Label::new(entry.key_span(), "used as a block"),
                )
                .with_help(format!(
                    "write `{} = {}`",
                    field.name,
                    field.ty.example()
                )),
            );
            return;
        };
        self.value(&leaf.value, &field.ty, path);
    }

    fn value(&mut self, value: &Value, ty: &Ty, path: &[CompactString]) {
        let ok = match (ty, &value.kind) {
            (Ty::Str(rule), ValueKind::Str(s)) => return self.string(value.span, s, *rule, path),
            (Ty::Int { min, max }, ValueKind::Int(n)) => {
                return self.range(value.span, *n, *min, *max, path)
            }
            (Ty::Size | Ty::SizeOrAuto, ValueKind::Int(0) | ValueKind::Size(0)) => {
                self.out_of_range(
                    value.span,
                    path,
                    "a size of zero bytes",
                    "give a size of at least one byte, e.g. `512M`".to_owned(),
                );
                return;
            }
            (Ty::Size | Ty::SizeOrAuto, ValueKind::Int(n) | ValueKind::Size(n))
                if *n > MAX_SIZE =>
            {
                self.out_of_range(
                    value.span,
                    path,
                    &format!("{n} bytes is more than any disk holds"),
                    "a size is at most `1E` (an exbibyte); write the size you mean, e.g. `4T`"
                        .to_owned(),
                );
                return;
            }
            (Ty::Size | Ty::SizeOrAuto, ValueKind::Int(_) | ValueKind::Size(_))
            | (Ty::SizeOrAuto, ValueKind::Auto)
            | (Ty::Bool, ValueKind::Bool(_)) => true,
            (Ty::OneOf(values), ValueKind::Int(n)) => {
                if !values.contains(n) {
                    let help = format!("write {}", ty.describe());
                    self.out_of_range(value.span, path, &format!("`{n}` is not allowed"), help);
                }
                return;
            }
            // `size = 4X`: a word that starts with a digit is read as a name (it could be
            // `1password`); where a number is expected, it gets the number's own diagnostic.
            (Ty::Size | Ty::SizeOrAuto | Ty::Int { .. } | Ty::OneOf(_), ValueKind::Symbol(s))
                if s.starts_with(|c: char| c.is_ascii_digit()) =>
            {
                if let Some(error) = crate::syntax::number_error(s, value.span) {
                    self.diagnostics
                        .push(error.to_diagnostic(&crate::schema::nested_blocks));
                    return;
                }
                false
            }
            (Ty::Symbol(symbols), ValueKind::Symbol(s)) => {
                return self.symbol(value.span, s, symbols, path)
            }
            (Ty::Reference(kind), ValueKind::Symbol(name)) => {
                return self.reference(value.span, name, kind, path)
            }
            (Ty::List(item), ValueKind::List(items)) => {
                for element in items {
                    self.value(element, item, path);
                }
                return;
            }
            _ => false,
        };
        if !ok {
            self.mismatch(value, ty, path);
        }
    }

    fn mismatch(&mut self, value: &Value, ty: &Ty, path: &[CompactString]) {
        let found = describe_value(&value.kind);
        let written = self.sources.get(value.span.file).slice(value.span);
        let help = match (ty, &value.kind) {
            // `weight = default` with nothing after it: the keyword needs a value.
            (_, ValueKind::Symbol(s)) if s == "default" && !matches!(ty, Ty::Str(_)) => format!(
                "`default` is a keyword only before a value: write `= default {}` for a weak value, or leave the field unset for the schema's default",
                ty.example()
            ),
            (Ty::Str(_), ValueKind::Symbol(_) | ValueKind::Int(_)) => {
                format!("quote it: `\"{written}\"`")
            }
            (Ty::Symbol(_) | Ty::Reference(_), ValueKind::Str(s)) => {
                format!("write it without quotes: `{s}`")
            }
            (Ty::List(_), _) => format!("put it in brackets: `[{written}]`"),
            (Ty::Int { .. }, ValueKind::Size(_)) => {
                "this field counts, it does not measure: write a plain integer without unit"
                    .to_owned()
            }
            _ => format!("write {}, e.g. `{}`", ty.describe(), ty.example()),
        };
        self.diagnostics.push(
            Diagnostic::new(
                Code::TypeMismatch,
                format!(
                    "`{}` expects {}, found {found}",
                    path.join("."),
                    ty.describe()
                ),
                Label::new(value.span, found.clone()),
            )
            .with_help(help),
        );
    }

    fn symbol(&mut self, span: Span, symbol: &str, symbols: &[&str], path: &[CompactString]) {
        if symbols.contains(&symbol) {
            return;
        }
        let diagnostic = Diagnostic::new(
            Code::UnknownSymbol,
            format!("unknown value `{symbol}` for `{}`", path.join(".")),
            Label::new(span, "not one of the allowed values"),
        );
        self.diagnostics
            .push(match did_you_mean(symbol, symbols.iter().copied()) {
                Some(similar) => diagnostic
                    .with_help(format!("did you mean `{similar}`?"))
                    .with_fix(span, similar),
                None => diagnostic.with_help(format!("write one of {}", quote_all(symbols))),
            });
    }

    fn reference(&mut self, span: Span, name: &str, kind: &str, path: &[CompactString]) {
        let defined = match self.resolved.root.entries.get(kind).map(|e| &e.node) {
            Some(Node::Block(block)) => block,
            _ => &Block::default(),
        };
        if defined.entries.contains_key(name) {
            return;
        }
        // `overrides = [base]` declares that an extension may shadow files of the base tree.
        if name == BASE && path.last().is_some_and(|p| p == "overrides") {
            return;
        }
        // The removal of that one, or of the whole kind (`remove extension`).
        let removals = &self.resolved.removals;
        let removal = removals
            .iter()
            .find(|r| r.path.len() == 2 && r.path[0] == kind && r.path[1] == name)
            .or_else(|| {
                removals
                    .iter()
                    .find(|r| r.path.len() == 1 && r.path[0] == kind)
            });
        let mut diagnostic = Diagnostic::new(
            Code::UnknownReference,
            format!(
                "`{}` refers to `{kind}.{name}`, which does not exist",
                path.join(".")
            ),
            Label::new(span, "no such {kind}".replace("{kind}", kind)),
        );
        let similar = if defined.entries.len() <= self.suggestions_left {
            self.suggestions_left -= defined.entries.len();
            did_you_mean(name, defined.entries.keys().map(CompactString::as_str))
        } else {
            None
        };
        diagnostic = match (removal, similar) {
            (Some(removal), _) if removal.path.len() == 1 => diagnostic
                .with_label(Label::new(removal.span, format!("every `{kind}` removed here")))
                .with_help(format!(
                    "remove `{name}` from this list too, or declare `{kind} {name} {{ ... }}` again after the `remove`"
                )),
            (Some(removal), _) => diagnostic
                .with_label(Label::new(removal.span, "removed here"))
                .with_help(format!(
                    "remove `{name}` from this list too, or keep `{kind}.{name}`"
                )),
            (None, Some(similar)) => diagnostic.with_help(format!("did you mean `{similar}`?")),
            (None, None) => diagnostic.with_help(format!(
                "declare it with `{kind} {name} {{ ... }}`, or remove it from the list"
            )),
        };
        self.diagnostics.push(diagnostic);
    }

    fn range(&mut self, span: Span, n: u64, min: u64, max: u64, path: &[CompactString]) {
        if (min..=max).contains(&n) {
            return;
        }
        self.out_of_range(
            span,
            path,
            &format!("{n} is outside {min}..={max}"),
            format!("write a value from {min} to {max}"),
        );
    }

    fn out_of_range(&mut self, span: Span, path: &[CompactString], what: &str, help: String) {
        self.diagnostics.push(
            Diagnostic::new(
                Code::OutOfRange,
                format!("`{}` is out of range: {what}", path.join(".")),
                Label::new(span, "out of range"),
            )
            .with_help(help),
        );
    }

    fn string(&mut self, span: Span, s: &str, rule: Str, path: &[CompactString]) {
        if let Err(problem) = domains::check(rule, s) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    format!(
                        "`{} = \"{}\"` is not {}: it {}",
                        path.join("."),
                        excerpt(s, 40),
                        rule.describe(),
                        problem.what,
                    ),
                    Label::new(span, format!("not {}", rule.describe())),
                )
                .with_help(problem.help),
            );
        }
    }
}

fn display_parent(parent: &[CompactString], schema: &BlockSchema) -> String {
    if parent.is_empty() {
        schema.name.to_owned()
    } else {
        parent.join(".")
    }
}

fn describe_value(kind: &ValueKind) -> String {
    match kind {
        ValueKind::Str(_) => "a string".to_owned(),
        ValueKind::Int(_) => "an integer".to_owned(),
        ValueKind::Size(_) => "a size".to_owned(),
        ValueKind::Bool(_) => "a boolean".to_owned(),
        ValueKind::Auto => "`auto`".to_owned(),
        ValueKind::Symbol(s) => format!("the name `{s}`"),
        ValueKind::List(_) => "a list".to_owned(),
    }
}
