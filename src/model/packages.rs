//! The packages a system's declarations need, named as its distribution names them: a kernel
//! and systemd-boot with its UKI stub for the bootable image, systemd-repart for partitions
//! made at first boot, systemd-cryptsetup for encryption and verity, the TPM2 libraries,
//! systemd-homed for home directories, systemd-sysupdate for updates, and the tools of every
//! file system — in the image, and in the initrd where systemd-repart formats first-boot
//! partitions.
//!
//! The names come from the distributions' own lists for this kind of system: ParticleOS's
//! per-distribution package lists (`mkosi.conf.d/{fedora,debian,arch,opensuse}`) and mkosi
//! 25.3's default initrd (`mkosi-initrd`); Debian's are checked against trixie's `Contents`
//! and `Packages` indices (systemd-sysupdate is in `systemd-container`, systemd-veritysetup in
//! `systemd-cryptsetup`). For a distribution not listed here pcfg adds nothing: the
//! configuration names every package itself.

use super::{Arch, Create, Encrypt, Format, Model, PartitionType, Verity};

/// Something the declarations make the image need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// The service manager itself, and udev.
    Systemd,
    /// The image is bootable: a kernel.
    Kernel,
    /// systemd-boot and the stub the UKIs are built on.
    BootLoader,
    /// The distribution's shim, signed by Microsoft's UEFI CA (`trust.secure-boot.enroll =
    /// shim`), with its MOK manager.
    Shim,
    /// A partition made at first boot: systemd-repart.
    FirstBoot,
    /// A partition made by the installer (`create = install`): systemd-repart, which the
    /// installer runs.
    Installer,
    /// An encrypted partition or verity: systemd-cryptsetup and systemd-veritysetup.
    Cryptsetup,
    /// A TPM2 policy: the TPM2 libraries systemd loads.
    Tpm2,
    /// A home partition: systemd-homed encrypts each home directory.
    Homed,
    /// An update channel: systemd-sysupdate.
    Updates,
    /// A file system of this format.
    FileSystem(Format),
    /// Flatpak apps or remotes.
    Flatpak,
}

impl Need {
    /// Every need, each file system's included.
    #[must_use]
    pub fn every() -> Vec<Need> {
        let mut needs = vec![
            Need::Systemd,
            Need::Kernel,
            Need::BootLoader,
            Need::Shim,
            Need::FirstBoot,
            Need::Installer,
            Need::Cryptsetup,
            Need::Tpm2,
            Need::Homed,
            Need::Updates,
            Need::Flatpak,
        ];
        needs.extend(Format::ALL.iter().map(|&f| Need::FileSystem(f)));
        needs
    }

    /// Why the image needs it, for `pcfg why`.
    #[must_use]
    pub fn reason(self) -> String {
        match self {
            Need::Systemd => "the service manager and udev".to_owned(),
            Need::Kernel => "the image boots a kernel".to_owned(),
            Need::BootLoader => "systemd-boot and the UKI stub".to_owned(),
            Need::Shim => "shim, which starts systemd-boot under Secure Boot (trust.secure-boot.enroll = shim)".to_owned(),
            Need::FirstBoot => "partitions made at first boot (systemd-repart)".to_owned(),
            Need::Installer => "the installer, pcfg-install (systemd-repart)".to_owned(),
            Need::Cryptsetup => "encryption and verity (systemd-cryptsetup)".to_owned(),
            Need::Tpm2 => "the TPM2 policy (the libraries systemd loads)".to_owned(),
            Need::Homed => "home directories (systemd-homed)".to_owned(),
            Need::Updates => "update channels (systemd-sysupdate)".to_owned(),
            Need::FileSystem(format) => format!("the `{}` file system", format.name()),
            Need::Flatpak => "Flatpak apps and remotes".to_owned(),
        }
    }
}

/// Distributions whose names pcfg knows, by the archive they install from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Fedora,
    Debian,
    Ubuntu,
    Arch,
    Opensuse,
}

