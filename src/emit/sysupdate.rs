//! `sysupdate.d` transfers for systemd-sysupdate: per update channel, one per versioned
//! partition (slot A's signature, hash and data: sysupdate finds the free slot by its `_empty`
//! label) and one for the UKI; and for the channel the image carries, one component per system
//! or configuration extension (`/usr/lib/sysupdate.NAME.d/`), which downloads its image into
//! `/var/lib/extensions.d/` and points `/var/lib/extensions/NAME.raw` at the current one.
//!
//! Source patterns match the split artifacts mkosi writes (`<name>_<version>_<arch>.<type>.<uuid>.raw`,
//! from `SplitName=%t.%U`); target patterns match the labels of the repart definitions.

use super::ini::{self, Delimiter, Dialect, Section, Value};
use super::repart::file_names;
use super::{File, Refused};
use crate::model::update::Channel;
use crate::model::{gates, ExtensionKind, GptPartition, Model, TransferTarget};

pub(crate) const DIR: &str = "sysupdate.d";
/// The extensions' components, which the image (not the base the extensions build on) takes
/// into `/usr/lib`: adding an extension changes the image, never the other extensions.
pub(crate) const COMPONENTS_DIR: &str = "sysupdate-components";

pub(crate) fn emit(model: &Model, source: &str) -> Result<Vec<File>, Refused> {
    let suffix = suffix(model);
    let names = file_names(model);
    let mut files = Vec::new();
    for (index, channel) in model.updates.channels.iter().enumerate() {
        let mut last_number = 0;
        for transfer in model
            .updates
            .transfers
            .iter()
            .filter(|t| t.channel == index)
        {
            let (name, sections) = match transfer.target {
                TransferTarget::Partition(i) => {
                    let Some(gpt) = model.layout.get(i) else {
                        continue;
                    };
                    let name = names
                        .get(i)
                        .map_or_else(String::new, |n| n.replace(".conf", suffix));
                    last_number = last_number.max(
                        name.split('-')
                            .next()
                            .and_then(|n| n.parse().ok())
                            .unwrap_or(0),
                    );
                    (name, partition(model, channel, gpt))
                }
                TransferTarget::Uki => (
                    format!("{:02}-uki{suffix}", (last_number / 10 + 1) * 10),
                    uki(model, channel),
                ),
            };
            let origins = channel.at.into_iter().collect();
            let path = format!("{DIR}/{}/{name}", channel.name);
            let contents = ini::render(Dialect::Systemd, &path, source, &sections)?;
            files.push(File {
                path,
                contents,
                origins,
            });
        }
    }
    Ok(files)
}

/// `.transfer` from systemd 257 on, `.conf` before.
fn suffix(model: &Model) -> &'static str {
    if model.system.systemd.value >= gates::SYSUPDATE_TRANSFER_SUFFIX {
        ".transfer"
    } else {
        ".conf"
    }
}

fn transfer_section(channel: &Channel) -> Section {
    let mut s = Section::new("Transfer");
    s.set("ProtectVersion", Value::specifier("%A"));
    verify(&mut s, channel);
    s
}

/// `Verify=yes` for a channel with a key: downloads are checked against its signed
/// `SHA256SUMS` (`SHA256SUMS.gpg`) with the image's keyring, which is that key. Without a key,
/// systemd's default is the same check against the keyring the distribution's systemd ships,
/// so nothing is written. A local directory has nothing to verify.
fn verify(section: &mut Section, channel: &Channel) {
    if channel.is_remote() && channel.key.value.is_some() {
        section.set("Verify", "yes");
    }
}

/// `[Source]`: a URL is fetched (`url-file`), anything else is a local directory.
fn source_section(channel: &Channel, pattern: &str) -> Section {
    let mut s = Section::new("Source");
    s.set(
        "Type",
        if channel.is_remote() {
            "url-file"
        } else {
            "regular-file"
        },
    );
    s.set("Path", channel.source.value.as_str());
    // The file as published: compressed by the publish step, decompressed by sysupdate.
    s.set(
        "MatchPattern",
        format!("{pattern}{}", channel.compress.value.suffix()),
    );
    s
}

