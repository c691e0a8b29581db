//! The ESP holds a UKI per kept version (and systemd-boot): too small, and an update cannot
//! install its kernel.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::{Model, PartitionType};
use crate::syntax::ast::format_size;

/// A generous size of one UKI (kernel, initrd with firmware and modules, command line).
pub(crate) const UKI_ESTIMATE: u64 = 128 << 20;
/// systemd-boot, its configuration and the random seed.
pub(crate) const BOOT_LOADER_ESTIMATE: u64 = 16 << 20;

pub(super) fn check(model: &Model, out: &mut Checker) {
    let Some(esp) = model
        .partitions
        .iter()
        .find(|p| p.ty.value == PartitionType::Esp)
    else {
        return;
    };
    let Some(size) = esp.max() else { return };
    let versioned_slots = model
        .partitions
        .iter()
        .filter(|p| p.is_versioned())
        .map(|p| p.slots().value)
        .max()
        .unwrap_or(1);
    let ukis = model.updates.keep.value.max(versioned_slots);
    let needed = ukis * UKI_ESTIMATE + BOOT_LOADER_ESTIMATE;
    if size >= needed {
        return;
    }
    out.push(
        Diagnostic::new(
            Code::EspTooSmall,
            format!(
                "the ESP ({}) is too small for {ukis} UKIs of about {} each",
                format_size(size),
                format_size(UKI_ESTIMATE)
            ),
            Label::new(out.at(esp.max_at()), "ESP size"),
        )
        .with_labels(
            model
                .updates
                .keep
                .at
                .map(|k| Label::new(k, "versions kept")),
        )
        .with_help(format!(
            "make the ESP at least {}, e.g. `partition.{}.size = {}`",
            format_size(needed.next_multiple_of(1 << 20)),
            esp.name,
            format_size(needed.next_multiple_of(64 << 20))
        )),
    );
}
