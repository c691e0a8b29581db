//! Partitions: what the configuration declares, and the GPT partitions derived from it — A/B
//! slots, verity hash and signature partitions, labels, sizes and when each is created.

use super::arch::PartitionType;
use super::fields::{At, Fields};
use super::system::System;
use crate::source::Span;

/// A file system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Vfat,
    Ext4,
    Btrfs,
    Xfs,
    Erofs,
    Squashfs,
    Swap,
}

impl Format {
    pub const ALL: &'static [Format] = &[
        Format::Vfat,
        Format::Ext4,
        Format::Btrfs,
        Format::Xfs,
        Format::Erofs,
        Format::Squashfs,
        Format::Swap,
    ];

    #[must_use]
    pub fn from_symbol(symbol: &str) -> Option<Format> {
        Some(match symbol {
            "vfat" => Format::Vfat,
            "ext4" => Format::Ext4,
            "btrfs" => Format::Btrfs,
            "xfs" => Format::Xfs,
            "erofs" => Format::Erofs,
            "squashfs" => Format::Squashfs,
            "swap" => Format::Swap,
            _ => return None,
        })
    }

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Format::Vfat => "vfat",
            Format::Ext4 => "ext4",
            Format::Btrfs => "btrfs",
            Format::Xfs => "xfs",
            Format::Erofs => "erofs",
            Format::Squashfs => "squashfs",
            Format::Swap => "swap",
        }
    }

    /// Whether the file system can only be read (built once, never written).
    #[must_use]
    pub fn is_read_only(self) -> bool {
        matches!(self, Format::Erofs | Format::Squashfs)
    }

    /// The format a partition of `ty` gets when none is written.
    #[must_use]
    pub fn default_for(ty: PartitionType) -> Format {
        match ty {
            PartitionType::Esp | PartitionType::Xbootldr => Format::Vfat,
            PartitionType::Usr => Format::Erofs,
            PartitionType::Swap => Format::Swap,
            _ => Format::Ext4,
        }
    }
}

/// dm-verity protection of a partition's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verity {
    None,
    /// A hash tree; the root hash comes from the (signed) kernel command line.
    Hash,
    /// A hash tree and a signature of its root hash in a partition of its own.
    Signed,
}

/// Encryption of a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encrypt {
    None,
    KeyFile,
    Tpm2,
    KeyFileTpm2,
}

impl Encrypt {
    #[must_use]
    pub fn from_symbol(symbol: &str) -> Encrypt {
        match symbol {
            "key-file" => Encrypt::KeyFile,
            "tpm2" => Encrypt::Tpm2,
            "key-file+tpm2" => Encrypt::KeyFileTpm2,
            _ => Encrypt::None,
        }
    }

    /// systemd-repart's `Encrypt=` value.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Encrypt::None => "off",
            Encrypt::KeyFile => "key-file",
            Encrypt::Tpm2 => "tpm2",
            Encrypt::KeyFileTpm2 => "key-file+tpm2",
        }
    }

    /// The symbol that selects it (`encrypt = key-file+tpm2`).
    #[must_use]
    pub fn symbol(self) -> &'static str {
        match self {
            Encrypt::None => "none",
            other => other.name(),
        }
    }

    #[must_use]
    pub fn uses_tpm2(self) -> bool {
        matches!(self, Encrypt::Tpm2 | Encrypt::KeyFileTpm2)
    }

    /// Whether systemd-repart is asked for a key file (`--key-file=`).
    #[must_use]
    pub fn uses_key_file(self) -> bool {
        matches!(self, Encrypt::KeyFile | Encrypt::KeyFileTpm2)
    }
}

/// When a partition comes into existence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Create {
    /// In the built image.
    Image,
    /// On the target disk, by systemd-repart at first boot.
    FirstBoot,
    /// On the target disk, by the installer pcfg emits (`emit/installer.rs`): never in the
    /// image and never at first boot, so the installer's recovery key can encrypt it.
    Install,
}

impl Create {
    #[must_use]
    pub fn from_symbol(symbol: &str) -> Option<Create> {
        Some(match symbol {
            "image" => Create::Image,
            "first-boot" => Create::FirstBoot,
            "install" => Create::Install,
            _ => return None,
        })
    }

    /// The symbol that selects it (`create = first-boot`).
    #[must_use]
    pub fn symbol(self) -> &'static str {
        match self {
            Create::Image => "image",
            Create::FirstBoot => "first-boot",
            Create::Install => "install",
        }
    }

    /// Whether the partition is made on the machine (at first boot or by the installer), so
    /// not copied from the image.
    #[must_use]
    pub fn on_machine(self) -> bool {
        self != Create::Image
    }
}