fn family(distribution: &str) -> Option<Family> {
    Some(match distribution {
        "fedora" => Family::Fedora,
        "debian" | "kali" => Family::Debian,
        "ubuntu" => Family::Ubuntu,
        "arch" => Family::Arch,
        "opensuse" => Family::Opensuse,
        _ => return None,
    })
}

/// Whether `distribution` installs with dpkg (Debian and its derivatives), which mkosi's default
/// initrd removes.
#[must_use]
pub fn dpkg_based(distribution: &str) -> bool {
    matches!(family(distribution), Some(Family::Debian | Family::Ubuntu))
}

/// Whether pcfg knows the package names of `distribution`.
#[must_use]
pub fn known(distribution: &str) -> bool {
    family(distribution).is_some()
}

/// The packages that provide `need` on `distribution` for `arch`; empty when the distribution's
/// base packages already do, or when pcfg does not know the distribution.
#[must_use]
pub fn names(distribution: &str, arch: Arch, need: Need) -> &'static [&'static str] {
    use Family::{Arch as ArchLinux, Debian, Fedora, Opensuse, Ubuntu};
    if need == Need::Flatpak {
        return &["flatpak"];
    }
    let Some(family) = family(distribution) else {
        return &[];
    };
    match (need, family) {
        (Need::Systemd, _) => &["systemd", "udev"],
        (Need::Kernel, Fedora) => &["kernel-core"],
        (Need::Kernel, Debian) => debian_kernel(arch),
        (Need::Kernel, Ubuntu) => &["linux-image-generic"],
        (Need::Kernel, ArchLinux) => &["linux"],
        (Need::Kernel, Opensuse) => &["kernel-default"],
        (Need::BootLoader, Fedora | Opensuse) => &["systemd-boot"],
        (Need::BootLoader, Debian | Ubuntu) => &["systemd-boot", "systemd-boot-efi"],
        // The signed binaries mkosi's `ShimBootloader=signed` installs: Debian's and Ubuntu's
        // `/usr/lib/shim/shimx64.efi.signed` (with the MOK manager from the
        // `shim-helpers-*-signed` it depends on), Fedora's `shim-x64`/`shim-aa64`, openSUSE's
        // `shim`. Arch Linux has no signed shim in its archive.
        (Need::Shim, Debian | Ubuntu) => &["shim-signed"],
        (Need::Shim, Fedora) => match arch {
            Arch::Arm64 => &["shim-aa64"],
            _ => &["shim-x64"],
        },
        (Need::Shim, Opensuse) => &["shim"],
        (Need::FirstBoot | Need::Installer, Debian | Ubuntu) => &["systemd-repart"],
        (Need::FirstBoot | Need::Installer | Need::Updates, Opensuse) => &["systemd-experimental"],
        (Need::Cryptsetup, Debian | Ubuntu) => &["systemd-cryptsetup"],
        (Need::Cryptsetup, Fedora | ArchLinux | Opensuse) => &["cryptsetup"],
        (Need::Tpm2, Fedora | ArchLinux) => &["tpm2-tss"],
        (Need::Tpm2, Debian | Ubuntu) => &["tpm2-tools"],
        (Need::Tpm2, Opensuse) => &["tpm2-0-tss", "libtss2-tcti-device0"],
        (Need::Homed, Debian | Ubuntu | Opensuse) => &["systemd-homed"],
        (Need::Updates, Debian | Ubuntu) => &["systemd-container"],
        (Need::FileSystem(format), family) => file_system(format, family),
        // Part of the packages above on these distributions; Arch Linux has no signed shim.
        (
            Need::BootLoader
            | Need::FirstBoot
            | Need::Installer
            | Need::Homed
            | Need::Updates
            | Need::Flatpak,
            _,
        )
        | (Need::Shim, ArchLinux) => &[],
    }
}

