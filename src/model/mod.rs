//! The typed OS model, lowered from a validated configuration: declared partitions and the GPT
//! partitions derived from them, the trust chain, the kernel command line and UKI profiles,
//! extensions and updates. Every derived value is computed here, once; every value keeps the
//! span of the declaration it came from (`At`).
//!
//! The model carries no serde (invariant A6): `pcfg eval` and `pcfg trust` build wire values.

pub mod arch;
pub mod cmdline;
pub mod distribution;
pub mod extension;
mod fields;
pub mod gates;
pub mod overlay;
pub mod packages;
pub mod partition;
pub mod sources;
pub mod system;
pub mod trust;
pub mod update;

pub use arch::{Arch, PartitionType};
pub use cmdline::{Cmdline, UkiProfile};
pub use extension::{Extension, ExtensionKind, FlatpakRemote};
pub use fields::At;
pub use partition::{Create, Encrypt, Format, GptPartition, Label, Partition, Role, Slot, Verity};
pub use sources::PackageSource;
pub use system::{Disk, System};
pub use trust::{Link, LinkState, Requirement, Trust};
pub use update::{Channel, Transfer, TransferTarget, Updates};

use fields::Fields;

use crate::resolve::{Entry, Node, Resolved};

/// The whole system, as pcfg understands it.
#[derive(Clone, Debug)]
pub struct Model {
    pub system: System,
    pub disk: Disk,
    /// Declared partitions, in disk order: boot, A/B, then state partitions, each group in
    /// declaration order.
    pub partitions: Vec<Partition>,
    /// The GPT partitions of the installed disk, in table order.
    pub layout: Vec<GptPartition>,
    pub trust: Trust,
    pub chain: Vec<Link>,
    pub cmdline: Cmdline,
    pub profiles: Vec<UkiProfile>,
    pub extensions: Vec<Extension>,
    pub flatpak_remotes: Vec<FlatpakRemote>,
    /// apt repositories besides the distribution's own, in declaration order.
    pub package_sources: Vec<PackageSource>,
    pub updates: Updates,
}

impl Model {
    /// The GPT partitions that exist in the built image.
    pub fn image_partitions(&self) -> impl Iterator<Item = &GptPartition> {
        self.layout.iter().filter(|g| g.create == Create::Image)
    }

    /// The packages the image installs: those declared (and the declared kernel), each once,
    /// then those the declarations need, named as the distribution names them (`packages.rs`).
    #[must_use]
    pub fn image_packages(&self) -> Vec<&str> {
        let needed = packages::resolve(self, &packages::image_needs(self));
        let mut out: Vec<&str> = Vec::new();
        // By package, whatever suite an entry pins it to: a declared `systemd/forky` is the
        // `systemd` the declarations need.
        let mut seen = std::collections::HashSet::new();
        let declared = self
            .system
            .packages
            .value
            .iter()
            .map(|p| p.value.as_str())
            .chain(self.system.kernel.value.as_deref());
        for package in declared.chain(needed.iter().map(|(name, _)| *name)) {
            if seen.insert(sources::pinned(package).0) {
                out.push(package);
            }
        }
        out
    }

    /// The packages the initrd needs beyond mkosi's default initrd: the tools of the file
    /// systems systemd-repart makes there at first boot, `systemd` pinned where the image's is
    /// (`"systemd/forky"`), then those declared (`system.initrd-packages`), each once.
    #[must_use]
    pub fn initrd_packages(&self) -> Vec<&str> {
        let mut out: Vec<&str> = packages::resolve(self, &packages::initrd_needs(self))
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        // The initrd's systemd from the suite the image's comes from: mkosi's default initrd
        // installs `systemd`, and the two must be one version.
        let declared = system::pinned_systemd(&self.system.packages.value)
            .into_iter()
            .chain(&self.system.initrd_packages.value);
        for package in declared {
            let name = sources::pinned(&package.value).0;
            if let Some(derived) = out.iter().position(|p| *p == name) {
                // Pinned where the declarations need it unpinned: the pinned entry.
                out[derived] = &package.value;
            } else if !out.contains(&package.value.as_str()) {
                out.push(&package.value);
            }
        }
        out
    }

    /// Whether `/etc` starts empty on the installed system: no root partition is copied from
    /// the image (the root file system is made at first boot, or there is none), so the image's
    /// own `/etc` — what its packages install there — reaches the system only as a factory copy
    /// in `/usr` (`emit/factory.rs`).
    #[must_use]
    pub fn etc_made_at_first_boot(&self) -> bool {
        !self
            .layout
            .iter()
            .any(|g| g.ty == PartitionType::Root && g.create == Create::Image)
    }

