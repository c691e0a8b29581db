//! `create = install`: the installer (`pcfg-install`, `emit/installer.rs`) runs on the booted
//! image and copies the image's partitions onto the disk it installs to; it makes only
//! partitions the image can boot without. The ESP, the boot partition, root, `/usr` and every
//! versioned (A/B or verity) partition come from the image, so none can be made by the
//! installer.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::{Create, Model, PartitionType};

pub(super) fn check(model: &Model, out: &mut Checker) {
    for partition in &model.partitions {
        if partition.create().value != Some(Create::Install) {
            continue;
        }
        let why = match partition.ty.value {
            PartitionType::Esp | PartitionType::Xbootldr => "the firmware boots the image from it",
            PartitionType::Root | PartitionType::Usr => {
                "the image boots from it, and the installer runs on the booted image"
            }
            _ if partition.is_versioned() => {
                "a versioned partition is the image's, copied as it is and updated whole"
            }
            _ => continue,
        };
        out.push(
            Diagnostic::new(
                Code::InstallImagePartition,
                format!(
                    "partition `{}` cannot be made by the installer: {why}",
                    partition.name
                ),
                Label::new(out.at(partition.create().at), "made by the installer"),
            )
            .with_help("remove `create = install`: the installer copies this partition from the image; `create = install` is for state partitions (`/home`, `/srv`, `/var`, swap, …)"),
        );
    }
}
