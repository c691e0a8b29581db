//! The kernel command line: the user's options and the derived `root=`/`mount.usr=`,
//! `systemd.image_policy=` and `systemd.image_filter=`; and the UKI profiles built on it.

use super::arch::PartitionType;
use super::fields::{At, Fields};
use super::gates;
use super::partition::{Create, Encrypt, GptPartition, Label, Partition, Role, Verity};
use super::system::System;
use crate::source::Span;

/// The base command line, option by option; derived options have no span.
#[derive(Clone, Debug)]
pub struct Cmdline {
    pub options: Vec<At<String>>,
    pub image_policy: Option<String>,
    pub image_filter: Option<String>,
}

impl Cmdline {
    /// The options joined by spaces, as the kernel reads them.
    #[must_use]
    pub fn text(&self) -> String {
        let options: Vec<&str> = self.options.iter().map(|o| o.value.as_str()).collect();
        options.join(" ")
    }
}

/// An extra boot menu entry of the same UKI.
#[derive(Clone, Debug)]
pub struct UkiProfile {
    pub name: String,
    pub at: Option<Span>,
    pub title: At<String>,
    /// The profile's own options, added to the base command line.
    pub own: At<Vec<At<String>>>,
    /// The whole command line of the profile: the base, then its own options.
    pub cmdline: Vec<At<String>>,
    pub sign_pcr: At<bool>,
}

/// The policy designators in the order systemd documents them, as ParticleOS writes them.
const POLICY_ORDER: &[PartitionType] = &[
    PartitionType::Esp,
    PartitionType::Xbootldr,
    PartitionType::Usr,
    PartitionType::Root,
    PartitionType::Swap,
    PartitionType::Home,
    PartitionType::Srv,
    PartitionType::Var,
    PartitionType::Tmp,
];

/// The filter designators in the order ParticleOS writes them.
const FILTER_ORDER: &[PartitionType] = &[
    PartitionType::Usr,
    PartitionType::UsrVerity,
    PartitionType::UsrVeritySig,
    PartitionType::Root,
    PartitionType::RootVerity,
    PartitionType::RootVeritySig,
    PartitionType::Swap,
    PartitionType::Home,
    PartitionType::Srv,
    PartitionType::Var,
    PartitionType::Tmp,
    PartitionType::Xbootldr,
    PartitionType::LinuxGeneric,
];

/// `systemd.image_policy=`: for each partition type the protection it must have, `+absent`
/// where it is made at first boot, `unused` where the system runs without it; everything else
/// ignored.
#[must_use]
///
/// Before systemd 258 the initrd sets up a verity partition from the root hash on the command
/// line (`usrhash=`, `roothash=`) and the policy plays no part in it; what reads the policy is
/// systemd-gpt-auto-generator on the booted system, which dissects the whole disk to mount the
/// ESP, swap and home, and sees that partition as unprotected (it pairs no hash partition). A
/// `usr=signed` there makes it refuse the whole disk: no ESP is mounted and systemd-sysupdate
/// cannot install a UKI (seen under QEMU, `tests/boot.rs`). So a verity partition is left to
/// the default (`ignore`) before 258: it is verified by its root hash, not by the policy.
pub fn image_policy(partitions: &[Partition], layout: &[GptPartition], systemd: u32) -> String {
    let mut parts = Vec::new();
    for &ty in POLICY_ORDER {
        let declared = partitions.iter().position(|p| p.ty.value == ty);
        let flags = match declared.and_then(|i| Some((i, partitions.get(i)?))) {
            None if ty == PartitionType::Xbootldr => "unprotected+unused+absent".to_owned(),
            None => continue,
            Some((_, partition))
                if systemd < gates::DISSECT && partition.verity().value != Verity::None =>
            {
                continue
            }
            Some((index, partition)) => policy_flags(index, partition, layout),
        };
        parts.push(format!("{}={flags}", ty.repart_name()));
    }
    parts.push("=ignore".to_owned());
    parts.join(":")
}

fn policy_flags(index: usize, partition: &Partition, layout: &[GptPartition]) -> String {
    let protection = match (partition.verity().value, partition.encrypt().value) {
        (Verity::Signed, _) => "signed",
        (Verity::Hash, _) => "verity",
        (Verity::None, Encrypt::None) => "unprotected",
        (Verity::None, _) => "encrypted",
    };
    let mut flags = vec![protection];
    if partition.ty.value == PartitionType::Swap {
        flags.push("unused");
    }
    let in_image = layout
        .iter()
        .any(|g| g.partition == index && g.role == Role::Data && g.create == Create::Image);
    if !in_image {
        flags.push("absent");
    }
    flags.join("+")
}

/// `systemd.image_filter=`: the labels this OS's partitions carry, so that free slots and other
/// systems' partitions are never mounted.
#[must_use]
pub fn image_filter(system: &System, layout: &[GptPartition]) -> Option<String> {
    let name = &system.name.value;
    let mut parts: Vec<String> = Vec::new();
    for g in layout {
        let pattern = match &g.label {
            // Every state partition of this OS, as ParticleOS writes it.
            Label::State { .. } => format!("{name}-*"),
            Label::Versioned { .. } | Label::Custom(_) => g.label.glob(system).unwrap_or_default(),
            Label::Default | Label::Empty => continue,
        };
        let designator = format!("{}=", g.ty.repart_name());
        if !parts.iter().any(|p| p.starts_with(&designator)) {
            parts.push(format!("{designator}{pattern}"));
        }
    }
    // Versioned types first, then state, as ParticleOS orders them.
    parts.sort_by_key(|p| {
        FILTER_ORDER
            .iter()
            .position(|t| p.starts_with(&format!("{}=", t.repart_name())))
    });
    (!parts.is_empty()).then(|| parts.join(":"))
}

/// The base command line: `root=dissect`/`mount.usr=dissect` where the image has those
/// partitions, the user's options, then the image policy and filter.
#[must_use]
pub fn base(system: &System, partitions: &[Partition], layout: &[GptPartition]) -> Cmdline {
    let systemd = system.systemd.value;
    let mut options = Vec::new();
    let has = |ty| systemd >= gates::DISSECT && partitions.iter().any(|p| p.ty.value == ty);
    if has(PartitionType::Root) {
        options.push(At::derived("root=dissect".to_owned()));
    }
    if has(PartitionType::Usr) {
        options.push(At::derived("mount.usr=dissect".to_owned()));
    }
    options.extend(system.cmdline.value.iter().cloned());
    let image_policy =
        (systemd >= gates::IMAGE_POLICY).then(|| image_policy(partitions, layout, systemd));
    let image_filter = if systemd >= gates::IMAGE_FILTER {
        image_filter(system, layout)
    } else {
        None
    };
    if let Some(policy) = &image_policy {
        options.push(At::derived(format!("systemd.image_policy={policy}")));
    }
    if let Some(filter) = &image_filter {
        options.push(At::derived(format!("systemd.image_filter={filter}")));
    }
    Cmdline {
        options,
        image_policy,
        image_filter,
    }
}

pub(super) fn lower_profile(name: &str, fields: &Fields<'_>, base: &Cmdline) -> UkiProfile {
    let own = fields.list("cmdline");
    let mut cmdline = base.options.clone();
    cmdline.extend(own.value.iter().cloned());
    UkiProfile {
        name: name.to_owned(),
        at: fields.at,
        title: fields.string("title").map(Option::unwrap_or_default),
        own,
        cmdline,
        sign_pcr: fields.boolean("sign-pcr").map(|b| b.unwrap_or(true)),
    }
}
