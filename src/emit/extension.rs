//! What extensions need from the build: each system or configuration extension and portable
//! service its `extension-release.NAME`, placed where systemd looks for it in the image; the
//! Flatpak apps a list to install at first boot (`APP RUNTIME`, one per line).

use std::fmt::Write as _;

use super::File;
use crate::model::{ExtensionKind, Model};

pub(crate) const DIR: &str = "extensions";
pub(crate) const FLATPAKS: &str = "flatpak/apps.list";

pub(crate) fn emit(model: &Model) -> Vec<File> {
    let mut files = Vec::new();
    let mut flatpaks = String::new();
    for extension in &model.extensions {
        let origins: Vec<_> = extension.at.into_iter().collect();
        let place = match extension.kind.value {
            ExtensionKind::Flatpak => {
                let app = extension.app.value.as_deref().unwrap_or("");
                let _ = match &extension.runtime.value {
                    Some(runtime) => writeln!(flatpaks, "{app} {runtime}"),
                    None => writeln!(flatpaks, "{app}"),
                };
                continue;
            }
            ExtensionKind::Confext => "etc/extension-release.d",
            ExtensionKind::Sysext | ExtensionKind::Portable => "usr/lib/extension-release.d",
        };
        let contents =
            extension
                .release(&model.system)
                .iter()
                .fold(String::new(), |mut text, (k, v)| {
                    let _ = writeln!(text, "{k}={v}");
                    text
                });
        files.push(File {
            path: format!(
                "{DIR}/{}/{place}/extension-release.{}",
                extension.name, extension.name
            ),
            contents,
            origins,
        });
    }
    if !flatpaks.is_empty() {
        let origins = model
            .extensions
            .iter()
            .filter(|e| e.kind.value == ExtensionKind::Flatpak)
            .filter_map(|e| e.at)
            .collect();
        files.push(File {
            path: FLATPAKS.to_owned(),
            contents: flatpaks,
            origins,
        });
    }
    files
}
