//! Fields an extension kind needs, and fields it cannot use: a Flatpak extension names its app;
//! `app` and `runtime` mean something only for Flatpak apps, `source`, `requires`, `overrides`,
//! `signed`, `packages`, `version` and the build scripts only for images pcfg builds, `packages` not for a
//! configuration extension (which holds `/etc` only), `optional` only for those with an update
//! component; `overrides` only between extensions merged into
//! the same hierarchy. Flatpak apps need a remote to come from: `flatpak preinstall` finds
//! them only in the remotes the system has.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::{Extension, ExtensionKind, Model};
use crate::source::Span;

pub(super) fn check(model: &Model, out: &mut Checker) {
    for extension in model
        .extensions
        .iter()
        .filter(|e| e.kind.value == ExtensionKind::Flatpak && e.app().value.is_none())
    {
        out.push(
            Diagnostic::new(Code::FlatpakWithoutApp, format!("flatpak extension `{}` names no app", extension.name), Label::new(out.at(extension.kind.at.or(extension.at)), "a flatpak"))
                .with_help("add `app = \"org.example.App\"` (the Flatpak application id), and `runtime` if it needs one"),
        );
    }
    let first_flatpak = model
        .extensions
        .iter()
        .find(|e| e.kind.value == ExtensionKind::Flatpak);
    if let Some(extension) = first_flatpak.filter(|_| model.flatpak_remotes.is_empty()) {
        out.push(
            Diagnostic::new(Code::FlatpakWithoutRemote, format!("flatpak extension `{}` is installed at first boot, but the system has no Flatpak remote to install it from", extension.name), Label::new(out.at(extension.kind.at.or(extension.at)), "installed by `flatpak preinstall`"))
                .with_help("declare the remote the apps come from, with its signing key: `flatpak-remote flathub { url = \"https://dl.flathub.org/repo/\", key = \"keys/flathub.gpg\" }`"),
        );
    }
}

/// Fields of `extension` that its kind does not use, with where each is written.
fn unused_fields(extension: &Extension, has_channel: bool) -> Vec<(&'static str, Option<Span>)> {
    let written = |set: bool, at: Option<Span>| set.then_some(at).flatten();
    let fields = if extension.kind.value == ExtensionKind::Flatpak {
        vec![
            (
                "source",
                written(extension.source.value.is_some(), extension.source.at),
            ),
            (
                "requires",
                written(!extension.requires.value.is_empty(), extension.requires.at),
            ),
            (
                "overrides",
                written(
                    !extension.overrides().value.is_empty(),
                    extension.overrides().at,
                ),
            ),
            ("signed", extension.signed.at),
            (
                "packages",
                written(!extension.packages.value.is_empty(), extension.packages.at),
            ),
            (
                "version",
                written(extension.version().value.is_some(), extension.version().at),
            ),
            ("optional", extension.optional().at),
            (
                "postinst",
                written(
                    !extension.scripts().postinst.value.is_empty(),
                    extension.scripts().postinst.at,
                ),
            ),
            (
                "finalize",
                written(
                    !extension.scripts().finalize.value.is_empty(),
                    extension.scripts().finalize.at,
                ),
            ),
            (
                "post-output",
                written(
                    !extension.scripts().post_output.value.is_empty(),
                    extension.scripts().post_output.at,
                ),
            ),
        ]
    } else {
        let mut fields = vec![
            (
                "app",
                written(extension.app().value.is_some(), extension.app().at),
            ),
            (
                "runtime",
                written(extension.runtime().value.is_some(), extension.runtime().at),
            ),
        ];
        // An optional extension is a feature of its update component, which only an image
        // pcfg builds and a system with an update channel has.
        if extension.optional().value && !(extension.updatable() && has_channel) {
            fields.push(("optional", extension.optional().at));
        }
        // A configuration extension carries `/etc` only; packages install elsewhere.
        if extension.kind.value == ExtensionKind::Confext {
            fields.push((
                "packages",
                written(!extension.packages.value.is_empty(), extension.packages.at),
            ));
        }
        fields
    };
    fields
        .into_iter()
        .filter_map(|(name, at)| at.map(|at| (name, Some(at))))
        .collect()
}

/// What each kind's images are merged into (`None` for those never overlaid).
fn hierarchy(kind: ExtensionKind) -> Option<&'static str> {
    match kind {
        ExtensionKind::Sysext => Some("`/usr` and `/opt`"),
        ExtensionKind::Confext => Some("`/etc`"),
        ExtensionKind::Portable | ExtensionKind::Flatpak => None,
    }
}

pub(super) fn check_kinds(model: &Model, out: &mut Checker) {
    let by_name: std::collections::HashMap<&str, &Extension> = model
        .extensions
        .iter()
        .map(|e| (e.name.as_str(), e))
        .collect();
    for extension in &model.extensions {
        let kind = extension.kind.value.name();
        for (field, at) in unused_fields(extension, !model.updates.channels.is_empty()) {
            let why = if field == "optional" && extension.kind.value != ExtensionKind::Flatpak {
                "an optional extension is a systemd-sysupdate feature of the extension's update component, which only a system or configuration extension built from a `source`, on a system with an update channel, has"
            } else if extension.kind.value == ExtensionKind::Flatpak && field == "source" {
                "Flatpak installs the app from its remote; pcfg builds no image for it (a command-line program built for this system belongs in `kind = sysext`)"
            } else if extension.kind.value == ExtensionKind::Flatpak {
                "Flatpak installs the app from its remote; pcfg builds no image for it"
            } else if field == "packages" {
                "a configuration extension holds only `/etc`, and packages install their files elsewhere; put them in a system extension"
            } else {
                "only a Flatpak app has an app id and a runtime"
            };
            out.push(
                Diagnostic::new(
                    Code::UnusedField,
                    format!(
                        "`{field}` means nothing for extension `{}`, a {kind}",
                        extension.name
                    ),
                    Label::new(out.at(at), format!("`{field}` on a {kind}")),
                )
                .with_labels(extension.kind.at.map(|k| Label::new(k, "the kind")))
                .with_help(format!("remove `{field}`: {why}")),
            );
        }
        if extension.kind.value == ExtensionKind::Flatpak {
            continue;
        }
        for overridden in &extension.overrides().value {
            let Some(&other) = by_name.get(overridden.value.as_str()) else {
                continue;
            };
            let (mine, theirs) = (hierarchy(extension.kind.value), hierarchy(other.kind.value));
            if mine.is_some() && mine == theirs {
                continue;
            }
            let place =
                |h: Option<&'static str>| h.unwrap_or("nothing (it is attached, not merged)");
            out.push(
                Diagnostic::new(
                    Code::UnusedField,
                    format!(
                        "`{}` ({}) cannot override `{}` ({}): their files are never merged together",
                        extension.name,
                        extension.kind.value.name(),
                        other.name,
                        other.kind.value.name()
                    ),
                    Label::new(out.at(overridden.at.or(extension.overrides().at)), "overrides an extension of another hierarchy"),
                )
                .with_help(format!(
                    "remove `{}` from `overrides`: a {} is merged into {}, a {} into {}",
                    other.name,
                    extension.kind.value.name(),
                    place(mine),
                    other.kind.value.name(),
                    place(theirs)
                )),
            );
        }
    }
}
