//! The v1 schema as data: every block, field, type, default and allowed symbol of
//! `lang/SPEC.md`'s schema section.

use super::{BlockSchema, Effect, Field, Str, Ty};

const fn field(name: &'static str, ty: Ty, default: Option<&'static str>) -> Field {
    Field {
        name,
        ty,
        required: false,
        default,
        effect: Effect::Emitted,
    }
}

const fn required(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        required: true,
        default: None,
        effect: Effect::Emitted,
    }
}

/// A field that changes no emitted file, and why it exists.
const fn check_only(field: Field, reason: &'static str) -> Field {
    Field {
        effect: Effect::CheckOnly(reason),
        ..field
    }
}

const PATH: Ty = Ty::Str(Str::ConfigPath);
const PATHS: Ty = Ty::List(&PATH);
const CMDLINE: Ty = Ty::List(&Ty::Str(Str::CmdlineOption));
const SIZE: Ty = Ty::Size;

/// Architectures by their systemd names (`systemd-analyze architectures`).
pub const ARCHITECTURES: &[&str] = &[
    "alpha",
    "arc",
    "arm",
    "arm64",
    "ia64",
    "loongarch64",
    "mips-le",
    "mips64-le",
    "parisc",
    "ppc",
    "ppc64",
    "ppc64-le",
    "riscv32",
    "riscv64",
    "s390",
    "s390x",
    "tilegx",
    "x86",
    "x86-64",
];

/// Distributions mkosi builds from (`Distribution=`).
pub const DISTRIBUTIONS: &[&str] = &[
    "alma",
    "arch",
    "azure",
    "centos",
    "custom",
    "debian",
    "fedora",
    "kali",
    "mageia",
    "openmandriva",
    "opensuse",
    "postmarketos",
    "rhel",
    "rhel-ubi",
    "rocky",
    "ubuntu",
];

/// Discoverable Partitions Specification types, without the architecture suffix.
pub const PARTITION_TYPES: &[&str] = &[
    "esp",
    "xbootldr",
    "root",
    "usr",
    "home",
    "srv",
    "var",
    "tmp",
    "swap",
    "linux-generic",
];

pub const FORMATS: &[&str] = &["vfat", "ext4", "btrfs", "xfs", "erofs", "squashfs", "swap"];

const SYSTEM: &[Field] = &[
    required("name", Ty::Str(Str::ImageId)),
    field("id", Ty::Str(Str::OsId), Some("the name in lower case")),
    field("pretty-name", Ty::Str(Str::Text), Some("the name")),
    field("version", Ty::Str(Str::Version), None),
    field("arch", Ty::Symbol(ARCHITECTURES), Some("x86-64")),
    field("distribution", Ty::Symbol(DISTRIBUTIONS), None),
    field(
        "release",
        Ty::Str(Str::Release),
        Some("mkosi's for the distribution (debian: testing, fedora: 41, ubuntu: noble, ...)"),
    ),
    field(
        "systemd",
        Ty::Int { min: 252, max: 999 },
        Some("the systemd the release ships, else 258"),
    ),
    field("packages", Ty::List(&Ty::Str(Str::Package)), Some("[]")),
    // The distribution's repositories mkosi enables besides its default (`Repositories=`):
    // Debian's components (`contrib`, `non-free-firmware`), Ubuntu's (`universe`), Fedora's
    // and the others' repository ids (`epel`).
    field("repositories", Ty::List(&Ty::Str(Str::Release)), Some("[]")),
    field("cmdline", CMDLINE, Some("[]")),
    check_only(
        field("base-tree", PATH, None),
        "the built base the extension trees are checked against (shadowing, missing libraries); the image itself is built from the packages",
    ),
    field(
        "kernel",
        Ty::Str(Str::Package),
        Some("the distribution's (debian: linux-image-amd64, fedora: kernel-core, ...)"),
    ),
    field(
        "initrd-packages",
        Ty::List(&Ty::Str(Str::Package)),
        Some("[]"),
    ),
    // The kernel modules the initrd holds besides mkosi-initrd's default set; without any, it
    // holds every module of the kernel.
    field(
        "initrd-modules",
        Ty::List(&Ty::Str(Str::KernelModule)),
        Some("[]"),
    ),
    field("trees", PATHS, Some("[]")),
    field("postinst", PATHS, Some("[]")),
    field("finalize", PATHS, Some("[]")),
    field("post-output", PATHS, Some("[]")),
];

