//! Encryption is performed by systemd-repart on the machine, when it makes the partition at
//! first boot; a partition made in the image is copied as it is, so `encrypt` on it would
//! encrypt nothing.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::{Create, Encrypt, Model, Verity};

pub(super) fn check(model: &Model, out: &mut Checker) {
    for (index, partition) in model.partitions.iter().enumerate() {
        // A verity or read-only partition is `encrypted-read-only` already.
        let read_only =
            partition.verity.value != Verity::None || partition.format.value.is_read_only();
        if partition.encrypt.value == Encrypt::None || read_only {
            continue;
        }
        let in_image = model
            .layout
            .iter()
            .any(|g| g.partition == index && g.create == Create::Image);
        if !in_image {
            continue;
        }
        let made = partition
            .create
            .at
            .map(|at| Label::new(at, "made in the image here"));
        out.push(
            Diagnostic::new(
                Code::EncryptedInImage,
                format!(
                    "partition `{}` is made in the image, so `encrypt = {}` would encrypt nothing",
                    partition.name,
                    partition.encrypt.value.symbol()
                ),
                Label::new(out.at(partition.encrypt.at), "nothing performs this encryption"),
            )
            .with_labels(made)
            .with_help("write `create = first-boot`: systemd-repart encrypts the partition when it makes it on the machine, with the machine's TPM; a key sealed at build time would be the build machine's, and the same for every machine"),
        );
    }
}