/// Debian's kernel metapackage per architecture (trixie's `Packages` of each port).
fn debian_kernel(arch: Arch) -> &'static [&'static str] {
    match arch {
        Arch::X86_64 => &["linux-image-amd64"],
        Arch::Arm64 => &["linux-image-arm64"],
        Arch::Arm => &["linux-image-armmp"],
        Arch::Ppc64Le => &["linux-image-powerpc64le"],
        Arch::Riscv64 => &["linux-image-riscv64"],
        Arch::S390x => &["linux-image-s390x"],
        _ => &[],
    }
}

fn file_system(format: Format, family: Family) -> &'static [&'static str] {
    match format {
        Format::Vfat => &["dosfstools"],
        Format::Ext4 => &["e2fsprogs"],
        Format::Btrfs if family == Family::Opensuse => &["btrfsprogs"],
        Format::Btrfs => &["btrfs-progs"],
        Format::Xfs => &["xfsprogs"],
        Format::Erofs => &["erofs-utils"],
        Format::Squashfs => &["squashfs-tools"],
        // mkswap is util-linux's, in every base.
        Format::Swap => &[],
    }
}

/// What the image needs, in a fixed order, each once.
#[must_use]
pub fn image_needs(model: &Model) -> Vec<Need> {
    let partitions = &model.partitions;
    let mut needs = vec![Need::Systemd];
    // A declared kernel (`system.kernel`) is the image's, in place of the distribution's.
    if model.system.kernel.value.is_none() {
        needs.push(Need::Kernel);
    }
    needs.push(Need::BootLoader);
    let mut add = |need: Need, when: bool| {
        if when && !needs.contains(&need) {
            needs.push(need);
        }
    };
    add(
        Need::Shim,
        model.trust.secure_boot.is_some() && model.trust.enroll.value == super::trust::Enroll::Shim,
    );
    add(
        Need::FirstBoot,
        model.layout.iter().any(|g| g.create == Create::FirstBoot),
    );
    add(
        Need::Installer,
        model.layout.iter().any(|g| g.create == Create::Install),
    );
    add(
        Need::Cryptsetup,
        partitions
            .iter()
            .any(|p| p.encrypt().value != Encrypt::None || p.verity().value != Verity::None),
    );
    add(
        Need::Tpm2,
        model.trust.tpm2.is_some() || partitions.iter().any(|p| p.encrypt().value.uses_tpm2()),
    );
    add(
        Need::Homed,
        partitions.iter().any(|p| p.ty.value == PartitionType::Home),
    );
    add(Need::Updates, !model.updates.channels.is_empty());
    for partition in partitions {
        add(Need::FileSystem(partition.format.value), true);
    }
    add(
        Need::Flatpak,
        model
            .extensions
            .iter()
            .any(|e| e.kind.value == super::ExtensionKind::Flatpak)
            || !model.flatpak_remotes.is_empty(),
    );
    needs
}

/// What the initrd needs beyond mkosi's default initrd: the tools of each file system that
/// systemd-repart makes there at first boot.
#[must_use]
pub fn initrd_needs(model: &Model) -> Vec<Need> {
    let mut needs = Vec::new();
    for gpt in &model.layout {
        let Some(format) = gpt.first_boot_format() else {
            continue;
        };
        let need = Need::FileSystem(format);
        if !needs.contains(&need) {
            needs.push(need);
        }
    }
    needs
}

/// The packages for `needs` on the model's distribution, each once, with the need.
#[must_use]
pub fn resolve(model: &Model, needs: &[Need]) -> Vec<(&'static str, Need)> {
    // No distribution: mkosi builds the host's, whose names pcfg cannot know.
    let distribution = model.system.distribution.value.as_deref().unwrap_or("");
    let mut out: Vec<(&'static str, Need)> = Vec::new();
    for &need in needs {
        for &name in names(distribution, model.system.arch.value, need) {
            if !out.iter().any(|(n, _)| *n == name) {
                out.push((name, need));
            }
        }
    }
    out
}
