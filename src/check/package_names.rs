//! Package names by the distribution's own rules, beyond the grammar every distribution shares:
//! Debian, Ubuntu and Kali name packages in lower case (Debian Policy 5.6.1), so `Vim` would
//! fail at build time, far from the line that wrote it. And packages listed twice: in the
//! system's list, or in an extension's when the base image installs them already.

use super::Checker;
use crate::diag::{excerpt, Code, Diagnostic, Edit, Label};
use crate::model::Model;

/// Distributions whose package names follow Debian Policy.
const DEBIAN_FAMILY: &[&str] = &["debian", "ubuntu", "kali"];

/// Debian Policy's package name: lower-case letters, digits, `+`, `-`, `.`, at least two
/// characters, starting with a letter or digit; an optional `:arch` qualifier.
fn debian_name(package: &str) -> bool {
    let package = crate::model::sources::pinned(package).0;
    let name = package.split_once(':').map_or(package, |(name, _)| name);
    name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c))
}

pub(super) fn check(model: &Model, out: &mut Checker) {
    duplicates(model, out);
    in_the_base(model, out);
    let Some(distribution) = model.system.distribution.value.as_deref() else {
        return;
    };
    if !DEBIAN_FAMILY.contains(&distribution) {
        return;
    }
    for package in &model.system.packages.value {
        if debian_name(&package.value) {
            continue;
        }
        let at = out.at(package.at.or(model.system.packages.at));
        out.push(
            Diagnostic::new(
                Code::InvalidValue,
                format!(
                    "`{}` is not a {distribution} package name",
                    excerpt(&package.value, 60)
                ),
                Label::new(at, "not a package name here"),
            )
            .with_labels(
                model
                    .system
                    .distribution
                    .at
                    .map(|s| Label::new(s, "the distribution")),
            )
            .with_help(format!(
                "{distribution} names packages in lower-case letters, digits and `+-.`, e.g. `\"{}\"`",
                excerpt(&package.value.to_ascii_lowercase().replace('_', "-"), 60)
            )),
        );
    }
}

/// A package listed twice (often once in a base and again in a remix): installed once, but the
/// second entry is dead weight that hides what the list means.
fn duplicates(model: &Model, out: &mut Checker) {
    let packages = &model.system.packages.value;
    let mut first: std::collections::HashMap<&str, &crate::model::At<String>> =
        std::collections::HashMap::new();
    for package in packages {
        // By package, whatever suite each entry pins it to.
        let name = crate::model::sources::pinned(&package.value).0;
        let Some(earlier) = first.get(name) else {
            first.insert(name, package);
            continue;
        };
        let at = out.at(package.at.or(model.system.packages.at));
        let same = earlier.value == package.value;
        let diagnostic = Diagnostic::new(
            Code::DuplicatePackage,
            format!("package `{}` is listed twice", excerpt(name, 60)),
            Label::new(at, "listed again here"),
        )
        .with_labels(earlier.at.map(|s| Label::new(s, "first listed here")))
        .with_help(if same {
            format!(
                "remove this entry: `{}` is installed once either way",
                excerpt(name, 60)
            )
        } else {
            format!(
                "keep one entry: `{}` is installed once, from the suite the entry that stays names",
                excerpt(name, 60)
            )
        });
        // Which suite to keep is the user's decision: removing one is offered only when the
        // two entries are the same.
        out.push(if same {
            diagnostic.with_edit("Remove this entry", at, Edit::Remove)
        } else {
            diagnostic
        });
    }
}

/// A package an extension lists that the base image installs already: the extension is built
/// on the base with `Overlay=yes`, so it keeps nothing of it — the entry promises files the
/// extension never ships.
fn in_the_base(model: &Model, out: &mut Checker) {
    let base = model.image_packages();
    for extension in &model.extensions {
        if extension.kind.value == crate::model::ExtensionKind::Flatpak {
            continue;
        }
        for package in &extension.packages.value {
            let name = crate::model::sources::pinned(&package.value).0;
            if !base
                .iter()
                .any(|b| crate::model::sources::pinned(b).0 == name)
            {
                continue;
            }
            let declared = model
                .system
                .packages
                .value
                .iter()
                .find(|p| crate::model::sources::pinned(&p.value).0 == name)
                .and_then(|p| p.at);
            let at = out.at(package.at.or(extension.packages.at));
            out.push(
                Diagnostic::new(
                    Code::DuplicatePackage,
                    format!(
                        "package `{}` of extension `{}` is in the base image already",
                        excerpt(&package.value, 60),
                        extension.name
                    ),
                    Label::new(at, "listed again here"),
                )
                .with_labels(declared.map(|s| Label::new(s, "the base installs it")))
                .with_help(format!(
                    "remove this entry: the extension is built on the base and keeps only what it adds, so it ships nothing of `{}` (merged, it sees the base's){}",
                    excerpt(&package.value, 60),
                    if declared.is_none() {
                        "; pcfg installs it in the base for what the system declares (`pcfg why system.packages`)"
                    } else {
                        ""
                    }
                ))
                .with_edit("Remove this entry", at, Edit::Remove),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::debian_name;

    #[test]
    fn debian_policy_names() {
        for good in ["vim", "g++", "libc6:i386", "python3.12", "0ad"] {
            assert!(debian_name(good), "{good}");
        }
        for bad in ["Vim", "a", "kernel_core", "-x"] {
            assert!(!debian_name(bad), "{bad}");
        }
    }
}