/// A partition as declared.
#[derive(Clone, Debug)]
pub struct Partition {
    /// The block's label, `usr` in `partition usr { ... }`.
    pub name: String,
    pub at: Option<Span>,
    pub ty: At<PartitionType>,
    pub size: At<Option<u64>>,
    pub size_min: At<Option<u64>>,
    pub size_max: At<Option<u64>>,
    pub weight: At<Option<u64>>,
    pub format: At<Format>,
    pub directories: At<Vec<At<String>>>,
    /// The fields most partitions leave unwritten, held apart when any is written or derived
    /// ([`Partition::slots`], [`Partition::verity`], [`Partition::verity_size`],
    /// [`Partition::encrypt`], [`Partition::create`], [`Partition::factory_reset`],
    /// [`Partition::label`]): inline, they made every partition of a large configuration 152
    /// bytes larger.
    rare: Option<Box<Rare>>,
}

/// A partition's fields that most partitions leave unwritten.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Rare {
    slots: At<u64>,
    verity: At<Verity>,
    /// The hash partition's size: as written, or derived from the data's maximum.
    verity_size: At<Option<u64>>,
    encrypt: At<Encrypt>,
    create: At<Option<Create>>,
    factory_reset: At<bool>,
    label: At<Option<String>>,
}

impl Rare {
    /// What a partition that writes none of them has.
    const NONE: Rare = Rare {
        slots: At::derived(1),
        verity: At::derived(Verity::None),
        verity_size: At::derived(None),
        encrypt: At::derived(Encrypt::None),
        create: At::derived(None),
        factory_reset: At::derived(false),
        label: At::derived(None),
    };

    /// Whether each is its default, written nowhere (a field written with its default value
    /// still names a place, and is kept).
    fn is_unwritten(&self) -> bool {
        *self == Self::NONE
    }
}

/// What a partition without any of its rare fields lends.
static NO_RARE: Rare = Rare::NONE;

// Every partition and extension of a large configuration is one of these, most of it `At`s: a
// value and where it is written (an absent place costs nothing, `source::FileId`).
const _: () = assert!(std::mem::size_of::<Partition>() == 248);

impl Partition {
    fn rare(&self) -> &Rare {
        self.rare.as_deref().unwrap_or(&NO_RARE)
    }

    /// How many slots: 2 for an A/B partition, 1 by default.
    #[must_use]
    pub fn slots(&self) -> &At<u64> {
        &self.rare().slots
    }

    /// Whether the partition's data is protected by dm-verity, and how.
    #[must_use]
    pub fn verity(&self) -> &At<Verity> {
        &self.rare().verity
    }

    /// The hash partition's size: as written, or derived from the data's maximum.
    #[must_use]
    pub fn verity_size(&self) -> &At<Option<u64>> {
        &self.rare().verity_size
    }

    /// How the partition is encrypted.
    #[must_use]
    pub fn encrypt(&self) -> &At<Encrypt> {
        &self.rare().encrypt
    }

    /// When the partition is made: `None` when `create` is not written.
    #[must_use]
    pub fn create(&self) -> &At<Option<Create>> {
        &self.rare().create
    }

    /// Whether a factory reset empties it.
    #[must_use]
    pub fn factory_reset(&self) -> &At<bool> {
        &self.rare().factory_reset
    }

    /// Its GPT label as written (`label = "..."`).
    #[must_use]
    pub fn label(&self) -> &At<Option<String>> {
        &self.rare().label
    }

    /// Versioned partitions carry the image version in their label and are updated as a whole:
    /// those with A/B slots or verity.
    #[must_use]
    pub fn is_versioned(&self) -> bool {
        self.slots().value > 1 || self.verity().value != Verity::None
    }

    /// Where the partition goes on the disk: 0 for the boot partitions (ESP, XBOOTLDR), 1 for
    /// versioned (A/B) partitions, 2 for state partitions. Within a group, declaration order.
    #[must_use]
    pub fn group(&self) -> u8 {
        match self.ty.value {
            PartitionType::Esp | PartitionType::Xbootldr => 0,
            _ if self.is_versioned() => 1,
            _ => 2,
        }
    }

    /// The lower size bound: `size`, else `size-min`.
    #[must_use]
    pub fn min(&self) -> Option<u64> {
        self.size.value.or(self.size_min.value)
    }

