//! Block headers against the schema, per file: a missing or unexpected label is reported at the
//! header the user wrote, before merging turns headers into paths.

use super::BlockSchema;
use crate::diag::{Code, Diagnostic, Label};
use crate::syntax::ast;

/// Checks the labels of every block header in `file`.
pub fn check_headers(file: &ast::File, diagnostics: &mut Vec<Diagnostic>) {
    walk(&file.items, &super::v1::ROOT, diagnostics);
}

fn walk(items: &[ast::Item], schema: &BlockSchema, diagnostics: &mut Vec<Diagnostic>) {
    for item in items {
        let ast::Item::Block(block) = item else {
            continue;
        };
        // Unknown kinds are reported by validation, with a suggestion.
        let Some(kind) = schema.block(&block.kind.name) else {
            continue;
        };
        match (&block.label, kind.labelled) {
            (None, true) => diagnostics.push(
                Diagnostic::new(
                    Code::MissingLabel,
                    format!("`{}` block without a label", kind.name),
                    Label::new(block.kind.span, "needs a label"),
                )
                .with_help(format!(
                    "name it: `{} NAME {{ ... }}`; the label is how other files refer to it",
                    kind.name
                )),
            ),
            (Some(label), false) => diagnostics.push(
                Diagnostic::new(
                    Code::UnexpectedLabel,
                    format!("`{}` takes no label", kind.name),
                    Label::new(label.span, "unexpected label"),
                )
                .with_label(Label::new(
                    block.kind.span,
                    format!("there is one `{}` block", kind.name),
                ))
                .with_help(format!(
                    "remove `{}`: write `{} {{ ... }}`",
                    label.name, kind.name
                )),
            ),
            _ => walk(&block.items, kind, diagnostics),
        }
    }
}
