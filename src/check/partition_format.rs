//! File systems a partition type can take: swap holds swap and nothing else holds swap; the
//! ESP and XBOOTLDR are FAT (vfat), which firmware reads.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::{Format, Model, PartitionType};

pub(super) fn check(model: &Model, out: &mut Checker) {
    for partition in &model.partitions {
        let ty = partition.ty.value;
        let format = partition.format.value;
        let required = match ty {
            PartitionType::Swap => Some(Format::Swap),
            PartitionType::Esp | PartitionType::Xbootldr => Some(Format::Vfat),
            _ => None,
        };
        let problem = match required {
            Some(required) if format != required => Some(format!(
                "`{}` partitions must be formatted `{}`",
                ty.repart_name(),
                required.name()
            )),
            None if format == Format::Swap => Some(format!(
                "only `swap` partitions can hold swap, and `{}` is of type `{}`",
                partition.name,
                ty.repart_name()
            )),
            _ => None,
        };
        let Some(problem) = problem else { continue };
        let help = match required {
            Some(required) => format!(
                "write `format = {}`, or remove `format` (it defaults to `{}` for this type)",
                required.name(),
                required.name()
            ),
            None => "write `type = swap`, or choose a file system such as `ext4`".to_owned(),
        };
        out.push(
            Diagnostic::new(
                Code::FormatMismatch,
                format!(
                    "partition `{}` cannot be `{}`: {problem}",
                    partition.name,
                    format.name()
                ),
                Label::new(out.at(partition.format.at), "this format"),
            )
            .with_labels(partition.ty.at.map(|t| Label::new(t, "the type")))
            .with_help(help),
        );
    }
}