    /// The upper size bound: `size`, else `size-max`.
    #[must_use]
    pub fn max(&self) -> Option<u64> {
        self.size.value.or(self.size_max.value)
    }

    /// Where the upper bound is written.
    #[must_use]
    pub fn max_at(&self) -> Option<Span> {
        self.size.at.or(self.size_max.at)
    }
}

/// What a GPT partition holds for its declared partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Data,
    VerityHash,
    VeritySignature,
}

/// Which copy of an A/B partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Slot {
    /// The partition has no slots.
    Only,
    A,
    B,
}

/// A piece of a label: text, or one of systemd-repart's specifiers, which it fills in when it
/// makes the partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelPart {
    Text(String),
    /// `%M`: the image id (`system.name`).
    ImageId,
    /// `%A`: the image version (`system.version`).
    Version,
}

/// Reads a label as written: `%A` is the version, `%M` the image id, `%%` a `%` (the grammar
/// refuses any other `%`).
#[must_use]
pub fn label_template(text: &str) -> Vec<LabelPart> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        let specifier = match (c, chars.clone().next()) {
            ('%', Some('A')) => Some(LabelPart::Version),
            ('%', Some('M')) => Some(LabelPart::ImageId),
            ('%', Some('%')) => {
                chars.next();
                literal.push('%');
                continue;
            }
            _ => None,
        };
        match specifier {
            Some(part) => {
                chars.next();
                if !literal.is_empty() {
                    parts.push(LabelPart::Text(std::mem::take(&mut literal)));
                }
                parts.push(part);
            }
            None => literal.push(c),
        }
    }
    if !literal.is_empty() {
        parts.push(LabelPart::Text(literal));
    }
    parts
}

/// How a GPT partition is labelled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Label {
    /// No label: systemd-repart's default (the type name).
    Default,
    /// A label with the version systemd-sysupdate matches: `template` (`%M_%A` when derived, or
    /// the declared `label`), then `suffix` (`_verity`, `_verity_sig`).
    Versioned {
        template: Vec<LabelPart>,
        suffix: &'static str,
    },
    /// `<name>-<partition>`: a state partition of this OS.
    State { partition: String },
    /// `_empty`: a free slot that systemd-sysupdate fills.
    Empty,
    /// Written by the user, for a partition without versions.
    Custom(Vec<LabelPart>),
}

impl Label {
    /// The derived label of a versioned partition: `<image id>_<version>`.
    #[must_use]
    pub fn derived_versioned(suffix: &'static str) -> Label {
        Label::Versioned {
            template: vec![
                LabelPart::ImageId,
                LabelPart::Text("_".to_owned()),
                LabelPart::Version,
            ],
            suffix,
        }
    }

    /// The pieces of the label, suffix included (`None` for the default label).
    #[must_use]
    pub fn parts(&self) -> Option<Vec<LabelPart>> {
        match self {
            Label::Default => None,
            Label::Versioned { template, suffix } => {
                let mut parts = template.clone();
                if !suffix.is_empty() {
                    parts.push(LabelPart::Text((*suffix).to_owned()));
                }
                Some(parts)
            }
            Label::State { partition } => Some(vec![
                LabelPart::ImageId,
                LabelPart::Text(format!("-{partition}")),
            ]),
            Label::Empty => Some(vec![LabelPart::Text("_empty".to_owned())]),
            Label::Custom(parts) => Some(parts.clone()),
        }
    }

    /// The label text as systemd-repart writes it for this system, or `None` for the default.
    #[must_use]
    pub fn text(&self, system: &System) -> Option<String> {
        self.parts()?;
        let version = system.version.value.as_deref().unwrap_or("");
        Some(self.render(&system.name.value, version))
    }

    /// The label with the image id and version filled in as given (`*` for a glob, `@v` for a
    /// systemd-sysupdate pattern).
    fn render(&self, image_id: &str, version: &str) -> String {
        self.parts()
            .unwrap_or_default()
            .iter()
            .map(|p| match p {
                LabelPart::Text(t) => t.as_str(),
                LabelPart::ImageId => image_id,
                LabelPart::Version => version,
            })
            .collect()
    }

    /// A glob matching every version of the label (`ParticleOS_*`), for the image filter: of
    /// a versioned label the template alone, whose `*` also covers the hash and signature
    /// partitions' suffixes, as ParticleOS writes it.
    #[must_use]
    pub fn glob(&self, system: &System) -> Option<String> {
        match self {
            Label::Versioned { template, .. } => Some(
                Label::Versioned {
                    template: template.clone(),
                    suffix: "",
                }
                .render(&system.name.value, "*"),
            ),
            other => {
                other.parts()?;
                Some(other.render(&system.name.value, "*"))
            }
        }
    }

