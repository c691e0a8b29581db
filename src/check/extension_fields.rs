//! Fields an extension kind needs: a Flatpak extension names its app.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::{ExtensionKind, Model};

pub(super) fn check(model: &Model, out: &mut Checker) {
    for extension in model
        .extensions
        .iter()
        .filter(|e| e.kind.value == ExtensionKind::Flatpak && e.app.value.is_none())
    {
        out.push(
            Diagnostic::new(Code::FlatpakWithoutApp, format!("flatpak extension `{}` names no app", extension.name), Label::new(out.at(extension.kind.at.or(extension.at)), "a flatpak"))
                .with_help("add `app = \"org.example.App\"` (the Flatpak application id), and `runtime` if it needs one"),
        );
    }
}
