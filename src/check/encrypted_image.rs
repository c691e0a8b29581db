//! Encryption is performed by systemd-repart on the machine, when it makes the partition at
//! first boot; a partition made in the image is copied as it is, so `encrypt` on it would
//! encrypt nothing. And at first boot systemd-repart is given no key file: `encrypt = key-file`
//! (or `key-file+tpm2`) would add a keyslot with an empty key, which anyone can type. Only the
//! installer (`create = install`) has a key file: the recovery key it makes.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::{Create, Encrypt, Model, Partition, Verity};

pub(super) fn check(model: &Model, out: &mut Checker) {
    for (index, partition) in model.partitions.iter().enumerate() {
        // A verity or read-only partition is `encrypted-read-only` already.
        let read_only =
            partition.verity().value != Verity::None || partition.format.value.is_read_only();
        if partition.encrypt().value == Encrypt::None || read_only {
            continue;
        }
        let made = |create: Create| {
            model
                .layout
                .iter()
                .any(|g| g.partition == index && g.create == create)
        };
        if made(Create::Image) {
            in_image(partition, out);
        }
        if made(Create::FirstBoot) {
            empty_key_file(partition, out);
        }
    }
}

fn in_image(partition: &Partition, out: &mut Checker) {
    let made = partition
        .create()
        .at
        .map(|at| Label::new(at, "made in the image here"));
    out.push(
        Diagnostic::new(
            Code::EncryptedInImage,
            format!(
                "partition `{}` is made in the image, so `encrypt = {}` would encrypt nothing",
                partition.name,
                partition.encrypt().value.symbol()
            ),
            Label::new(out.at(partition.encrypt().at), "nothing performs this encryption"),
        )
        .with_labels(made)
        .with_help("write `create = first-boot`: systemd-repart encrypts the partition when it makes it on the machine, with the machine's TPM; a key sealed at build time would be the build machine's, and the same for every machine"),
    );
}

/// `key-file` on a partition made at first boot: systemd-repart.service runs without
/// `--key-file=`, and systemd-repart then encrypts with an empty key (checked with
/// systemd-repart: `cryptsetup open` with an empty key file opens the volume).
fn empty_key_file(partition: &Partition, out: &mut Checker) {
    let encrypt = partition.encrypt().value;
    let what = match encrypt {
        Encrypt::KeyFile => "so anyone can open it",
        Encrypt::KeyFileTpm2 => "which opens it without the TPM",
        Encrypt::None | Encrypt::Tpm2 => return,
    };
    let diagnostic = Diagnostic::new(
        Code::EmptyKeyFile,
        format!(
            "partition `{}` is made at first boot, where systemd-repart has no key file: `encrypt = {}` would give it a keyslot with an empty key, {what}",
            partition.name,
            encrypt.symbol()
        ),
        Label::new(out.at(partition.encrypt().at), "an empty key at first boot"),
    )
    .with_help("write `encrypt = tpm2`: systemd-repart seals the key to the machine's TPM (the PCRs of `trust.tpm2`) as it makes the partition; or `create = install`, and the installer (pcfg-install) makes it with a recovery key");
    out.push(match partition.encrypt().at {
        Some(at) => diagnostic.with_fix(at, "tpm2"),
        None => diagnostic,
    });
}
