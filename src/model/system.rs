//! The system as a whole: identity, architecture, target systemd, packages, disk.

use super::arch::Arch;
use super::fields::{At, Fields};

/// The systemd version pcfg targets when the configuration names none.
pub const DEFAULT_SYSTEMD: u32 = 258;

#[derive(Clone, Debug)]
pub struct System {
    /// The image id: labels and artifact names.
    pub name: At<String>,
    /// os-release `ID=`.
    pub id: At<String>,
    pub pretty_name: At<String>,
    pub version: At<Option<String>>,
    pub arch: At<Arch>,
    pub distribution: At<Option<String>>,
    pub release: At<Option<String>>,
    pub systemd: At<u32>,
    pub packages: At<Vec<At<String>>>,
    pub cmdline: At<Vec<At<String>>>,
    pub base_tree: At<Option<String>>,
    /// Where the `system` block is declared.
    pub at: Option<crate::source::Span>,
}

#[derive(Clone, Debug)]
pub struct Disk {
    /// `None` is `auto`: as large as the partitions need.
    pub size: At<Option<u64>>,
    pub sector_size: At<u64>,
}

pub(super) fn lower_system(fields: &Fields<'_>) -> System {
    let name = fields.string("name").map(Option::unwrap_or_default);
    let id = match fields.string("id") {
        At {
            value: Some(id),
            at,
        } => At::new(id, at),
        At { .. } => At::derived(name.value.to_ascii_lowercase()),
    };
    let pretty_name = match fields.string("pretty-name") {
        At {
            value: Some(pretty),
            at,
        } => At::new(pretty, at),
        At { .. } => At::derived(name.value.clone()),
    };
    let arch = fields.symbol("arch");
    let arch = At::new(
        arch.value.and_then(Arch::from_name).unwrap_or(Arch::X86_64),
        arch.at,
    );
    let systemd = fields.int("systemd");
    let systemd = At::new(
        systemd.value.map_or(DEFAULT_SYSTEMD, |v| {
            u32::try_from(v).unwrap_or(DEFAULT_SYSTEMD)
        }),
        systemd.at,
    );
    System {
        name,
        id,
        pretty_name,
        version: fields.string("version"),
        arch,
        distribution: fields.symbol("distribution").map(|d| d.map(str::to_owned)),
        release: fields.string("release"),
        systemd,
        packages: fields.list("packages"),
        cmdline: fields.list("cmdline"),
        base_tree: fields.string("base-tree"),
        at: fields.at,
    }
}

pub(super) fn lower_disk(fields: &Fields<'_>) -> Disk {
    let size = if fields.is_auto("size") {
        At::derived(None)
    } else {
        fields.size("size")
    };
    let sector = fields.int("sector-size");
    Disk {
        size,
        sector_size: At::new(sector.value.unwrap_or(512), sector.at),
    }
}
