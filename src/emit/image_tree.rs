//! The image's own files (`image-tree/`, an extra tree of the image and of the base every
//! extension builds on) and the initrd's (`initrd-tree/`, an extra tree of the `initrd`
//! sub-image):
//!
//! - `/usr/lib/os-release` with the system's name, id and version in place of the
//!   distribution's, so that the extensions' release files match it;
//! - `/efi/loader/loader.conf` (copied into the ESP with the rest of `/efi`): systemd-boot's
//!   command-line editor off unless `trust.uki.editable-cmdline` allows editing;
//! - when a partition made at first boot is sealed to the TPM, a drop-in for
//!   `systemd-repart.service` with the PCRs of `trust.tpm2`, in the image and in the initrd
//!   (where systemd-repart makes the root file system), since systemd-repart takes them from its
//!   command line only.

use super::ini::{self, Dialect, Section};
use super::{os_release, File, Refused};
use crate::model::{Create, Model};

pub(crate) const DIR: &str = "image-tree";
pub(crate) const INITRD_DIR: &str = "initrd-tree";
const REPART_DROP_IN: &str = "usr/lib/systemd/system/systemd-repart.service.d/50-pcfg-tpm2.conf";

pub(crate) fn emit(model: &Model, source: &str) -> Result<Vec<File>, Refused> {
    let path = format!("{DIR}/usr/lib/os-release");
    let contents = os_release::render(&path, &model.system.os_release())?;
    let mut files = vec![File {
        path,
        contents,
        origins: model.system.at.into_iter().collect(),
    }];
    // `loader.conf` is `KEY VALUE` lines; only pcfg's own words go into it.
    let editor = ini::yes_no(model.trust.editable_cmdline.value);
    files.push(File {
        path: format!("{DIR}/efi/loader/loader.conf"),
        contents: format!("{}editor {editor}\n", ini::header(source)),
        origins: model.trust.editable_cmdline.at.into_iter().collect(),
    });
    if let Some(options) = repart_options(model, at_first_boot) {
        let mut command = vec!["systemd-repart".to_owned(), "--dry-run=no".to_owned()];
        command.extend(options);
        let service = || {
            let mut service = Section::new("Service");
            // An empty `ExecStart=` first: the drop-in replaces the command, not adds one.
            service.set("ExecStart", "");
            service.set("ExecStart", command.join(" "));
            service
        };
        let origins: Vec<_> = model
            .trust
            .tpm2
            .as_ref()
            .and_then(|t| t.pcrs.at.or(t.at))
            .into_iter()
            .collect();
        for dir in [DIR, INITRD_DIR] {
            let path = format!("{dir}/{REPART_DROP_IN}");
            let contents = ini::render(Dialect::Systemd, &path, source, &[service()])?;
            files.push(File {
                path,
                contents,
                origins: origins.clone(),
            });
        }
    }
    Ok(files)
}

/// Made by systemd-repart at first boot, where the drop-in applies.
pub(crate) fn at_first_boot(create: Create) -> bool {
    create == Create::FirstBoot
}

/// systemd-repart's TPM2 options, when it seals a partition made where `made` says (at first
/// boot for the drop-in, on the machine for the installer).
pub(crate) fn repart_options(model: &Model, made: impl Fn(Create) -> bool) -> Option<Vec<String>> {
    let sealed = model
        .layout
        .iter()
        .any(|g| made(g.create) && g.encrypt.uses_tpm2());
    let tpm2 = model.trust.tpm2.as_ref()?;
    sealed.then(|| tpm2.repart_options(model.system.systemd.value))
}