fn partition(model: &Model, channel: &Channel, gpt: &GptPartition) -> Vec<Section> {
    let name = &model.system.name.value;
    let arch = model.system.arch.value.name();
    let ty = gpt.ty.full_name(model.system.arch.value);
    // The label with `@v` for the version: what slot A is labelled, and what sysupdate labels
    // the free slot when it writes a new version there.
    let pattern = gpt
        .label
        .pattern(&model.system)
        .unwrap_or_else(|| format!("{name}_@v"));
    let mut target = Section::new("Target");
    target.set("Type", "partition");
    target.set("Path", "auto");
    target.set("MatchPattern", pattern);
    target.set("MatchPartitionType", ty.clone());
    target.set("PartitionFlags", "0");
    target.set("ReadOnly", "1");
    vec![
        transfer_section(channel),
        source_section(
            channel,
            &format!("{}_@v_{arch}.{ty}.@u.raw", channel.published_name(name)),
        ),
        target,
    ]
}

fn uki(model: &Model, channel: &Channel) -> Vec<Section> {
    let name = &model.system.name.value;
    let arch = model.system.arch.value.name();
    let mut target = Section::new("Target");
    target.set("Type", "regular-file");
    target.set("Path", "/EFI/Linux");
    if model.system.systemd.value >= gates::SYSUPDATE_PATH_RELATIVE_TO {
        target.set("PathRelativeTo", "boot");
    }
    // With boot counting, systemd-boot renames the file to `+LEFT-DONE` and then `+LEFT`.
    target.set_list(
        "MatchPattern",
        Delimiter::Space,
        [
            format!("{name}_@v_{arch}+@l-@d.efi"),
            format!("{name}_@v_{arch}+@l.efi"),
            format!("{name}_@v_{arch}.efi"),
        ],
    );
    target.set("Mode", "0644");
    target.set("TriesLeft", model.updates.tries.value.to_string());
    target.set("TriesDone", "0");
    target.set("InstancesMax", model.updates.keep.value.to_string());
    vec![
        transfer_section(channel),
        source_section(
            channel,
            &format!("{}_@v_{arch}.efi", channel.published_name(name)),
        ),
        target,
    ]
}

/// The extension components of the first channel (the one the image carries):
/// `sysupdate-components/sysupdate.IMAGE.d/IMAGE.transfer`, installed into `/usr/lib`.
pub(crate) fn components(model: &Model, source: &str) -> Result<Vec<File>, Refused> {
    let Some(channel) = model.updates.channels.first() else {
        return Ok(Vec::new());
    };
    let suffix = suffix(model);
    let mut files = Vec::new();
    for extension in model.extensions.iter().filter(|e| e.updatable()) {
        let image = &extension.image;
        let (dir, links) = if extension.kind.value == ExtensionKind::Confext {
            ("/var/lib/confexts.d", "/var/lib/confexts")
        } else {
            ("/var/lib/extensions.d", "/var/lib/extensions")
        };
        // mkosi names the image `IMAGE_VERSION.raw` (`Output=%i_%v` in its sub-image).
        let pattern = format!("{image}_@v.raw");
        let mut target = Section::new("Target");
        target.set("Type", "regular-file");
        target.set("Path", dir);
        target.set("MatchPattern", pattern.clone());
        target.set("CurrentSymlink", format!("{links}/{image}.raw"));
        target.set("Mode", "0444");
        target.set("InstancesMax", model.updates.keep.value.to_string());
        let mut sections = vec![source_section(channel, &pattern), target];
        let origins: Vec<_> = extension.at.into_iter().chain(channel.at).collect();
        let mut transfer = Section::new("Transfer");
        verify(&mut transfer, channel);
        if extension.optional().value {
            // The transfer belongs to the feature, so systemd-sysupdate downloads the image
            // only once the administrator enables it.
            transfer.set("Features", extension.name.as_str());
            let mut feature = Section::new("Feature");
            let kind = match extension.kind.value {
                ExtensionKind::Confext => "configuration extension",
                _ => "system extension",
            };
            feature.set("Description", format!("The {} {kind}", extension.name));
            feature.set("Enabled", "no");
            let path = format!(
                "{COMPONENTS_DIR}/sysupdate.{image}.d/{}.feature",
                extension.name
            );
            let contents = ini::render(Dialect::Systemd, &path, source, &[feature])?;
            files.push(File {
                path,
                contents,
                origins: origins.clone(),
            });
        }
        if !transfer.is_empty() {
            sections.insert(0, transfer);
        }
        let path = format!("{COMPONENTS_DIR}/sysupdate.{image}.d/{image}{suffix}");
        let contents = ini::render(Dialect::Systemd, &path, source, &sections)?;
        files.push(File {
            path,
            contents,
            origins,
        });
    }
    Ok(files)
}
