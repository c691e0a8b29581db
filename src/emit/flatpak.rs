//! Flatpak apps, installed by Flatpak's own mechanism: one `.preinstall` file per app in
//! `/usr/share/flatpak/preinstall.d/` (flatpak ≥ 1.16 reads them) naming the app and its
//! runtime, and a unit that runs `flatpak preinstall` once the network is up at boot, enabled by
//! a preset (mkosi applies presets when it builds the image). Each declared remote is a
//! `.flatpakrepo` file in `/usr/share/flatpak/remotes.d/` (flatpak ≥ 1.15.12 reads it there, and
//! adds the remote to the system installation on first use) with its title, URL and key
//! (`GPGKey=`, the base64 of the binary OpenPGP key). The `flatpak` package itself is added to
//! the image by the model (`Model::image_packages`).

use super::image_tree::DIR;
use super::ini::{self, Dialect, Section};
use super::{File, Refused};
use crate::model::{ExtensionKind, Model};
use crate::plan::Inputs;
use crate::schema::domains::flatpak_ref_parts;

const PREINSTALL_DIR: &str = "usr/share/flatpak/preinstall.d";
const REMOTES_DIR: &str = "usr/share/flatpak/remotes.d";
const UNIT: &str = "pcfg-flatpak-preinstall.service";

pub(crate) fn emit(model: &Model, source: &str, inputs: &Inputs) -> Result<Vec<File>, Refused> {
    let mut files = remotes(model, source, inputs)?;
    files.extend(apps(model, source)?);
    Ok(files)
}

/// One `.preinstall` file per Flatpak app, and the unit and preset that apply them; nothing
/// without Flatpak apps.
fn apps(model: &Model, source: &str) -> Result<Vec<File>, Refused> {
    let mut files = Vec::new();
    let flatpaks = model
        .extensions
        .iter()
        .filter(|e| e.kind.value == ExtensionKind::Flatpak);
    for extension in flatpaks.clone() {
        let mut groups = Vec::new();
        if let Some(app) = &extension.app().value {
            groups.push(group(app, false));
        }
        if let Some(runtime) = &extension.runtime().value {
            groups.push(group(runtime, true));
        }
        let path = format!("{DIR}/{PREINSTALL_DIR}/{}.preinstall", extension.name);
        let contents = ini::render(Dialect::KeyFile, &path, source, &groups)?;
        files.push(File {
            path,
            contents,
            origins: extension.at.into_iter().collect(),
        });
    }
    if files.is_empty() {
        return Ok(files);
    }
    let origins: Vec<_> = flatpaks.filter_map(|e| e.at).collect();
    let mut unit = Section::new("Unit");
    unit.set("Description", "Install the Flatpak apps the OS declares");
    unit.set("Documentation", "man:flatpak-preinstall(1)");
    unit.set("Wants", "network-online.target");
    unit.set("After", "network-online.target");
    let mut service = Section::new("Service");
    service.set("Type", "oneshot");
    service.set(
        "ExecStart",
        "flatpak preinstall --system --assumeyes --noninteractive",
    );
    let mut install = Section::new("Install");
    install.set("WantedBy", "multi-user.target");
    let path = format!("{DIR}/usr/lib/systemd/system/{UNIT}");
    let contents = ini::render(Dialect::Systemd, &path, source, &[unit, service, install])?;
    files.push(File {
        path,
        contents,
        origins: origins.clone(),
    });
    let path = format!("{DIR}/usr/lib/systemd/system-preset/50-pcfg.preset");
    let contents = format!("{}enable {UNIT}\n", ini::header(source));
    files.push(File {
        path,
        contents,
        origins,
    });
    Ok(files)
}

/// One `.flatpakrepo` per declared remote; refused when a key cannot be read as a public key
/// (which `pcfg check` reports first, as `flatpak-remote-key`).
fn remotes(model: &Model, source: &str, inputs: &Inputs) -> Result<Vec<File>, Refused> {
    let mut files = Vec::new();
    for remote in &model.flatpak_remotes {
        let path = format!("{DIR}/{REMOTES_DIR}/{}.flatpakrepo", remote.name);
        let key = inputs
            .flatpak_key(&remote.key.value)
            .map_err(|why| Refused {
                file: path.clone(),
                key: "GPGKey".to_owned(),
                value: remote.key.value.clone(),
                reason: format!("the key file {why}"),
            })?;
        let mut repo = Section::new("Flatpak Repo");
        repo.set("Title", remote.title.value.as_str());
        repo.set("Url", remote.url.value.as_str());
        repo.set("GPGKey", key);
        let contents = ini::render(Dialect::KeyFile, &path, source, &[repo])?;
        files.push(File {
            path,
            contents,
            origins: remote.at.into_iter().collect(),
        });
    }
    Ok(files)
}

/// `[Flatpak Preinstall ID]` for an app or runtime written as an id (`org.gnome.Maps`), an id
/// and branch (`org.gnome.Platform//47`) or a whole ref (`app/ID/ARCH/BRANCH`), read as the
/// grammar reads it. Without a branch an app is Flathub's `stable` (Flatpak itself would look
/// for `master`).
fn group(reference: &str, runtime: bool) -> Section {
    let kind = if runtime { "runtime" } else { "app" };
    let (id, _, branch) = flatpak_ref_parts(reference, kind).unwrap_or((reference, "", ""));
    let branch = if branch.is_empty() { "stable" } else { branch };
    let mut section = Section::new(format!("Flatpak Preinstall {id}"));
    section.set("Branch", branch);
    section.set("IsRuntime", runtime.to_string());
    section
}