const DISK: &[Field] = &[
    field("size", Ty::SizeOrAuto, Some("auto")),
    field("sector-size", Ty::OneOf(&[512, 4096]), Some("512")),
];

const PARTITION: &[Field] = &[
    required("type", Ty::Symbol(PARTITION_TYPES)),
    field("size", SIZE, None),
    field("size-min", SIZE, None),
    field("size-max", SIZE, None),
    field(
        "weight",
        Ty::Int {
            min: 0,
            max: 1_000_000,
        },
        Some("1000"),
    ),
    field("format", Ty::Symbol(FORMATS), Some("by type")),
    field("slots", Ty::Int { min: 1, max: 2 }, Some("1")),
    field(
        "verity",
        Ty::Symbol(&["none", "hash", "signed"]),
        Some("none"),
    ),
    field("verity-size", SIZE, Some("derived from size-max")),
    field(
        "encrypt",
        Ty::Symbol(&["none", "key-file", "tpm2", "key-file+tpm2"]),
        Some("none"),
    ),
    field(
        "create",
        Ty::Symbol(&["image", "first-boot", "install"]),
        Some("image for the ESP and slot A, first-boot otherwise"),
    ),
    field("factory-reset", Ty::Bool, Some("false")),
    field(
        "directories",
        Ty::List(&Ty::Str(Str::AbsolutePath)),
        Some("[]"),
    ),
    field("label", Ty::Str(Str::GptLabel), Some("derived")),
];

const KEY_PAIR: &[Field] = &[
    field("key", PATH, Some("trust.key")),
    field("cert", PATH, Some("trust.cert")),
];

const SECURE_BOOT: &[Field] = &[
    field("key", PATH, Some("trust.key")),
    field("cert", PATH, Some("trust.cert")),
    // How the firmware comes to trust the key: enrolled in its db by systemd-boot
    // (`SecureBootAutoEnroll=yes`), or not at all, the distribution's shim (signed by Microsoft's
    // UEFI CA) starting systemd-boot and checking it against the MOK list
    // (`ShimBootloader=signed`, `SecureBootAutoEnroll=no`).
    field(
        "enroll",
        Ty::Symbol(&["firmware", "shim"]),
        Some("firmware"),
    ),
];

const TPM2: &[Field] = &[
    field("pcrs", Ty::List(&Ty::Int { min: 0, max: 23 }), Some("[7]")),
    field("signed-policy", Ty::Bool, Some("true")),
    // The PCR 11 policy's own signer, apart from the Secure Boot key (mkosi's
    // `SignExpectedPcrKey=`): its certificate is what the UKI carries for systemd to unlock with.
    field("key", PATH, Some("trust.secure-boot.key, else trust.key")),
    field(
        "cert",
        PATH,
        Some("trust.secure-boot.cert, else trust.cert"),
    ),
];

const UKI: &[Field] = &[field("editable-cmdline", Ty::Bool, Some("false"))];

const TRUST: &[Field] = &[
    field("key", PATH, None),
    field("cert", PATH, None),
    check_only(
        field(
            "require",
            Ty::Symbol(&["none", "measured-boot", "verified-boot"]),
            Some("none"),
        ),
        "what pcfg check demands of every link of the trust chain; the links are what the other declarations make them",
    ),
];

