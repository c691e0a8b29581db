//! What the target systemd version cannot do, by the gates of `model::gates`.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::{gates, Format, Model};
use crate::source::Span;

pub(super) fn check(model: &Model, out: &mut Checker) {
    let target = model.system.systemd.value;
    let target_at = model.system.systemd.at;
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