    /// The declared partition a GPT partition comes from.
    #[must_use]
    pub fn source(&self, gpt: &GptPartition) -> Option<&Partition> {
        self.partitions.get(gpt.partition)
    }

    /// The directories systemd-repart makes in a GPT partition: its declared partition's, in
    /// the partition that holds the file system (read from the declaration, not copied into
    /// every GPT partition of a large layout).
    pub fn directories<'m>(&'m self, gpt: &GptPartition) -> impl Iterator<Item = &'m str> {
        self.source(gpt)
            .filter(|_| gpt.role == Role::Data)
            .into_iter()
            .flat_map(|p| p.directories.value.iter().map(|d| d.value.as_str()))
    }
}

/// Lowers a configuration that passed schema validation.
#[must_use]
pub fn lower(resolved: &Resolved) -> Model {
    let root = Fields::new(&resolved.root, None);
    let partitions = root
        .labelled("partition")
        .iter()
        .map(|(name, fields)| partition::lower_partition(name, fields))
        .collect();
    lower_with(root, partitions, |signed| {
        root.labelled("extension")
            .iter()
            .map(|(name, fields)| extension::lower_extension(name, fields, signed))
            .collect()
    })
}

/// [`lower`], taking the resolved tree apart as it goes, for a caller that needs only the
/// model: each partition's and extension's block (the bulk of a large configuration) is freed
/// as soon as it is lowered, so that the tree and the model are not both held whole. The tree
/// is empty afterwards.
#[must_use]
pub fn lower_emptying(resolved: &mut Resolved) -> Model {
    let partitions = resolved.root.entries.shift_remove("partition");
    let extensions = resolved.root.entries.shift_remove("extension");
    let root = std::mem::take(&mut resolved.root);
    let partitions = lower_each(partitions, partition::lower_partition);
    lower_with(Fields::new(&root, None), partitions, |signed| {
        lower_each(extensions, |name, fields| {
            extension::lower_extension(name, fields, signed)
        })
    })
}

/// Lowers each labelled block of `kinds` (as [`Fields::labelled`] lists them), freeing it once
/// lowered.
fn lower_each<T>(kinds: Option<Entry>, lower: impl Fn(&str, &Fields) -> T) -> Vec<T> {
    let Some(Entry {
        node: Node::Block(kinds),
        ..
    }) = kinds
    else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(kinds.entries.len());
    for (label, entry) in kinds.entries {
        if let Node::Block(block) = &entry.node {
            out.push(lower(&label, &Fields::new(block, Some(entry.key_span()))));
        }
    }
    out
}

/// The rest of [`lower`], from the partitions as declared and the extensions as `extensions`
/// lowers them (given whether they are signed by default).
fn lower_with(
    root: Fields,
    mut partitions: Vec<Partition>,
    extensions: impl FnOnce(bool) -> Vec<Extension>,
) -> Model {
    let system = system::lower_system(&root.block("system"));
    let disk = system::lower_disk(&root.block("disk"));
    // Boot partitions, then A/B partitions, then state partitions; each group in declaration
    // order (SPEC, "GPT partitions").
    partitions.sort_by_key(Partition::group);
    let layout = partition::layout(&partitions);
    let trust = trust::lower_trust(&root.block("trust"));
    let mut extensions = extensions(trust.verity.is_some());
    let images = overlay::image_names(&extensions);
    for (extension, image) in extensions.iter_mut().zip(images) {
        extension.image = image;
    }
    let mut chain = trust::chain(&trust, &partitions, &extensions, system.systemd.value);
    let cmdline = cmdline::base(&system, &partitions, &layout);
    let profiles = root
        .labelled("uki-profile")
        .iter()
        .map(|(name, fields)| cmdline::lower_profile(name, fields, &cmdline))
        .collect();
    let updates = update::lower_updates(&root.block("update"), &layout);
    chain.extend(trust::updates_link(&updates.channels));
    let flatpak_remotes = root
        .labelled("flatpak-remote")
        .iter()
        .map(|(name, fields)| extension::lower_flatpak_remote(name, fields))
        .collect();
    let package_sources = root
        .labelled("package-source")
        .iter()
        .map(|(name, fields)| sources::lower(name, fields))
        .collect();
    Model {
        system,
        disk,
        partitions,
        layout,
        trust,
        chain,
        cmdline,
        profiles,
        extensions,
        flatpak_remotes,
        package_sources,
        updates,
    }
}

/// Whether the resolved tree declares a block at the top level (used to skip lowering of
/// configurations without a system).
#[must_use]
pub fn has_system(resolved: &Resolved) -> bool {
    matches!(
        resolved.root.entries.get("system").map(|e| &e.node),
        Some(Node::Block(_))
    )
}
