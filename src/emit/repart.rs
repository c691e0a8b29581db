//! `repart.d` definitions for systemd-repart: the partitions of the built image (which mkosi
//! passes to systemd-repart as `mkosi.repart/`), those of the installed disk, made or grown
//! at first boot (`/usr/lib/repart.d/`), and — when a partition is declared `create = install`
//! — those only the installer makes, on the disk it installs to, besides what first boot makes
//! there (`/usr/lib/pcfg/install.repart.d/`, `emit/installer.rs`).
//!
//! Labels use systemd-repart's specifiers `%M` (the image id) and `%A` (the image version), which
//! mkosi and the installed os-release fill in, as ParticleOS writes them.

use super::ini::{self, Delimiter, Dialect, Section, Value};
use super::{File, Refused};
use crate::model::partition::LabelPart;
use crate::model::{gates, Create, Format, GptPartition, Model, PartitionType, Role, Slot};

/// Where each set goes in the output directory.
pub(crate) const BUILD_DIR: &str = "repart.d/build";
pub(crate) const INSTALL_DIR: &str = "repart.d/install";
pub(crate) const INSTALLER_DIR: &str = "repart.d/installer";
/// Where the installer's definitions are in the image: never `/usr/lib/repart.d`, where
/// systemd-repart would make them at first boot without the installer's key.
pub(crate) const INSTALLER_IMAGE_DIR: &str = "/usr/lib/pcfg/install.repart.d";

/// Whether the system has an installer: a partition declared `create = install`.
pub(crate) fn has_installer(model: &Model) -> bool {
    model.layout.iter().any(|g| g.create == Create::Install)
}

/// Both definition sets.
pub(crate) fn emit(model: &Model, source: &str) -> Result<Vec<File>, Refused> {
    let names = file_names(model);
    let mut files = Vec::new();
    for (gpt, name) in model.layout.iter().zip(&names) {
        type Keys = fn(&Model, &GptPartition) -> Section;
        let sets: &[(&str, Keys)] = match gpt.create {
            Create::Image => &[(BUILD_DIR, build_keys), (INSTALL_DIR, install_keys)],
            Create::FirstBoot => &[(INSTALL_DIR, install_keys)],
            Create::Install => &[(INSTALLER_DIR, install_keys)],
        };
        for (dir, keys) in sets {
            let path = format!("{dir}/{name}");
            files.push(definition(model, source, gpt, path, keys(model, gpt))?);
        }
    }
    Ok(files)
}

fn definition(
    model: &Model,
    source: &str,
    gpt: &GptPartition,
    path: String,
    section: Section,
) -> Result<File, Refused> {
    let origins = model.source(gpt).and_then(|p| p.at).into_iter().collect();
    let contents = ini::render(Dialect::Systemd, &path, source, &[section])?;
    Ok(File {
        path,
        contents,
        origins,
    })
}

/// `NN-name.conf` for each GPT partition: each declared partition takes the next ten numbers (an
/// A/B partition two tens, one per slot); within them the signature, hash and data partitions
/// take +0, +1, +2, as ParticleOS numbers them. Numbers are zero-padded to sort.
pub(crate) fn file_names(model: &Model) -> Vec<String> {
    let mut decade = 0usize;
    let mut numbers = Vec::with_capacity(model.layout.len());
    let mut previous: Option<(usize, Slot)> = None;
    for gpt in &model.layout {
        let key = (gpt.partition, gpt.slot);
        if previous.is_some() && previous != Some(key) {
            decade += 1;
        }
        previous = Some(key);
        let offset = match (gpt.role, model.source(gpt).map(|p| p.verity().value)) {
            (Role::VeritySignature, _) | (Role::Data, Some(crate::model::Verity::None) | None) => 0,
            (Role::VerityHash, _) => 1,
            (Role::Data, Some(_)) => 2,
        };
        numbers.push(decade * 10 + offset);
    }
    let width = numbers
        .iter()
        .max()
        .map_or(2, |n| n.to_string().len().max(2));
    model
        .layout
        .iter()
        .zip(numbers)
        .map(|(gpt, number)| {
            let base = model.source(gpt).map_or("partition", |p| p.name.as_str());
            let suffix = match gpt.role {
                Role::Data => "",
                Role::VerityHash => "-verity",
                Role::VeritySignature => "-verity-sig",
            };
            format!("{number:0width$}-{base}{suffix}.conf")
        })
        .collect()
}

/// The type, with the system's architecture for architecture-specific types, so that an image
/// built on one architecture for another gets the right type UUIDs.
fn type_name(model: &Model, gpt: &GptPartition) -> String {
    gpt.ty.full_name(model.system.arch.value)
}

/// The label, with the image id (`%M`) and version (`%A`) as systemd-repart's specifiers, which
/// mkosi and the installed os-release fill in; text is escaped by the writer.
fn label(gpt: &GptPartition) -> Option<Value> {
    let parts = gpt.label.parts()?;
    let mut value = Value::default();
    for part in parts {
        value = match part {
            LabelPart::Text(text) => value.and_text(text),
            LabelPart::ImageId => value.and_specifier("%M"),
            LabelPart::Version => value.and_specifier("%A"),
        };
    }
    Some(value)
}

/// The size systemd-repart gives a verity signature partition (`VERITY_SIG_SIZE` in
/// `src/repart/repart.c`: four times its 4 KiB hard minimum).
const VERITY_SIG_SIZE: u64 = 16 << 10;

fn sizes(section: &mut Section, gpt: &GptPartition) {
    section.set_some("SizeMinBytes", gpt.size_min.map(bytes));
    section.set_some("SizeMaxBytes", gpt.size_max.map(bytes));
}

/// A byte count in the largest binary unit that divides it, as repart reads sizes.
fn bytes(n: u64) -> String {
    crate::syntax::ast::format_size(n)
}

