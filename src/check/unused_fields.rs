//! Fields that the rest of the configuration makes meaningless: `verity-size` on a partition
//! without verity (there is no hash partition to size), and an editable command line in a UKI
//! that Secure Boot verifies (systemd-stub then ignores the boot loader's command line), and a
//! PCR policy key when the policy is not signed (nothing signs with it). The
//! fields extension kinds do not use are checked in `extension_fields.rs`.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::{Model, Verity};

pub(super) fn check(model: &Model, out: &mut Checker) {
    for partition in &model.partitions {
        let Some(at) = partition.verity_size().at else {
            continue;
        };
        if partition.verity().value != Verity::None {
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
    if let Some(tpm2) = trust.tpm2.as_ref().filter(|t| !t.signed_policy.value) {
        // The key and the certificate, reported once for the pair.
        let mut set = [&tpm2.key, &tpm2.cert].into_iter().filter_map(|v| v.at);
        if let Some(at) = set.next() {
            out.push(
                Diagnostic::new(
                    Code::UnusedField,
                    "`trust.tpm2` has a PCR policy key, but `signed-policy = false`: nothing is signed with it",
                    Label::new(at, "signs no policy"),
                )
                .with_labels(set.map(|s| Label::new(s, "nor does this")))
                .with_labels(tpm2.signed_policy.at.map(|s| Label::new(s, "the policy is not signed")))
                .with_help("remove the key and certificate from `trust.tpm2`, or set `signed-policy = true` to bind to PCR 11 as signed with them"),
            );
        }
    }
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
