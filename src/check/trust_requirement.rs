//! `trust.require` turns a weak link of the chain into an error: `verified-boot` needs every
//! link verified (or, for state, encrypted), `measured-boot` needs every link at least measured.
//! Extensions are reported one by one by `unsigned-extension`.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::{ExtensionKind, Model, Requirement};

pub(super) fn check(model: &Model, out: &mut Checker) {
    let requirement = model.trust.require.value;
    if requirement == Requirement::None {
        return;
    }
    let required = match requirement {
        Requirement::VerifiedBoot => "verified-boot",
        _ => "measured-boot",
    };
    let require_at = out.at(model.trust.require.at);
    for link in model
        .chain
        .iter()
        .filter(|l| l.name != "extensions" && !l.state.meets(requirement))
    {
        let mut diagnostic = Diagnostic::new(
            Code::TrustRequirementUnmet,
            format!(
                "`trust.require = {required}`, but the link `{}` is {}",
                link.name, link.state
            ),
            Label::new(require_at, "required here"),
        )
        .with_help(fix(&link.name, requirement));
        if let Some(at) = link.at.filter(|a| *a != require_at) {
            diagnostic = diagnostic.with_label(Label::new(at, link.reason.clone()));
        } else {
            diagnostic.message = format!("{}: {}", diagnostic.message, link.reason);
        }
        out.push(diagnostic);
    }
    if requirement == Requirement::VerifiedBoot {
        for extension in model.extensions.iter().filter(|e| {
            e.kind.value != ExtensionKind::Flatpak
                && (!e.signed.value || model.trust.verity.is_none())
        }) {
            out.push(
                Diagnostic::new(Code::UnsignedExtension, format!("extension `{}` is not verity-signed, and the system requires verified boot", extension.name), Label::new(out.at(extension.signed.at.or(extension.at)), "unsigned"))
                    .with_label(Label::new(require_at, "required here"))
                    .with_help(if model.trust.verity.is_none() { "add `trust { verity { } }` so that extensions are signed".to_owned() } else { "remove `signed = false`".to_owned() }),
            );
        }
    }
}

fn fix(link: &str, requirement: Requirement) -> String {
    match link {
        "boot loader" | "UKI" if requirement == Requirement::VerifiedBoot => "add `trust { secure-boot { } }` to sign the boot loader and the UKI".to_owned(),
        "boot loader" | "UKI" => "add `trust { tpm2 { } }` to measure the boot chain, or `secure-boot { }` to sign it".to_owned(),
        "command line" => "sign the UKI with `trust { secure-boot { } }` and keep `trust.uki.editable-cmdline = false`".to_owned(),
        "/usr" | "/" => "set `verity = signed` on the partition holding the OS, with `trust { verity { } }`".to_owned(),
        _ => "encrypt the partition: `encrypt = tpm2`, with `trust { tpm2 { } }`".to_owned(),
    }
}
