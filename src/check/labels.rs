//! Partition labels hold at most 36 bytes (systemd-repart's limit for `Label=`; GPT's own is 36
//! UTF-16 characters). Versioned labels grow with the version, so a label that barely fits today
//! breaks at the next version bump.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label as DiagLabel};
use crate::model::partition::{label_template, LabelPart};
use crate::model::{Label, Model};

use crate::schema::domains::GPT_LABEL_MAX;
/// Room a versioned label should leave for longer versions (`20260526` → `20260526.1`).
const VERSION_ROOM: usize = 4;

pub(super) fn check(model: &Model, out: &mut Checker) {
    versions(model, out);
    let mut reported: Vec<usize> = Vec::new();
    for gpt in &model.layout {
        if reported.contains(&gpt.partition) {
            continue;
        }
        let Some(text) = gpt.label.text(&model.system) else {
            continue;
        };
        let Some(partition) = model.source(gpt) else {
            continue;
        };
        let length = text.len();
        let at = out.at(partition.label().at.or(model.system.name.at));
        let versioned = matches!(gpt.label, Label::Versioned { .. });
        if length > GPT_LABEL_MAX {
            reported.push(gpt.partition);
            let mut d = Diagnostic::new(Code::LabelTooLong, format!("the label `{text}` of partition `{}` has {length} bytes, more than the {GPT_LABEL_MAX} systemd-repart reads", partition.name), DiagLabel::new(at, "makes the label"))
                .with_help(if partition.label().at.is_some() { "shorten `label`".to_owned() } else if versioned { format!("shorten `system.name` or `system.version` (the label is `<name>_<version>` plus a suffix) by at least {} bytes", length - GPT_LABEL_MAX) } else { format!("shorten `system.name` (the label is `<name>-<partition>`) by at least {} bytes", length - GPT_LABEL_MAX) });
            if versioned {
                d = d.with_labels(
                    model
                        .system
                        .version
                        .at
                        .map(|v| DiagLabel::new(v, "the version is part of the label")),
                );
            }
            out.push(d);
        } else if versioned && length + VERSION_ROOM > GPT_LABEL_MAX {
            reported.push(gpt.partition);
            out.push(
                Diagnostic::new(Code::LabelLittleRoom, format!("the label `{text}` of partition `{}` leaves {} bytes for a longer version", partition.name, GPT_LABEL_MAX - length), DiagLabel::new(at, "makes the label"))
                    .with_labels(model.system.version.at.map(|v| DiagLabel::new(v, "the version")))
                    .with_help(format!("keep at least {VERSION_ROOM} characters free: shorten `system.name`, or use shorter versions")),
            );
        }
    }
}

/// A declared label carries the version (`%A`) exactly when the partition is versioned: an A/B
/// partition whose label had no version would carry the same label in both slots after an
/// update, so systemd-sysupdate could not tell them apart, and the image filter would match the
/// old one; a state partition is never updated, so a version in its label would go stale.
fn versions(model: &Model, out: &mut Checker) {
    for partition in &model.partitions {
        let Some(written) = &partition.label().value else {
            continue;
        };
        let count = label_template(written)
            .iter()
            .filter(|p| **p == LabelPart::Version)
            .count();
        let versioned = partition.is_versioned();
        let problem = match (versioned, count) {
            (true, 1) | (false, 0) => continue,
            (true, 0) => "has no version (`%A`), so both slots would carry the same label",
            (true, _) => "has the version (`%A`) more than once",
            (false, _) => "has a version (`%A`), but the partition is not versioned: the label would keep the version it was made with",
        };
        let help = if versioned {
            format!(
                "write the version into the label once, e.g. `label = \"{}_%A\"`",
                written.replace("%A", "")
            )
        } else {
            "remove `%A` from the label".to_owned()
        };
        out.push(
            Diagnostic::new(
                Code::LabelVersion,
                format!("the label of partition `{}` {problem}", partition.name),
                DiagLabel::new(out.at(partition.label().at), "the label"),
            )
            .with_help(help),
        );
    }
}
