//! The Discoverable Partitions Specification finds most partitions by type: of each of these
//! types (for the one architecture) only one may exist. A/B slots are declared with `slots`.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::{Model, PartitionType};

const ONCE: &[PartitionType] = &[
    PartitionType::Esp,
    PartitionType::Xbootldr,
    PartitionType::Root,
    PartitionType::Usr,
    PartitionType::Home,
    PartitionType::Srv,
    PartitionType::Var,
    PartitionType::Tmp,
];

pub(super) fn check(model: &Model, out: &mut Checker) {
    for (index, partition) in model.partitions.iter().enumerate() {
        let ty = partition.ty.value;
        if !ONCE.contains(&ty) {
            continue;
        }
        let Some(first) = model.partitions[..index].iter().find(|p| p.ty.value == ty) else {
            continue;
        };
        let help = if matches!(ty, PartitionType::Usr | PartitionType::Root) {
            format!("for A/B updates declare one partition with `slots = 2`; otherwise change the type of `{}` (e.g. `linux-generic`)", partition.name)
        } else {
            format!(
                "remove one of them, or change the type of `{}` (e.g. `linux-generic`)",
                partition.name
            )
        };
        out.push(
            Diagnostic::new(
                Code::DuplicatePartitionType,
                format!(
                    "partitions `{}` and `{}` are both of type `{}`",
                    first.name,
                    partition.name,
                    ty.repart_name()
                ),
                Label::new(out.at(partition.ty.at), "second partition of this type"),
            )
            .with_label(Label::new(
                out.at(first.ty.at),
                "first partition of this type",
            ))
            .with_help(help),
        );
    }
}
