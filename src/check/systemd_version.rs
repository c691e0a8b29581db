//! What the target systemd version cannot do. Each gate names the first version with the
//! feature; `systemd-repart` 252 (Debian 12) refuses erofs, which the tests confirm.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::{Format, Model};
use crate::source::Span;

/// systemd-repart formats erofs from this version on.
pub(crate) const EROFS_SINCE: u32 = 253;
/// ukify builds UKI profiles from this version on.
pub(crate) const UKI_PROFILES_SINCE: u32 = 257;
/// ukify signs profiles selectively (`SignExpectedPcr=no` on a profile) from this version on.
pub(crate) const UNSIGNED_PROFILE_SINCE: u32 = 258;

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
            EROFS_SINCE,
            format!("an erofs file system (partition `{}`)", partition.name),
            partition.format.at.or(partition.at),
            out,
        );
    }
    for profile in &model.profiles {
        gate(
            UKI_PROFILES_SINCE,
            format!("UKI profile `{}`", profile.name),
            profile.at,
            out,
        );
        if !profile.sign_pcr.value {
            gate(
                UNSIGNED_PROFILE_SINCE,
                format!("an unsigned UKI profile (`{}`)", profile.name),
                profile.sign_pcr.at,
                out,
            );
        }
    }
}
