//! `/var` on a partition of its own, mounted by its label.
//!
//! systemd-gpt-auto-generator mounts a `var` partition only when its partition UUID is the
//! HMAC-SHA256 of the `var` type UUID keyed by the machine ID (the Discoverable Partitions
//! Specification binds `/var` to its installation), and systemd-repart derives that UUID from
//! `/etc/machine-id` — which does not exist yet where the partition is made: in the initrd at
//! first boot ("No machine ID set, using randomized partition UUIDs"), by the installer (the
//! booted image's machine ID), in the image (mkosi's seed). So gpt-auto never mounts it and
//! `/var` would stay on root (found by the end-to-end test). pcfg mounts it as snosi does, by
//! partition label (`%M-var` names one system's `/var`), with units of its own in `/usr`: the
//! root file system's `/etc` may be made at first boot, so `fstab` and `crypttab` cannot carry
//! it.
//!
//! - `var.mount` (`What=` the partition, or `/dev/mapper/var` when encrypted), which
//!   `local-fs.target` requires, as it requires an `fstab` line;
//! - when encrypted, `systemd-cryptsetup@var.service`, written as systemd-cryptsetup-generator
//!   writes it for the `crypttab` line `var /dev/disk/by-partlabel/LABEL - tpm2-device=auto`
//!   (no TPM option for a key-file-only partition, whose recovery key is asked for).

use std::fmt::Write as _;

use super::ini::{self, Dialect, Section};
use super::{image_tree, File, Refused};
use crate::model::{Encrypt, GptPartition, Model, PartitionType, Role};

const UNITS: &str = "usr/lib/systemd/system";

/// The units that mount `/var`, when a `var` partition is declared.
pub(crate) fn emit(model: &Model, source: &str) -> Result<Vec<File>, Refused> {
    let Some((gpt, label)) = model
        .layout
        .iter()
        .filter(|g| g.ty == PartitionType::Var && g.role == Role::Data)
        .find_map(|g| Some((g, g.label.text(&model.system)?)))
    else {
        return Ok(Vec::new());
    };
    let origins: Vec<_> = model.source(gpt).and_then(|p| p.at).into_iter().collect();
    let partition = format!("/dev/disk/by-partlabel/{}", udev_encode(&label));
    let mut files = Vec::new();
    let mut file = |name: &str, sections: &[Section]| -> Result<(), Refused> {
        let path = format!("{}/{UNITS}/{name}", image_tree::DIR);
        let contents = ini::render(Dialect::Systemd, &path, source, sections)?;
        files.push(File {
            path,
            contents,
            origins: origins.clone(),
        });
        Ok(())
    };
    let encrypted = gpt.encrypt != Encrypt::None;
    let mut mount_unit = Section::new("Unit");
    mount_unit.set("Description", "Variable Data Partition");
    let what = if encrypted {
        let service = "systemd-cryptsetup@var.service";
        file(service, &cryptsetup(gpt, &partition))?;
        mount_unit.set("Requires", service);
        mount_unit.set("After", service);
        "/dev/mapper/var".to_owned()
    } else {
        partition
    };
    let mut mount = Section::new("Mount");
    mount.set("What", what);
    mount.set("Where", "/var");
    if let Some(format) = gpt.format {
        mount.set("Type", format.name());
    }
    file("var.mount", &[mount_unit, mount])?;
    // As an `fstab` line without `nofail`: no `/var`, no boot — never a `/var` on root instead.
    let mut wants = Section::new("Unit");
    wants.set("Requires", "var.mount");
    file("local-fs.target.d/50-pcfg-var.conf", &[wants])?;
    Ok(files)
}

