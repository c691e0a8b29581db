//! An extension may require only extensions that are installed whenever it is: an optional
//! extension is a systemd-sysupdate feature of its own update component, and a feature is
//! enabled one component at a time, so nothing installs an optional extension along with another
//! extension that requires it.

use std::collections::HashMap;

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::{Extension, Model};

pub(super) fn check(model: &Model, out: &mut Checker) {
    // The optional extensions by name: one look-up per requirement, whatever the number of
    // extensions.
    let optional: HashMap<&str, &Extension> = model
        .extensions
        .iter()
        .filter(|e| e.optional().value)
        .map(|e| (e.name.as_str(), e))
        .collect();
    if optional.is_empty() {
        return;
    }
    for extension in &model.extensions {
        for required in &extension.requires.value {
            let Some(other) = optional.get(required.value.as_str()) else {
                continue;
            };
            let (message, consequence) = if extension.optional().value {
                (
                    format!(
                        "optional extension `{}` requires `{}`, which is optional too",
                        extension.name, other.name
                    ),
                    format!(
                        "enabling `{}` does not install `{}`",
                        extension.name, other.name
                    ),
                )
            } else {
                (
                    format!(
                        "extension `{}` is always installed, but requires `{}`, which is optional",
                        extension.name, other.name
                    ),
                    format!("`{}` is missing until someone enables it", other.name),
                )
            };
            out.push(
                Diagnostic::new(
                    Code::RequiresOptional,
                    message,
                    Label::new(out.at(required.at.or(extension.requires.at)), consequence),
                )
                .with_labels(other.optional().at.map(|at| Label::new(at, "optional here")))
                .with_help(format!(
                    "remove `optional = true` from `{}`, so that it is installed wherever `{}` may be: systemd-sysupdate enables a feature in one update component only, and each extension has its own",
                    other.name, extension.name
                )),
            );
        }
    }
}