    /// systemd-sysupdate's pattern for the label (`ParticleOS_@v_verity`).
    #[must_use]
    pub fn pattern(&self, system: &System) -> Option<String> {
        self.parts()?;
        Some(self.render(&system.name.value, "@v"))
    }
}

/// A partition of the GPT partition table, derived.
#[derive(Clone, Debug)]
pub struct GptPartition {
    /// The declared partition it comes from (an index into `Model::partitions`).
    pub partition: usize,
    pub role: Role,
    pub slot: Slot,
    pub ty: PartitionType,
    pub label: Label,
    pub size_min: Option<u64>,
    pub size_max: Option<u64>,
    pub weight: Option<u64>,
    /// `None` for verity hash and signature partitions, which hold no file system.
    pub format: Option<Format>,
    pub encrypt: Encrypt,
    /// Pairs data, hash and signature partitions (`VerityMatchKey=`).
    pub verity_match_key: Option<String>,
    pub create: Create,
    pub factory_reset: bool,
}

impl GptPartition {
    /// The file system systemd-repart makes on this partition at first boot, if it makes one:
    /// a state partition made then (slot B is left empty for updates to fill, slot A copied).
    #[must_use]
    pub fn first_boot_format(&self) -> Option<Format> {
        let state = self.slot == Slot::Only && self.verity_match_key.is_none();
        if state && self.create == Create::FirstBoot {
            self.format
        } else {
            None
        }
    }
}

/// sha256 hash trees use 4 KiB blocks holding 128 hashes each, plus one superblock.
const VERITY_BLOCK: u64 = 4096;
const HASHES_PER_BLOCK: u64 = VERITY_BLOCK / 32;

/// The size of a sha256 dm-verity hash tree (4 KiB blocks) for `data` bytes, rounded up to a
/// MiB: about 1/127 of the data.
#[must_use]
pub fn verity_hash_size(data: u64) -> u64 {
    let mut blocks = data.div_ceil(VERITY_BLOCK);
    let mut total = 1; // the superblock
    loop {
        blocks = blocks.div_ceil(HASHES_PER_BLOCK);
        total += blocks;
        if blocks <= 1 {
            break;
        }
    }
    (total * VERITY_BLOCK).next_multiple_of(1 << 20)
}

pub(super) fn lower_partition(name: &str, fields: &Fields<'_>) -> Partition {
    let ty = fields.symbol("type");
    let ty = At::new(
        ty.value
            .and_then(PartitionType::from_symbol)
            .unwrap_or(PartitionType::LinuxGeneric),
        ty.at,
    );
    let format = fields.symbol("format");
    let format = match format.value.and_then(Format::from_symbol) {
        Some(f) => At::new(f, format.at),
        None => At::derived(Format::default_for(ty.value)),
    };
    let verity = fields.symbol("verity").map(|v| match v {
        Some("hash") => Verity::Hash,
        Some("signed") => Verity::Signed,
        _ => Verity::None,
    });
    let create = fields
        .symbol("create")
        .map(|c| c.and_then(Create::from_symbol));
    let mut rare = Rare {
        slots: fields.int("slots").map(|s| s.unwrap_or(1)),
        verity,
        verity_size: fields.size("verity-size"),
        encrypt: fields
            .symbol("encrypt")
            .map(|e| e.map_or(Encrypt::None, Encrypt::from_symbol)),
        create,
        factory_reset: fields.boolean("factory-reset").map(|b| b.unwrap_or(false)),
        label: fields.string("label"),
    };
    let size = fields.size("size");
    let size_max = fields.size("size-max");
    if rare.verity.value != Verity::None && rare.verity_size.value.is_none() {
        // The upper bound ([`Partition::max`]): `size`, else `size-max`.
        let max = size.value.or(size_max.value);
        rare.verity_size = At::derived(max.map(verity_hash_size));
    }
    Partition {
        name: name.to_owned(),
        at: fields.at,
        ty,
        size,
        size_min: fields.size("size-min"),
        size_max,
        weight: fields.int("weight"),
        format,
        directories: fields.list("directories"),
        rare: Some(rare).filter(|rare| !rare.is_unwritten()).map(Box::new),
    }
}

