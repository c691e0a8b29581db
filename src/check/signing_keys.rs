//! Signing roles need keys: `verity = signed` needs `trust.verity`, every role needs a key and
//! certificate, its own or `trust.key`/`trust.cert`, and a signed PCR policy needs a key.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::trust::KeyPair;
use crate::model::{Model, Verity};

pub(super) fn check(model: &Model, out: &mut Checker) {
    let signed = model
        .partitions
        .iter()
        .find(|p| p.verity().value == Verity::Signed);
    if let (Some(partition), None) = (signed, &model.trust.verity) {
        out.push(
            Diagnostic::new(Code::MissingSigningKey, format!("partition `{}` has `verity = signed`, but nothing signs verity root hashes", partition.name), Label::new(out.at(partition.verity().at), "needs a verity signing key"))
                .with_help("add `trust { verity { } }` (it uses `trust.key` and `trust.cert`), or `verity { key = \"...\", cert = \"...\" }`"),
        );
    }
    if let Some(tpm2) = model.trust.tpm2.as_ref() {
        // Its own signer is a pair: a key alone would be paired with another key's certificate.
        for (what, value, has, other) in [
            ("key", &tpm2.key, "cert", &tpm2.cert),
            ("cert", &tpm2.cert, "key", &tpm2.key),
        ] {
            if value.value.is_none() && other.value.is_some() {
                let at = out.at(other.at.or(tpm2.at));
                out.push(
                    Diagnostic::new(Code::MissingSigningKey, format!("`trust.tpm2` has its own PCR policy {has} but no {what}"), Label::new(at, "one half of the PCR policy's signer"))
                        .with_help(format!("add `{what} = \"...\"` to `trust.tpm2`: the policy's key and certificate go together (without both, the Secure Boot key signs it)")),
                );
            }
        }
    }
    if let Some(tpm2) = model
        .trust
        .tpm2
        .as_ref()
        .filter(|t| t.signed_policy.value && !t.has_own_signer())
    {
        let secure_boot_key = model
            .trust
            .secure_boot
            .as_ref()
            .and_then(|s| s.key.value.as_ref());
        if model.trust.key.value.is_none() && secure_boot_key.is_none() {
            let at = out.at(tpm2.signed_policy.at.or(tpm2.at));
            out.push(
                Diagnostic::new(Code::MissingSigningKey, "`trust.tpm2.signed-policy` needs a key to sign the PCR 11 policy", Label::new(at, "signed PCR policy (the default)"))
                    .with_help("add `trust.key` and `trust.cert` (systemd-measure signs with them), or `signed-policy = false` to bind to PCR values instead"),
            );
        }
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
