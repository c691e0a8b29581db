//! The image's `/etc` on a system whose root file system is made at first boot: what the
//! packages install in `/etc` (sshd's configuration, PAM's, …) is built into the image tree,
//! but only `/usr` reaches the disk, so the installed system would start with an empty `/etc`
//! and services fail for lack of their configuration. Two files carry it over, as systemd's
//! hermetic-`/usr` design intends:
//!
//! - `mkosi/mkosi.finalize`, which mkosi runs after building the tree: a copy of `/etc` in
//!   `/usr/share/factory/etc`, without the files that must differ per machine or hold secrets
//!   (machine id, password hashes, SSH host keys);
//! - `image-tree/usr/lib/tmpfiles.d/pcfg-factory-etc.conf`, `C+ /etc`: at every boot
//!   systemd-tmpfiles copies into `/etc` whatever it lacks from the factory copy, never
//!   replacing what is there (what systemd-firstboot and systemd-sysusers wrote, or what the
//!   administrator changed).
//!
//! Both are constant text: no value of the configuration goes into them.

use super::{image_tree, ini, mkosi, File};
use crate::model::Model;

/// mkosi's finalize script, by the name mkosi runs from the project directory without a
/// `FinalizeScripts=` line (for the image only: sub-images have directories of their own).
pub(crate) const SCRIPT: &str = "mkosi.finalize";
const TMPFILES: &str = "usr/lib/tmpfiles.d/pcfg-factory-etc.conf";

/// Files of `/etc` that the factory copy leaves out: per machine (the machine id; SSH host
/// keys, which every installation would otherwise share), secret (password hashes) or state of
/// the build (`.pwd.lock`, `.updated`, which would mark `/etc` as up to date with a `/usr` it
/// has never seen).
const LEFT_OUT: &[&str] = &[
    "machine-id",
    "shadow",
    "shadow-",
    "gshadow",
    "gshadow-",
    ".pwd.lock",
    ".updated",
    "ssh/ssh_host_*",
];

/// Where the finalize script is written in the output directory.
pub(crate) fn script_path() -> String {
    format!("{}/{SCRIPT}", mkosi::DIR)
}

pub(crate) fn emit(model: &Model, source: &str) -> Vec<File> {
    if !model.etc_made_at_first_boot() {
        return Vec::new();
    }
    let origins: Vec<_> = model
        .layout
        .iter()
        .filter(|g| g.ty == crate::model::PartitionType::Root)
        .filter_map(|g| model.source(g).and_then(|p| p.at))
        .chain(model.system.at)
        .take(1)
        .collect();
    // The entry file's name, escaped for a comment line.
    let header = ini::header(source);
    let left_out = LEFT_OUT.iter().fold(String::new(), |mut out, f| {
        out.push_str(" \"$factory\"/");
        out.push_str(f);
        out
    });
    let script = format!(
        "#!/bin/sh\n{header}\
         # The root file system is made at first boot: keep the image's /etc in\n\
         # /usr/share/factory/etc, from where systemd-tmpfiles copies what /etc lacks\n\
         # (/{TMPFILES}). Per-machine and secret files stay out.\n\
         set -eu\n\
         factory=\"$BUILDROOT/usr/share/factory/etc\"\n\
         mkdir -p \"$factory\"\n\
         # Files the packages put into the factory directory themselves are kept (tar's\n\
         # --skip-old-files; cp's --update=none needs coreutils 9.3). Owners by number: the\n\
         # names are the image's, not those of the machine that builds it.\n\
         (cd \"$BUILDROOT/etc\" && tar --create --numeric-owner --file=- .) |\n\
         \x20 (cd \"$factory\" && tar --extract --numeric-owner --same-owner --same-permissions \\\n\
         \x20   --skip-old-files --file=-)\n\
         rm -f{left_out}\n"
    );
    let tmpfiles = format!(
        "{header}\
         # Copy into /etc what it lacks from /usr/share/factory/etc (the image's /etc).\n\
         C+ /etc - - - -\n"
    );
    vec![
        File {
            path: script_path(),
            contents: script,
            origins: origins.clone(),
        },
        File {
            path: format!("{}/{TMPFILES}", image_tree::DIR),
            contents: tmpfiles,
            origins,
        },
    ]
}