fn verity(gpt: &GptPartition) -> Option<&'static str> {
    gpt.verity_match_key.as_ref()?;
    Some(match gpt.role {
        Role::Data => "data",
        Role::VerityHash => "hash",
        Role::VeritySignature => "signature",
    })
}

/// The image build: file systems are made and filled from the build tree; verity partitions are
/// computed and the partitions split out for updates.
fn build_keys(model: &Model, gpt: &GptPartition) -> Section {
    let mut s = Section::new("Partition");
    s.set("Type", type_name(model, gpt));
    s.set_some("Label", label(gpt));
    if gpt.slot == Slot::B {
        // The free slot, made in the image at its size: nothing in it until an update.
        bounds(&mut s, gpt);
        return s;
    }
    if let Some(format) = gpt.format {
        s.set("Format", format.name());
    }
    match (gpt.role, gpt.ty) {
        (Role::Data, PartitionType::Esp | PartitionType::Xbootldr) => {
            s.set("CopyFiles", "/efi:/");
            s.set("CopyFiles", "/boot:/");
        }
        (Role::Data, PartitionType::Usr) => {
            s.set("CopyFiles", "/usr:/");
        }
        (Role::Data, PartitionType::Root) if gpt.verity_match_key.is_some() => {
            s.set("CopyFiles", "/:/");
            // What another partition holds is not copied into the root image, where it would
            // be hidden under that partition's mount: the directory stays, as its mount point.
            for target in below_root(model) {
                s.set("ExcludeFilesTarget", target);
            }
        }
        _ => {}
    }
    s.set_some("Verity", verity(gpt));
    s.set_some("VerityMatchKey", gpt.verity_match_key.clone());
    // A state partition made in the image is made at its size (an installer writes the image
    // whole): the data of a versioned one is minimized instead, its slot's size on the disk.
    let state = gpt.slot == Slot::Only && gpt.verity_match_key.is_none();
    if gpt.role == Role::VerityHash
        || matches!(gpt.ty, PartitionType::Esp | PartitionType::Xbootldr)
        || state
    {
        sizes(&mut s, gpt);
    }
    let target = model.system.systemd.value;
    if gpt.role == Role::Data && gpt.format.is_some_and(Format::is_read_only) {
        if target >= gates::MINIMIZE {
            s.set("Minimize", "yes");
        }
        if target >= gates::COMPRESSION && gpt.format == Some(Format::Erofs) {
            s.set("Compression", "zstd");
        }
    }
    if gpt.verity_match_key.is_some() || gpt.slot != Slot::Only {
        // Versioned partitions are never written after they are made: the GPT read-only flag,
        // as systemd-sysupdate sets it on every later version (`ReadOnly=1`). systemd-repart
        // refuses the flag on a signature partition (with a warning), which holds no file
        // system to protect.
        if gpt.role != Role::VeritySignature {
            s.set("ReadOnly", "yes");
        }
        s.set(
            "SplitName",
            Value::specifier("%t").and_text(".").and_specifier("%U"),
        );
    }
    s
}

/// The directories of the declared partitions that the Discoverable Partitions Specification
/// mounts below the root, each once, in declaration order, ending in `/` (their contents).
fn below_root(model: &Model) -> Vec<&'static str> {
    let mut out = Vec::new();
    for partition in &model.partitions {
        let target = match partition.ty.value {
            PartitionType::Var => "/var/",
            PartitionType::Home => "/home/",
            PartitionType::Srv => "/srv/",
            PartitionType::Tmp => "/var/tmp/",
            _ => continue,
        };
        if !out.contains(&target) {
            out.push(target);
        }
    }
    out
}

/// A partition's size bounds; a signature partition's are the size systemd-repart makes it:
/// an empty slot B one without bounds would take a share of the free space (gigabytes) instead.
fn bounds(s: &mut Section, gpt: &GptPartition) {
    if gpt.role == Role::VeritySignature {
        s.set("SizeMinBytes", bytes(VERITY_SIG_SIZE));
        s.set("SizeMaxBytes", bytes(VERITY_SIG_SIZE));
    } else {
        sizes(s, gpt);
    }
}

/// The installed disk: slot A is copied from the image (`CopyBlocks=auto`), slot B is made
/// empty, state partitions are made, formatted and (where declared) encrypted at first boot.
fn install_keys(model: &Model, gpt: &GptPartition) -> Section {
    let mut s = Section::new("Partition");
    s.set("Type", type_name(model, gpt));
    s.set_some("Label", label(gpt));
    // Slot B, even where the image holds it, is empty: nothing to copy.
    let copied =
        gpt.create == Create::Image && gpt.verity_match_key.is_some() && gpt.slot != Slot::B
            || gpt.slot == Slot::A;
    let state = gpt.slot == Slot::Only && gpt.verity_match_key.is_none();
    if state {
        if let Some(format) = gpt.format {
            s.set("Format", format.name());
        }
    }
    if copied {
        s.set("CopyBlocks", "auto");
    }
    if gpt.slot == Slot::B && gpt.role != Role::VeritySignature {
        s.set("NoAuto", "1");
    }
    bounds(&mut s, gpt);
    if gpt.role == Role::Data && gpt.ty != PartitionType::Esp {
        s.set_some("Weight", gpt.weight.map(|w| w.to_string()));
    }
    let mut directories = model.directories(gpt).peekable();
    if state && directories.peek().is_some() {
        s.set_list("MakeDirectories", Delimiter::Space, directories);
    }
    if state && gpt.encrypt != crate::model::Encrypt::None {
        s.set("Encrypt", gpt.encrypt.name());
    }
    if state && gpt.factory_reset {
        s.set("FactoryReset", ini::yes_no(true));
    }
    s
}