const TRUST_BLOCKS: &[BlockSchema] = &[
    BlockSchema::plain("secure-boot", SECURE_BOOT, &[]),
    BlockSchema::plain("verity", KEY_PAIR, &[]),
    BlockSchema::plain("tpm2", TPM2, &[]),
    BlockSchema::plain("uki", UKI, &[]),
];

const CHANNEL: &[Field] = &[
    required("source", Ty::Str(Str::Url)),
    field("key", PATH, None),
    field(
        "compress",
        Ty::Symbol(&["none", "xz", "gzip", "zstd"]),
        Some("none"),
    ),
    field(
        "artifact-name",
        Ty::Str(Str::ImageId),
        Some("the system's name"),
    ),
];

const UPDATE: &[Field] = &[
    field("tries", Ty::Int { min: 1, max: 99 }, Some("3")),
    field("keep", Ty::Int { min: 1, max: 99 }, Some("2")),
];

const UPDATE_BLOCKS: &[BlockSchema] = &[BlockSchema::labelled("channel", CHANNEL, &[])];

const UKI_PROFILE: &[Field] = &[
    required("title", Ty::Str(Str::Title)),
    field("cmdline", CMDLINE, Some("[]")),
    field("sign-pcr", Ty::Bool, Some("true")),
];

const EXTENSION: &[Field] = &[
    required(
        "kind",
        Ty::Symbol(&["sysext", "confext", "portable", "flatpak"]),
    ),
    field("source", PATH, None),
    field(
        "requires",
        Ty::List(&Ty::Reference("extension")),
        Some("[]"),
    ),
    field(
        "overrides",
        Ty::List(&Ty::Reference("extension")),
        Some("[]"),
    ),
    field("signed", Ty::Bool, Some("true when trust.verity is set")),
    field("packages", Ty::List(&Ty::Str(Str::Package)), Some("[]")),
    field(
        "version",
        Ty::Str(Str::Version),
        Some("the system's version"),
    ),
    field("optional", Ty::Bool, Some("false")),
    field("app", Ty::Str(Str::FlatpakApp), None),
    field("runtime", Ty::Str(Str::FlatpakRuntime), None),
    field("postinst", PATHS, Some("[]")),
    field("finalize", PATHS, Some("[]")),
    field("post-output", PATHS, Some("[]")),
];

const FLATPAK_REMOTE: &[Field] = &[
    required("url", Ty::Str(Str::Url)),
    required("key", PATH),
    field("title", Ty::Str(Str::Title), Some("the label")),
];

/// An apt repository besides the distribution's own, and the pin of its suite.
const PACKAGE_SOURCE: &[Field] = &[
    required("url", Ty::Str(Str::Url)),
    field("suite", Ty::Str(Str::Release), Some("system.release")),
    field(
        "components",
        Ty::List(&Ty::Str(Str::Release)),
        Some("[\"main\"]"),
    ),
    field("key", PATH, Some("the distribution's archive keyring")),
    field(
        "priority",
        Ty::Int { min: 1, max: 999 },
        Some("apt's: 500, or 100 for a suite marked NotAutomatic (backports)"),
    ),
];

const TOP: &[BlockSchema] = &[
    BlockSchema::plain("system", SYSTEM, &[]),
    BlockSchema::plain("disk", DISK, &[]),
    BlockSchema::labelled("partition", PARTITION, &[]),
    BlockSchema::plain("trust", TRUST, TRUST_BLOCKS),
    BlockSchema::plain("update", UPDATE, UPDATE_BLOCKS),
    BlockSchema::labelled("uki-profile", UKI_PROFILE, &[]),
    BlockSchema::labelled("extension", EXTENSION, &[]),
    BlockSchema::labelled("flatpak-remote", FLATPAK_REMOTE, &[]),
    BlockSchema::labelled("package-source", PACKAGE_SOURCE, &[]),
];

/// The root of the schema: a file's top level.
pub const ROOT: BlockSchema = BlockSchema::plain("", &[], TOP);
