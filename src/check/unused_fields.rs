//! Fields that the rest of the configuration makes meaningless: `verity-size` on a partition
//! without verity (there is no hash partition to size), and an editable command line in a UKI
//! that Secure Boot verifies (systemd-stub then ignores the boot loader's command line). The
//! fields extension kinds do not use are checked in `extension_fields.rs`.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::{Model, Verity};

pub(super) fn check(model: &Model, out: &mut Checker) {
    for partition in &model.partitions {
        let Some(at) = partition.verity_size.at else {
            continue;
        };
        if partition.verity.value != Verity::None {
            continue;
        }
        out.push(
            Diagnostic::new(
                Code::UnusedField,
                format!(
                    "`verity-size` means nothing for partition `{}`, which has no verity",
                    partition.name
                ),
                Label::new(at, "sizes a hash partition that does not exist"),
            )
            .with_help(
                "remove `verity-size`, or add `verity = hash` (or `signed`) to the partition",
            ),
        );
    }
    let trust = &model.trust;
    if let (true, Some(secure_boot)) = (trust.editable_cmdline.value, &trust.secure_boot) {
        out.push(
            Diagnostic::new(
                Code::UnusedField,
                "`trust.uki.editable-cmdline = true` cannot hold with Secure Boot: systemd-stub ignores the boot loader's command line when it verifies the UKI",
                Label::new(
                    out.at(trust.editable_cmdline.at),
                    "the command line would not be editable",
                ),
            )
            .with_labels(secure_boot.at.map(|at| Label::new(at, "Secure Boot")))
            .with_help("remove `editable-cmdline = true`; for other command lines at boot, add a `uki-profile` with its own `cmdline`"),
        );
    }
}
