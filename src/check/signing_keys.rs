//! Signing roles need keys: `verity = signed` needs `trust.verity`, and every role needs a key
//! and certificate, its own or `trust.key`/`trust.cert`.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::trust::KeyPair;
use crate::model::{Model, Verity};

pub(super) fn check(model: &Model, out: &mut Checker) {
    let signed = model
        .partitions
        .iter()
        .find(|p| p.verity.value == Verity::Signed);
    if let (Some(partition), None) = (signed, &model.trust.verity) {
        out.push(
            Diagnostic::new(Code::MissingSigningKey, format!("partition `{}` has `verity = signed`, but nothing signs verity root hashes", partition.name), Label::new(out.at(partition.verity.at), "needs a verity signing key"))
                .with_help("add `trust { verity { } }` (it uses `trust.key` and `trust.cert`), or `verity { key = \"...\", cert = \"...\" }`"),
        );
    }
    for (role, pair) in [
        ("secure-boot", &model.trust.secure_boot),
        ("verity", &model.trust.verity),
    ] {
        if let Some(pair) = pair {
            missing(role, pair, out);
        }
    }
}

fn missing(role: &str, pair: &KeyPair, out: &mut Checker) {
    for (what, value) in [("key", &pair.key), ("cert", &pair.cert)] {
        if value.value.is_some() {
            continue;
        }
        out.push(
            Diagnostic::new(Code::MissingSigningKey, format!("`trust.{role}` has no {what}"), Label::new(out.at(pair.at), format!("needs a {what}")))
                .with_help(format!("add `{what} = \"mkosi.{what_ext}\"` to `trust.{role}`, or a default `trust.{what}` for every role", what_ext = if what == "key" { "key" } else { "crt" })),
        );
    }
}
