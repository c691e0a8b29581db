//! What a remix inherits from a base written for another system: a release name of another
//! distribution (`release = "rawhide"` kept after `distribution = debian`), and the base's
//! update server kept after the system was renamed, where the transfers would look for images
//! of the new name that the server never has.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::distribution::{release_of_another, some_releases};
use crate::model::Model;

pub(super) fn check(model: &Model, out: &mut Checker) {
    release(model, out);
    update_server(model, out);
}

fn release(model: &Model, out: &mut Checker) {
    let system = &model.system;
    let (Some(distribution), Some(release)) = (
        system.distribution.value.as_deref(),
        system.release.value.as_deref(),
    ) else {
        return;
    };
    let Some(owner) = release_of_another(distribution, release) else {
        return;
    };
    let examples = some_releases(distribution);
    let help = if examples.is_empty() {
        format!("set `system.release` to a release of {distribution}")
    } else {
        format!(
            "set `system.release` to a release of {distribution}, e.g. `\"{}\"`",
            examples.join("\"`, `\"")
        )
    };
    out.push(
        Diagnostic::new(
            Code::ReleaseMismatch,
            format!("`{release}` is a release of {owner}, not of {distribution}"),
            Label::new(
                out.at(system.release.at.or(system.at)),
                format!("a {owner} release"),
            ),
        )
        .with_labels(
            system
                .distribution
                .at
                .map(|d| Label::new(d, "the distribution")),
        )
        .with_help(help),
    );
}

fn update_server(model: &Model, out: &mut Checker) {
    let Some(name_at) = model.system.name.at else {
        return;
    };
    for channel in &model.updates.channels {
        let Some(source_at) = channel.source.at else {
            continue;
        };
        if source_at.file == name_at.file {
            continue;
        }
        // The base's own file names too: the renamed system would install the base's images.
        let inherited_name = channel
            .artifact_name
            .at
            .is_some_and(|a| a.file != name_at.file);
        let (found, fix) = if inherited_name {
            (
                "the other system's own images, and would install them here",
                format!(
                    "`update.channel.{}.source` and `artifact-name` to your own",
                    channel.name
                ),
            )
        } else {
            (
                "which that server does not publish",
                format!(
                    "`update.channel.{}.source` to your own server",
                    channel.name
                ),
            )
        };
        out.push(
            Diagnostic::new(
                Code::InheritedUpdateServer,
                format!(
                    "the system is named `{}`, but update channel `{}` keeps a server declared elsewhere, for another system",
                    model.system.name.value, channel.name
                ),
                Label::new(name_at, "the system is named here"),
            )
            .with_label(Label::new(source_at, "the server is declared here"))
            .with_labels(
                inherited_name
                    .then_some(channel.artifact_name.at)
                    .flatten()
                    .map(|a| Label::new(a, "its files' name is declared here")),
            )
            .with_help(format!(
                "the transfers look for `{}_VERSION_…` files, {found}: set {fix}, or `remove update.channel.{}`",
                channel.published_name(&model.system.name.value),
                channel.name
            )),
        );
    }
}
