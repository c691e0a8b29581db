//! What extensions need from the build: each system or configuration extension and portable
//! service its `extension-release.NAME`, placed where systemd looks for it in the image.

use super::{os_release, File, Refused};
use crate::model::{ExtensionKind, Model};

pub(crate) const DIR: &str = "extensions";

pub(crate) fn emit(model: &Model) -> Result<Vec<File>, Refused> {
    let mut files = Vec::new();
    for extension in &model.extensions {
        let origins: Vec<_> = extension.at.into_iter().collect();
        let place = match extension.kind.value {
            // Installed by Flatpak itself (`flatpak.rs`); no release file.
            ExtensionKind::Flatpak => continue,
            ExtensionKind::Confext => "etc/extension-release.d",
            ExtensionKind::Sysext | ExtensionKind::Portable => "usr/lib/extension-release.d",
        };
        // Named after the image, which is what systemd looks the file up by.
        let path = format!(
            "{DIR}/{}/{place}/extension-release.{}",
            extension.name, extension.image
        );
        let contents = os_release::render(&path, &extension.release(&model.system))?;
        files.push(File {
            path,
            contents,
            origins,
        });
    }
    Ok(files)
}
