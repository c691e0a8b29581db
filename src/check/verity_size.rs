//! A dm-verity hash partition must hold the hash tree of its data partition at its largest:
//! sha256 over 4 KiB blocks needs about 1/127 of the data (400M covers about 50G). The data
//! partition needs an upper bound for the size to be known.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::partition::verity_hash_size;
use crate::model::{Model, Verity};
use crate::syntax::ast::format_size;

pub(super) fn check(model: &Model, out: &mut Checker) {
    for partition in model
        .partitions
        .iter()
        .filter(|p| p.verity().value != Verity::None)
    {
        let Some(max) = partition.max() else {
            if partition.verity_size().value.is_none() {
                out.push(
                    Diagnostic::new(
                        Code::VerityUnbounded,
                        format!(
                            "partition `{}` has verity but no upper size bound",
                            partition.name
                        ),
                        Label::new(
                            out.at(partition.verity().at),
                            "verity needs a hash partition sized for the data",
                        ),
                    )
                    .with_help(
                        "add `size-max` (the hash partition is derived from it) or `verity-size`",
                    ),
                );
            }
            continue;
        };
        let (Some(size), Some(size_at)) =
            (partition.verity_size().value, partition.verity_size().at)
        else {
            continue;
        };
        let needed = verity_hash_size(max);
        if size < needed {
            out.push(
                Diagnostic::new(Code::VerityTooSmall, format!("`verity-size` {} of partition `{}` cannot hold the hash tree of {} of data", format_size(size), partition.name, format_size(max)), Label::new(size_at, "too small"))
                    .with_labels(partition.max_at().map(|m| Label::new(m, "the data partition may grow this large")))
                    .with_help(format!("write `verity-size = {}` or more, or remove `verity-size` to have it derived", format_size(needed))),
            );
        }
    }
}
