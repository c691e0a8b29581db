//! What extensions need from the build: each system or configuration extension and portable
//! service its `extension-release.NAME`, placed where systemd looks for it in the image; the
//! Flatpak apps a list to install at first boot (`APP RUNTIME`, one per line).

use std::fmt::Write as _;

use super::{os_release, File, Refused};
use crate::model::{ExtensionKind, Model};

pub(crate) const DIR: &str = "extensions";
pub(crate) const FLATPAKS: &str = "flatpak/apps.list";

pub(crate) fn emit(model: &Model) -> Result<Vec<File>, Refused> {
    let mut files = Vec::new();
    let mut flatpaks = String::new();
    for extension in &model.extensions {
        let origins: Vec<_> = extension.at.into_iter().collect();
        let place = match extension.kind.value {
            ExtensionKind::Flatpak => {
                let app = extension.app.value.as_deref().unwrap_or("");
                let mut line = vec![app];
                line.extend(extension.runtime.value.as_deref());
                for word in &line {
                    if word.is_empty() || word.chars().any(|c| c.is_whitespace() || c.is_control())
                    {
                        return Err(Refused {
                            file: FLATPAKS.to_owned(),
                            key: format!("the Flatpak `{}`", extension.name),
                            value: (*word).to_owned(),
                            reason: "white space, a control character, or nothing".to_owned(),
                        });
                    }
                }
                let _ = writeln!(flatpaks, "{}", line.join(" "));
                continue;
            }
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
    Ok(files)
}