/// The GPT partitions of the installed disk, in table order: for an A/B partition slot A's
/// signature, hash and data partitions, then slot B's.
#[must_use]
pub fn layout(partitions: &[Partition]) -> Vec<GptPartition> {
    // Sized exactly (grown by doubling, a large layout held up to half of itself spare).
    let count = partitions.iter().map(gpt_count).sum();
    let mut out = Vec::with_capacity(count);
    for (index, partition) in partitions.iter().enumerate() {
        if !partition.is_versioned() {
            out.push(single(index, partition));
            continue;
        }
        let slots: &[Slot] = if partition.slots().value > 1 {
            &[Slot::A, Slot::B]
        } else {
            &[Slot::Only]
        };
        for &slot in slots {
            out.extend(versioned(index, partition, slot));
        }
    }
    debug_assert_eq!(out.len(), count, "gpt_count counts what layout makes");
    out
}

/// How many GPT partitions [`layout`] makes of `partition`.
fn gpt_count(partition: &Partition) -> usize {
    if !partition.is_versioned() {
        return 1;
    }
    let per_slot = match partition.verity().value {
        Verity::None => 1,
        Verity::Hash => 2,
        Verity::Signed => 3,
    };
    per_slot * if partition.slots().value > 1 { 2 } else { 1 }
}

fn single(index: usize, partition: &Partition) -> GptPartition {
    let ty = partition.ty.value;
    let label = match (&partition.label().value, ty) {
        (Some(custom), _) => Label::Custom(label_template(custom)),
        (None, PartitionType::Esp | PartitionType::Xbootldr) => Label::Default,
        (None, _) => Label::State {
            partition: partition.name.clone(),
        },
    };
    let default_create = if ty == PartitionType::Esp {
        Create::Image
    } else {
        Create::FirstBoot
    };
    let create = partition.create().value.unwrap_or(default_create);
    data_partition(index, partition, Slot::Only, ty, label, create, None)
}

/// The partition holding a declared partition's file system, in one slot.
fn data_partition(
    index: usize,
    partition: &Partition,
    slot: Slot,
    ty: PartitionType,
    label: Label,
    create: Create,
    verity_match_key: Option<String>,
) -> GptPartition {
    GptPartition {
        partition: index,
        role: Role::Data,
        slot,
        ty,
        label,
        size_min: partition.min(),
        size_max: partition.max(),
        weight: partition.weight.value,
        format: Some(partition.format.value),
        encrypt: partition.encrypt().value,
        verity_match_key,
        create,
        factory_reset: partition.factory_reset().value,
    }
}

/// The signature, hash and data partitions of one slot of a versioned partition.
fn versioned(index: usize, partition: &Partition, slot: Slot) -> Vec<GptPartition> {
    let (data_ty, hash_ty, sig_ty) = match partition.ty.value {
        PartitionType::Root => (
            PartitionType::Root,
            PartitionType::RootVerity,
            PartitionType::RootVeritySig,
        ),
        other => (other, PartitionType::UsrVerity, PartitionType::UsrVeritySig),
    };
    // Slot B is made empty at first boot, or — declared `create = image`, as an installer that
    // writes the whole disk needs — in the image, at its size.
    let create = match slot {
        Slot::B => match partition.create().value {
            Some(Create::Image) => Create::Image,
            _ => Create::FirstBoot,
        },
        Slot::A | Slot::Only => partition.create().value.unwrap_or(Create::Image),
    };
    let label = |suffix: &'static str| match (slot, &partition.label().value) {
        (Slot::B, _) => Label::Empty,
        (_, Some(custom)) => Label::Versioned {
            template: label_template(custom),
            suffix,
        },
        (_, None) => Label::derived_versioned(suffix),
    };
    let match_key = (partition.verity().value != Verity::None).then(|| partition.name.clone());
    let data = data_partition(
        index,
        partition,
        slot,
        data_ty,
        label(""),
        create,
        match_key,
    );
    let mut out = Vec::new();
    let aux = |role, ty, suffix, size: Option<u64>| GptPartition {
        role,
        ty,
        label: label(suffix),
        size_min: size,
        size_max: size,
        weight: None,
        format: None,
        encrypt: crate::model::partition::Encrypt::None,
        ..data.clone()
    };
    if partition.verity().value == Verity::Signed {
        out.push(aux(Role::VeritySignature, sig_ty, "_verity_sig", None));
    }
    if partition.verity().value != Verity::None {
        out.push(aux(
            Role::VerityHash,
            hash_ty,
            "_verity",
            partition.verity_size().value,
        ));
    }
    out.push(data);
    out
}
