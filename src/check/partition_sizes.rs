//! Sizes a partition table can hold: bounds in order, `size` not mixed with bounds, and every
//! size a multiple of 4 KiB (systemd-repart aligns partitions to 4 KiB and would round).

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::{At, Model, Partition};
use crate::syntax::ast::format_size;

const ALIGNMENT: u64 = 4096;

pub(super) fn check(model: &Model, out: &mut Checker) {
    for partition in &model.partitions {
        range(partition, out);
        for (field, size) in [
            ("size", &partition.size),
            ("size-min", &partition.size_min),
            ("size-max", &partition.size_max),
            ("verity-size", partition.verity_size()),
        ] {
            aligned(partition, field, size, out);
        }
    }
    if let Some(size) = model.disk.size.value.filter(|s| s % ALIGNMENT != 0) {
        out.push(unaligned("disk.size", size, out.at(model.disk.size.at)));
    }
}

fn range(partition: &Partition, out: &mut Checker) {
    if let (Some(min), Some(max)) = (partition.size_min.value, partition.size_max.value) {
        if min > max {
            out.push(
                Diagnostic::new(
                    Code::SizeRange,
                    format!(
                        "partition `{}` has `size-min` {} above `size-max` {}",
                        partition.name,
                        format_size(min),
                        format_size(max)
                    ),
                    Label::new(out.at(partition.size_min.at), "the lower bound"),
                )
                .with_label(Label::new(out.at(partition.size_max.at), "the upper bound"))
                .with_help(format!(
                    "raise `size-max` to at least {}, or lower `size-min`",
                    format_size(min)
                )),
            );
        }
    }
    if let Some(size_at) = partition.size.at {
        for bound in [&partition.size_min, &partition.size_max] {
            if let Some(bound_at) = bound.at {
                out.push(
                    Diagnostic::new(Code::SizeRange, format!("partition `{}` has both an exact `size` and a bound", partition.name), Label::new(size_at, "exact size"))
                        .with_label(Label::new(bound_at, "bound"))
                        .with_help("write either `size` (exact) or `size-min`/`size-max` (bounds) in this file; in a file that imports this one, either would supersede the other"),
                );
            }
        }
    }
}

fn aligned(partition: &Partition, field: &str, size: &At<Option<u64>>, out: &mut Checker) {
    if let Some(value) = size.value.filter(|s| s % ALIGNMENT != 0) {
        // A derived size is always aligned; only written ones get here.
        out.push(unaligned(
            &format!("partition.{}.{field}", partition.name),
            value,
            out.at(size.at),
        ));
    }
}

fn unaligned(path: &str, size: u64, at: crate::source::Span) -> Diagnostic {
    let up = size
        .checked_next_multiple_of(ALIGNMENT)
        .unwrap_or(size - size % ALIGNMENT);
    Diagnostic::new(
        Code::UnalignedSize,
        format!("`{path}` is {size} bytes, not a multiple of 4 KiB"),
        Label::new(at, "unaligned"),
    )
    .with_help(format!(
        "write a multiple of 4096 bytes, e.g. `{}`",
        format_size(up)
    ))
}