/// `systemd-cryptsetup@var.service` for the partition `device`, as the generator writes it.
fn cryptsetup(gpt: &GptPartition, device: &str) -> [Section; 2] {
    let device_unit = unit_name_from_path(device, "device");
    let mut unit = Section::new("Unit");
    unit.set("Description", "Cryptography Setup for var");
    unit.set("DefaultDependencies", "no");
    unit.set("IgnoreOnIsolate", "true");
    unit.set("After", "cryptsetup-pre.target systemd-udevd-kernel.socket");
    unit.set("Before", "blockdev@dev-mapper-var.target");
    unit.set("Wants", "blockdev@dev-mapper-var.target");
    unit.set("Conflicts", "umount.target");
    unit.set("Before", "cryptsetup.target umount.target");
    unit.set("BindsTo", device_unit.clone());
    unit.set("After", device_unit);
    let tpm2 = gpt.encrypt.uses_tpm2();
    if tpm2 {
        unit.set("Wants", "tpm2.target");
        unit.set("After", "tpm2.target systemd-tpm2-setup-early.service");
    }
    let mut service = Section::new("Service");
    service.set("Type", "oneshot");
    service.set("RemainAfterExit", "yes");
    service.set("TimeoutSec", "infinity");
    service.set("KeyringMode", "shared");
    service.set("OOMScoreAdjust", "500");
    service.set("ImportCredential", "cryptsetup.*");
    let mut attach = format!(
        "/usr/lib/systemd/systemd-cryptsetup attach var {} -",
        exec_word(device)
    );
    if tpm2 {
        attach.push_str(" tpm2-device=auto");
    }
    service.set("ExecStart", attach);
    service.set("ExecStop", "/usr/lib/systemd/systemd-cryptsetup detach var");
    [unit, service]
}

/// The name udev gives a partition label under `/dev/disk/by-partlabel/`: bytes other than
/// ASCII letters, digits and `#+-.:=@_` (and whole UTF-8 characters beyond ASCII) as `\xHH`
/// (udev's `encode_devnode_name`).
fn udev_encode(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    for c in label.chars() {
        if c.is_ascii_alphanumeric() || "#+-.:=@_".contains(c) || !c.is_ascii() {
            out.push(c);
        } else {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        }
    }
    out
}

/// A unit name for a path, as `systemd-escape --path --suffix=SUFFIX` makes it: the path
/// without its outer `/`, each `/` a `-`, and every byte other than ASCII letters, digits, `:`,
/// `_` and `.` (or a `.` first) as `\xHH`.
fn unit_name_from_path(path: &str, suffix: &str) -> String {
    let trimmed = path.trim_matches('/');
    let mut out = String::with_capacity(trimmed.len() + suffix.len() + 1);
    for (i, byte) in trimmed.bytes().enumerate() {
        match byte {
            b'/' => out.push('-'),
            b'.' if i > 0 => out.push('.'),
            b if b.is_ascii_alphanumeric() || b == b':' || b == b'_' => out.push(char::from(b)),
            b => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('.');
    out.push_str(suffix);
    out
}

/// One argument of `ExecStart=`, which systemd splits at white space and C-unescapes: quoted,
/// with `\` and `"` escaped.
fn exec_word(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '\\' || c == '"' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The unit names agree with `systemd-escape --path`, the tool's own escaping.
    #[test]
    fn unit_names_are_what_systemd_escape_makes() {
        for path in [
            "/dev/disk/by-partlabel/HeadlessOS-var",
            "/dev/disk/by-partlabel/snosi_var.2",
            "/dev/disk/by-partlabel/a\\x20b",
            "/dev/disk/by-partlabel/.hidden",
        ] {
            let output = std::process::Command::new("systemd-escape")
                .args(["--path", "--suffix=device", path])
                .output()
                .expect("systemd-escape runs");
            let expected = String::from_utf8(output.stdout).expect("UTF-8");
            assert_eq!(
                unit_name_from_path(path, "device"),
                expected.trim_end(),
                "{path}"
            );
        }
    }

    #[test]
    fn labels_are_encoded_as_udev_names_them() {
        assert_eq!(udev_encode("HeadlessOS-var"), "HeadlessOS-var");
        assert_eq!(udev_encode("a/b$c"), "a\\x2fb\\x24c");
        assert_eq!(udev_encode("vär"), "vär");
        assert_eq!(exec_word("a\\x2fb"), "\"a\\\\x2fb\"");
    }
}
