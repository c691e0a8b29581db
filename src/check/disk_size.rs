//! The disk holds its partitions: with a declared `disk.size`, the smallest each partition of
//! the installed disk may be, added up with the partition table, must fit.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::Model;
use crate::syntax::ast::format_size;

/// The partition table (primary and backup GPT) and the first partition's offset.
const TABLE_OVERHEAD: u64 = 2 << 20;
/// The least a partition takes: systemd-repart aligns partitions to 4 KiB.
const GRAIN: u64 = 4096;

/// The least the installed disk needs: every partition at its minimum (a partition without
/// one at a grain), and the partition table. Saturates rather than overflows.
fn least_disk_size(model: &Model) -> u64 {
    model
        .layout
        .iter()
        .map(|gpt| gpt.size_min.unwrap_or(0).max(GRAIN))
        .fold(TABLE_OVERHEAD, u64::saturating_add)
}

pub(super) fn check(model: &Model, out: &mut Checker) {
    let Some(size) = model.disk.size.value else {
        return;
    };
    let needed = least_disk_size(model);
    if needed <= size {
        return;
    }
    out.push(
        Diagnostic::new(
            Code::DiskTooSmall,
            format!(
                "the disk ({}) cannot hold its {} partitions: they need at least {}",
                format_size(size),
                model.layout.len(),
                format_size(needed.next_multiple_of(1 << 20))
            ),
            Label::new(out.at(model.disk.size.at), "the disk's size"),
        )
        .with_help(format!(
            "make the disk at least `{}`, or shrink the partitions' `size` and `size-min`",
            format_size(needed.next_multiple_of(1 << 20))
        )),
    );
}
