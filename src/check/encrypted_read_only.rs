//! Encryption protects data that changes at run time; a verity-protected or read-only file
//! system is already integrity-checked, and systemd cannot stack LUKS under dm-verity images.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::{Encrypt, Model, Verity};

pub(super) fn check(model: &Model, out: &mut Checker) {
    for partition in model
        .partitions
        .iter()
        .filter(|p| p.encrypt().value != Encrypt::None)
    {
        let reason = if partition.verity().value != Verity::None {
            Some(("it is verity-protected", partition.verity().at))
        } else if partition.format.value.is_read_only() {
            Some(("its file system is read-only", partition.format.at))
        } else {
            None
        };
        let Some((reason, other)) = reason else {
            continue;
        };
        out.push(
            Diagnostic::new(Code::EncryptedReadOnly, format!("partition `{}` is encrypted, but {reason}", partition.name), Label::new(out.at(partition.encrypt().at), "encryption"))
                .with_labels(other.map(|o| Label::new(o, "read-only here")))
                .with_help("remove `encrypt`: a read-only image is verified, not encrypted; encrypt the partitions that hold state (root, swap)"),
        );
    }
}
