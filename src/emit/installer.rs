//! The installer, `pcfg-install IMAGE DISK`, emitted when a partition is declared
//! `create = install`: a `/bin/sh` script in the image (`/usr/bin/pcfg-install`) that erases
//! DISK and runs systemd-repart twice on it.
//!
//! 1. `--copy-from=IMAGE` with no definitions: the partitions of the disk image IMAGE (a file)
//!    copied as they are, as `dd` would, leaving the rest of DISK free.
//! 2. The definitions of first boot (`/usr/lib/repart.d/`) and the installer's own
//!    (`/usr/lib/pcfg/install.repart.d/`, only the partitions declared `create = install`;
//!    `emit/repart.rs`): what first boot would do on that disk — the copied partitions grown to
//!    their declared sizes, slot B and the state partitions made — and the installer's
//!    partitions besides. Booted, the installed disk then finds nothing left to make (in one
//!    run, the copies keep the image's sizes and fill the disk with the rest, so systemd-repart
//!    at every boot fails to grow them: found by the end-to-end test).
//!
//! Where an installer partition is encrypted with a key file (`encrypt = key-file` or
//! `key-file+tpm2`), the installer makes a recovery key — 32 random bytes in modhex, as
//! systemd-cryptenroll writes them, typed the same on any keyboard layout — passes it as
//! `--key-file=` from a file in `/run` (memory, mode 0600, removed on exit) and prints it once,
//! at the end. Where a partition is sealed to the TPM, it passes the PCRs of `trust.tpm2`, as
//! the first-boot drop-in does (`emit/image_tree.rs`). Nothing of the configuration goes into
//! the script but numbers and pcfg's own paths, each written as one shell word.

use super::{image_tree, ini, repart, shell, File};
use crate::model::{Create, Model};

/// Where the installer is in the image.
pub(crate) const PROGRAM: &str = "usr/bin/pcfg-install";

/// The installer's path in the output directory.
pub(crate) fn path() -> String {
    format!("{}/{PROGRAM}", image_tree::DIR)
}

pub(crate) fn emit(model: &Model, source: &str) -> Option<File> {
    if !repart::has_installer(model) {
        return None;
    }
    let key_file = model
        .layout
        .iter()
        .any(|g| g.create == Create::Install && g.encrypt.uses_key_file());
    // Its second run makes the first-boot partitions too: seals as the drop-in would.
    let tpm2 = image_tree::repart_options(model, Create::on_machine);
    let copy = [
        "systemd-repart",
        "--dry-run=no",
        "--empty=force",
        "--copy-from=\"$image\"",
        "--definitions=\"$none\"",
        "\"$disk\"",
    ]
    .join(" \\\n  ");
    let mut command = vec![
        "systemd-repart".to_owned(),
        "--dry-run=no".to_owned(),
        "--definitions=/usr/lib/repart.d".to_owned(),
        format!("--definitions={}", shell::word(repart::INSTALLER_IMAGE_DIR)),
    ];
    if key_file {
        command.push("--key-file=\"$key\"".to_owned());
    }
    for option in tpm2.iter().flatten() {
        command.push(shell::word(option));
    }
    command.push("\"$disk\"".to_owned());
    let origins = model
        .partitions
        .iter()
        .filter(|p| p.create().value == Some(Create::Install))
        .filter_map(|p| p.create().at)
        .collect();
    let mut script = format!(
        "#!/bin/sh\n{header}\
         # pcfg-install IMAGE DISK: installs the system onto DISK, erasing everything on it.\n\
         # systemd-repart copies every partition of IMAGE (the disk image the build made, as a\n\
         # file) onto DISK, then does there what first boot would (/usr/lib/repart.d) and makes\n\
         # the partitions declared `create = install`, which only this installer makes\n\
         # ({dir}).\n\
         set -eu\n\
         if [ $# -ne 2 ] || [ ! -f \"$1\" ]; then\n\
         \x20 echo \"usage: pcfg-install IMAGE DISK (IMAGE: the disk image, a file)\" >&2\n\
         \x20 exit 2\n\
         fi\n\
         image=$1 disk=$2\n\
         none=$(mktemp -d /run/pcfg-install.XXXXXXXX)\n\
         trap 'rmdir \"$none\"' EXIT\n\
         # The image's partitions, as they are (no definitions of its own: `$none` is empty).\n\
         {copy}\n",
        header = ini::header(source),
        dir = repart::INSTALLER_IMAGE_DIR,
    );
    if key_file {
        script.push_str(
            "# The recovery key: 32 random bytes in modhex, in eight groups of eight, as\n\
             # systemd-cryptenroll writes recovery keys. Kept in memory (/run), never on a disk.\n\
             key=$(mktemp /run/pcfg-recovery-key.XXXXXXXX)\n\
             trap 'rm -f \"$key\"; rmdir \"$none\"' EXIT\n\
             od -An -vtx1 -N32 /dev/urandom | tr -d ' \\n' | tr 0123456789abcdef cbdefghijklnrtuv |\n\
             \x20 sed 's/.\\{8\\}/&-/g; s/-$//' | tr -d '\\n' >\"$key\"\n",
        );
    }
    script.push_str("# Then what first boot would make, and the installer's own partitions.\n");
    script.push_str(&command.join(" \\\n  "));
    script.push('\n');
    if key_file {
        script.push_str(
            "# Shown once: it opens the encrypted partitions when the TPM cannot.\n\
             printf 'The recovery key of %s (keep it safe, it is stored nowhere else):\\n%s\\n' \"$disk\" \"$(cat \"$key\")\"\n",
        );
    }
    Some(File {
        path: path(),
        contents: script,
        origins,
    })
}
