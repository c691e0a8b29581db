//! What the target systemd version cannot do, by the gates of `model::gates`.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::{gates, Create, Format, Model};
use crate::source::Span;

pub(super) fn check(model: &Model, out: &mut Checker) {
    let target = model.system.systemd.value;
    let target_at = model.system.systemd.at;
    release(model, out);
    let gate = |since: u32, what: String, at: Option<Span>, out: &mut Checker| {
        if target >= since {
            return;
        }
        let written = if target_at.is_some() {
            ""
        } else {
            " (the default target)"
        };
        out.push(
            Diagnostic::new(
                Code::UnsupportedBySystemd,
                format!(
                    "{what} needs systemd {since}, and the target is systemd {target}{written}"
                ),
                Label::new(out.at(at), "needs a newer systemd"),
            )
            .with_labels(target_at.map(|t| Label::new(t, "the target version")))
            .with_help(format!(
                "set `system.systemd = {since}` or later, or do without it"
            )),
        );
    };
    for partition in model
        .partitions
        .iter()
        .filter(|p| p.format.value == Format::Erofs)
    {
        gate(
            gates::EROFS,
            format!("an erofs file system (partition `{}`)", partition.name),
            partition.format.at.or(partition.at),
            out,
        );
    }
    if let Some(partition) = model
        .partitions
        .iter()
        .find(|p| p.create().value == Some(Create::Install))
    {
        gate(
            gates::REPART_COPY_FROM,
            format!(
                "the installer (partition `{}` is made by it; it copies the image with systemd-repart's `--copy-from=`)",
                partition.name
            ),
            partition.create().at.or(partition.at),
            out,
        );
    }
    for extension in model.extensions.iter().filter(|e| e.optional().value) {
        gate(
            gates::SYSUPDATE_FEATURES,
            format!(
                "an optional extension (`{}`, a systemd-sysupdate feature)",
                extension.name
            ),
            extension.optional().at.or(extension.at),
            out,
        );
    }
    for profile in &model.profiles {
        gate(
            gates::UKI_PROFILES,
            format!("UKI profile `{}`", profile.name),
            profile.at,
            out,
        );
        if !profile.sign_pcr.value {
            gate(
                gates::UNSIGNED_PROFILE,
                format!("an unsigned UKI profile (`{}`)", profile.name),
                profile.sign_pcr.at,
                out,
            );
        }
    }
}

/// A target newer than the systemd the release ships: the image would use what its systemd
/// does not know (`root=dissect` on 257 is emergency mode at boot).
fn release(model: &Model, out: &mut Checker) {
    let system = &model.system;
    // The suite systemd comes from: the release, or the suite `systemd` is pinned to.
    let (Some(at), Some(distribution), Some(release)) = (
        system.systemd.at,
        system.distribution.value.as_deref(),
        system.systemd_suite(),
    ) else {
        return;
    };
    let Some(shipped) = crate::model::distribution::systemd_of(distribution, release) else {
        return;
    };
    if system.systemd.value <= shipped {
        return;
    }
    out.push(
        Diagnostic::new(
            Code::SystemdReleaseMismatch,
            format!(
                "the target is systemd {}, but `{distribution}` `{release}` ships systemd {shipped}",
                system.systemd.value
            ),
            Label::new(at, "the target version"),
        )
        .with_labels(system.release.at.map(|r| Label::new(r, "the release")))
        .with_help(format!(
            "set `system.systemd = {shipped}` (or remove it: the release's is the default), or install systemd {} or later from another suite (`\"systemd/SUITE\"` in `system.packages`, with a `package-source` of that suite)",
            system.systemd.value
        )),
    );
}
