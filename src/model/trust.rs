//! The trust configuration (keys and roles) and the trust chain derived from the whole model:
//! firmware → boot loader → UKI → command line → `/usr` → root and swap → home → extensions.

use std::fmt;

use super::arch::PartitionType;
use super::extension::{Extension, ExtensionKind};
use super::fields::{At, Fields};
use super::partition::{Create, Encrypt, Partition, Verity};
use crate::source::Span;

/// A key and its certificate for one signing role.
#[derive(Clone, Debug)]
pub struct KeyPair {
    /// The role's own key, or `trust.key`.
    pub key: At<Option<String>>,
    pub cert: At<Option<String>>,
    /// Where the role's block is declared.
    pub at: Option<Span>,
}

#[derive(Clone, Debug)]
pub struct Tpm2 {
    pub pcrs: At<Vec<u64>>,
    pub signed_policy: At<bool>,
    /// The PCR 11 policy's own key and certificate (`trust.tpm2.key`, `.cert`), when it has
    /// them: else the Secure Boot key signs it, else `trust.key`.
    pub key: At<Option<String>>,
    pub cert: At<Option<String>>,
    pub at: Option<Span>,
}

impl Tpm2 {
    /// Whether the policy has a key or a certificate of its own.
    #[must_use]
    pub fn has_own_signer(&self) -> bool {
        self.key.value.is_some() || self.cert.value.is_some()
    }

    /// The options that make systemd-repart seal what it encrypts as declared: to the PCRs
    /// (`--tpm2-pcrs=7+11`, none for `[]`) and, with a signed policy, to PCR 11 as signed by the
    /// UKI's key (`--tpm2-public-key-pcrs=11`; empty when the policy is not signed). systemd-repart
    /// reads these from its command line only, never from `repart.d`. From systemd 255 on it also
    /// adds, unasked, a pcrlock policy when it finds one (`/var/lib/systemd/pcrlock.json`, as
    /// systemd-pcrlock makes it on a booted system): `--tpm2-pcrlock=` (empty) turns that off,
    /// so that the key is sealed to what `trust.tpm2` declares and nothing else. (Found by the
    /// end-to-end test: the installer, running on the booted image, sealed to the image's
    /// pcrlock policy, which the installed system cannot satisfy.)
    #[must_use]
    pub fn repart_options(&self, systemd: u32) -> Vec<String> {
        let pcrs: Vec<String> = self.pcrs.value.iter().map(u64::to_string).collect();
        let signed = if self.signed_policy.value { "11" } else { "" };
        let mut options = vec![
            format!("--tpm2-pcrs={}", pcrs.join("+")),
            format!("--tpm2-public-key-pcrs={signed}"),
        ];
        if systemd >= super::gates::PCRLOCK {
            options.push("--tpm2-pcrlock=".to_owned());
        }
        options
    }
}

/// A role's key and certificate, as configured.
pub type KeyAndCert<'a> = (&'a At<Option<String>>, &'a At<Option<String>>);

impl Trust {
    /// The key and certificate that sign the PCR 11 policy, when the policy is signed: its own
    /// (`trust.tpm2.key`, as a distribution that keeps the PCR key apart from the Secure Boot
    /// key signs), else the Secure Boot key when there is one (as ParticleOS signs), else
    /// `trust.key`. A key and a certificate are taken together, from one place; the second
    /// value names that place in the words of `pcfg trust`.
    #[must_use]
    pub fn pcr_signer(&self) -> Option<(KeyAndCert<'_>, &'static str)> {
        let tpm2 = self.tpm2.as_ref().filter(|t| t.signed_policy.value)?;
        Some(if tpm2.has_own_signer() {
            ((&tpm2.key, &tpm2.cert), "its own key (trust.tpm2.key)")
        } else {
            match &self.secure_boot {
                Some(sb) => ((&sb.key, &sb.cert), "the Secure Boot key"),
                None => ((&self.key, &self.cert), "trust.key"),
            }
        })
    }
}

/// How the firmware comes to trust the Secure Boot key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enroll {
    /// systemd-boot enrolls the certificate into the firmware's db at first boot (a machine in
    /// setup mode, as a virtual machine or a machine the owner cleared).
    Firmware,
    /// The distribution's shim, signed by Microsoft's UEFI CA and trusted by firmware as it
    /// ships, starts systemd-boot and checks it against the MOK list, where the owner enrolls the
    /// certificate once with `mokutil --import`.
    Shim,
}

/// What `trust.require` demands of every link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requirement {
    None,
    MeasuredBoot,
    VerifiedBoot,
}

impl Requirement {
    /// The symbol that selects it (`trust.require = measured-boot`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Requirement::None => "none",
            Requirement::MeasuredBoot => "measured-boot",
            Requirement::VerifiedBoot => "verified-boot",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Trust {
    pub key: At<Option<String>>,
    pub cert: At<Option<String>>,
    pub secure_boot: Option<KeyPair>,
    /// How the firmware trusts the Secure Boot key (`trust.secure-boot.enroll`).
    pub enroll: At<Enroll>,
    pub verity: Option<KeyPair>,
    pub tpm2: Option<Tpm2>,
    pub editable_cmdline: At<bool>,
    pub require: At<Requirement>,
}

/// How well a link of the chain is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LinkState {
    /// Its integrity is checked against a signature before use.
    Verified,
    /// Its data is encrypted with a key only this system can unlock.
    Encrypted,
    /// It is measured into the TPM, so secrets sealed to it are released only if it is intact.
    Measured,
    Unprotected,
}

impl LinkState {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            LinkState::Verified => "verified",
            LinkState::Encrypted => "encrypted",
            LinkState::Measured => "measured",
            LinkState::Unprotected => "unprotected",
        }
    }

    /// Whether the state meets a requirement.
    #[must_use]
    pub fn meets(self, requirement: Requirement) -> bool {
        match requirement {
            Requirement::None => true,
            Requirement::MeasuredBoot => self != LinkState::Unprotected,
            Requirement::VerifiedBoot => matches!(self, LinkState::Verified | LinkState::Encrypted),
        }
    }
}

impl fmt::Display for LinkState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One link of the chain: what it protects, how, and the declaration that establishes it.
#[derive(Clone, Debug)]
pub struct Link {
    pub name: String,
    pub state: LinkState,
    /// How the state comes about, or what is missing.
    pub reason: String,
    pub at: Option<Span>,
}

pub(super) fn lower_trust(fields: &Fields<'_>) -> Trust {
    let key = fields.string("key");
    let cert = fields.string("cert");
    let role = |name: &str| {
        let block = fields.block(name);
        block.is_present().then(|| {
            let own_key = block.string("key");
            let own_cert = block.string("cert");
            KeyPair {
                key: if own_key.value.is_some() {
                    own_key
                } else {
                    key.clone()
                },
                cert: if own_cert.value.is_some() {
                    own_cert
                } else {
                    cert.clone()
                },
                at: block.at,
            }
        })
    };
    let tpm2 = fields.block("tpm2");
    let tpm2 = tpm2.is_present().then(|| Tpm2 {
        pcrs: tpm2.int_list("pcrs").map(|p| p.unwrap_or_else(|| vec![7])),
        signed_policy: tpm2.boolean("signed-policy").map(|b| b.unwrap_or(true)),
        key: tpm2.string("key"),
        cert: tpm2.string("cert"),
        at: tpm2.at,
    });
    let require = fields.symbol("require").map(|r| match r {
        Some("measured-boot") => Requirement::MeasuredBoot,
        Some("verified-boot") => Requirement::VerifiedBoot,
        _ => Requirement::None,
    });
    let enroll = fields
        .block("secure-boot")
        .symbol("enroll")
        .map(|e| match e {
            Some("shim") => Enroll::Shim,
            _ => Enroll::Firmware,
        });
    Trust {
        secure_boot: role("secure-boot"),
        enroll,
        verity: role("verity"),
        tpm2,
        editable_cmdline: fields
            .block("uki")
            .boolean("editable-cmdline")
            .map(|b| b.unwrap_or(false)),
        require,
        key,
        cert,
    }
}

/// The chain, link by link.
#[must_use]
pub fn chain(
    trust: &Trust,
    partitions: &[Partition],
    extensions: &[Extension],
    systemd: u32,
) -> Vec<Link> {
    let mut links = Vec::new();
    let secure_boot = trust.secure_boot.as_ref();
    let tpm2 = trust.tpm2.as_ref();
    let boot = |name: &str, what: &str| match (secure_boot, tpm2) {
        (Some(sb), _) => link(
            name,
            LinkState::Verified,
            format!("{what} is signed for UEFI Secure Boot"),
            sb.at,
        ),
        (None, Some(t)) => link(
            name,
            LinkState::Measured,
            format!("{what} is measured into the TPM"),
            t.at,
        ),
        (None, None) => link(
            name,
            LinkState::Unprotected,
            format!("{what} is neither signed (trust.secure-boot) nor measured (trust.tpm2)"),
            None,
        ),
    };
    if let (Some(sb), Enroll::Shim) = (secure_boot, trust.enroll.value) {
        links.push(link(
            "boot loader",
            LinkState::Verified,
            "systemd-boot is signed for UEFI Secure Boot and started by the distribution's shim, which checks it against the MOK list (enroll trust.secure-boot.cert, in DER form, with `mokutil --import`)".to_owned(),
            trust.enroll.at.or(sb.at),
        ));
        links.push(link(
            "UKI",
            LinkState::Verified,
            "the unified kernel image is signed for UEFI Secure Boot, checked through shim against the MOK list".to_owned(),
            trust.enroll.at.or(sb.at),
        ));
    } else {
        links.push(boot("boot loader", "systemd-boot"));
        links.push(boot("UKI", "the unified kernel image"));
    }
    let cmdline = if trust.editable_cmdline.value {
        match tpm2 {
            Some(t) => link(
                "command line",
                LinkState::Measured,
                "the command line is editable at boot, and measured into the TPM".to_owned(),
                t.at,
            ),
            None => link(
                "command line",
                LinkState::Unprotected,
                "the command line is editable at boot (trust.uki.editable-cmdline)".to_owned(),
                trust.editable_cmdline.at,
            ),
        }
    } else {
        match (secure_boot, tpm2) {
            (Some(sb), _) => link(
                "command line",
                LinkState::Verified,
                "embedded in the UKI, which is signed".to_owned(),
                sb.at,
            ),
            (None, Some(t)) => link(
                "command line",
                LinkState::Measured,
                "embedded in the UKI, which is measured".to_owned(),
                t.at,
            ),
            (None, None) => link(
                "command line",
                LinkState::Unprotected,
                "embedded in a UKI that is neither signed nor measured".to_owned(),
                None,
            ),
        }
    };
    let cmdline_state = cmdline.state;
    links.push(cmdline);
    links.extend(os_image(partitions, cmdline_state, systemd));
    // State partitions in the order of the chain: root and swap, then home and the rest.
    for ty in [
        PartitionType::Root,
        PartitionType::Swap,
        PartitionType::Home,
        PartitionType::Srv,
        PartitionType::Var,
        PartitionType::Tmp,
    ] {
        for partition in partitions
            .iter()
            .filter(|p| p.ty.value == ty && !p.is_versioned())
        {
            links.push(state_partition(partition, trust));
        }
    }
    if let Some(l) = extensions_link(extensions, trust) {
        links.push(l);
    }
    links
}

/// What systemd-sysupdate checks a download against: every remote channel's `SHA256SUMS` must
/// carry a valid signature (`Verify=` is on by default) by a key of the image's keyring, which
/// is the channel's declared key or else the keyring the distribution's systemd ships (keys
/// pcfg does not know). A local directory is copied, with nothing to verify. Images are checked
/// again when used (dm-verity, Secure Boot), which the other links show.
#[must_use]
pub fn updates_link(channels: &[super::update::Channel]) -> Option<Link> {
    let remote: Vec<&super::update::Channel> = channels.iter().filter(|c| c.is_remote()).collect();
    if remote.is_empty() {
        return None;
    }
    Some(match remote.iter().find(|c| c.key.value.is_none()) {
        None => link(
            "updates",
            LinkState::Verified,
            format!(
                "systemd-sysupdate verifies every download against SHA256SUMS signed by the channel's key ({})",
                remote
                    .iter()
                    .map(|c| format!("`{}`: {}", c.name, c.key.value.as_deref().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            remote.first().and_then(|c| c.key.at),
        ),
        Some(unsigned) => link(
            "updates",
            LinkState::Verified,
            format!(
                "channel `{}` declares no key: its SHA256SUMS must be signed by a key of the keyring the distribution's systemd ships (/usr/lib/systemd/import-pubring.gpg)",
                unsigned.name
            ),
            unsigned.at,
        ),
    })
}

fn link(name: &str, state: LinkState, reason: String, at: Option<Span>) -> Link {
    Link {
        name: name.to_owned(),
        state,
        reason,
        at,
    }
}

/// The operating system image: `/usr` (or a versioned root) and how it is verified. A plain,
/// writable root is a state partition and has its own link.
///
/// Before systemd 258 (`mount.usr=dissect`, `root=dissect`) the initrd takes the root hash from
/// the command line (`usrhash=`, `roothash=`, which mkosi puts into the UKI) and never reads the
/// signature partition: a signed root hash is then as trustworthy as the command line.
fn os_image(partitions: &[Partition], cmdline: LinkState, systemd: u32) -> Option<Link> {
    let os = partitions
        .iter()
        .find(|p| p.ty.value == PartitionType::Usr)
        .or_else(|| {
            partitions
                .iter()
                .find(|p| p.ty.value == PartitionType::Root && p.is_versioned())
        })?;
    let name = if os.ty.value == PartitionType::Usr {
        "/usr"
    } else {
        "/"
    };
    let hash_flag = if os.ty.value == PartitionType::Usr {
        "usrhash="
    } else {
        "roothash="
    };
    Some(match os.verity().value {
        Verity::Signed if systemd < super::gates::DISSECT => link(
            name,
            cmdline,
            format!(
                "dm-verity, its root hash on the command line ({hash_flag}), which is {cmdline}: \
                 systemd {systemd} does not read the signature partition at boot (258 does)"
            ),
            os.verity().at,
        ),
        Verity::Signed => link(
            name,
            LinkState::Verified,
            format!(
                "dm-verity with a signed root hash (partition `{}`)",
                os.name
            ),
            os.verity().at,
        ),
        Verity::Hash => {
            let state = if cmdline == LinkState::Unprotected {
                LinkState::Unprotected
            } else {
                cmdline
            };
            link(
                name,
                state,
                format!("dm-verity, its root hash on the command line, which is {cmdline}"),
                os.verity().at,
            )
        }
        Verity::None if os.encrypt().value != Encrypt::None => link(
            name,
            LinkState::Encrypted,
            format!("partition `{}` is encrypted, not verified", os.name),
            os.encrypt().at,
        ),
        Verity::None => link(
            name,
            LinkState::Unprotected,
            format!(
                "partition `{}` has no verity (set `verity = signed`)",
                os.name
            ),
            os.at,
        ),
    })
}

fn state_partition(partition: &Partition, trust: &Trust) -> Link {
    let ty = partition.ty.value.repart_name();
    let name = if partition.name == ty {
        partition.name.clone()
    } else {
        format!("{} ({ty})", partition.name)
    };
    let installer = partition.create().value == Some(Create::Install);
    match partition.encrypt().value {
        Encrypt::None if partition.ty.value == PartitionType::Home => link(
            &name,
            LinkState::Encrypted,
            "each home directory is encrypted by systemd-homed".to_owned(),
            partition.at,
        ),
        Encrypt::None => link(
            &name,
            LinkState::Unprotected,
            format!(
                "partition `{}` is not encrypted (set `encrypt = tpm2`)",
                partition.name
            ),
            partition.at,
        ),
        // Only the installer gives systemd-repart a key file: elsewhere the key is empty
        // (pcfg::empty-key-file).
        Encrypt::KeyFile | Encrypt::KeyFileTpm2 if !installer => link(
            &name,
            LinkState::Unprotected,
            format!(
                "LUKS2 with an empty key: systemd-repart makes partition `{}` without a key file (set `encrypt = tpm2`, or `create = install`)",
                partition.name
            ),
            partition.encrypt().at,
        ),
        Encrypt::KeyFile => link(
            &name,
            LinkState::Encrypted,
            "LUKS2, made by pcfg-install with a recovery key it prints once".to_owned(),
            partition.encrypt().at,
        ),
        Encrypt::KeyFileTpm2 => link(
            &name,
            LinkState::Encrypted,
            format!(
                "LUKS2, made by pcfg-install with a recovery key it prints once and its key sealed in the TPM {}",
                sealed_to(trust)
            ),
            partition.encrypt().at,
        ),
        Encrypt::Tpm2 => {
            let by = if installer { ", made by pcfg-install" } else { "" };
            link(
                &name,
                LinkState::Encrypted,
                format!("LUKS2{by}, its key sealed in the TPM {}", sealed_to(trust)),
                partition.encrypt().at,
            )
        }
    }
}

/// What systemd-repart is told to seal a key to (`Tpm2::repart_options`), in words.
fn sealed_to(trust: &Trust) -> String {
    let Some(t) = &trust.tpm2 else {
        return "but trust.tpm2 is missing".to_owned();
    };
    let pcrs: Vec<String> = t.pcrs.value.iter().map(u64::to_string).collect();
    let pcrs = match pcrs.as_slice() {
        [] => None,
        [one] => Some(format!("PCR {one}")),
        many => Some(format!("PCRs {}", many.join("+"))),
    };
    let signer = trust.pcr_signer().map_or("", |(_, name)| name);
    match (pcrs, t.signed_policy.value) {
        (Some(p), true) => format!("to {p} and the PCR 11 policy signed by {signer}"),
        (None, true) => format!("to the PCR 11 policy signed by {signer}"),
        (Some(p), false) => format!("to {p}"),
        (None, false) => "to no PCR at all".to_owned(),
    }
}

/// `2 system extensions, 1 configuration extension and 1 portable service`.
fn extension_counts(extensions: &[&Extension]) -> String {
    let kinds = [
        (ExtensionKind::Sysext, "system extension"),
        (ExtensionKind::Confext, "configuration extension"),
        (ExtensionKind::Portable, "portable service"),
    ];
    let parts: Vec<String> = kinds
        .iter()
        .filter_map(|(kind, noun)| {
            let n = extensions.iter().filter(|e| e.kind.value == *kind).count();
            (n > 0).then(|| {
                if n == 1 {
                    format!("1 {noun}")
                } else {
                    format!("{n} {noun}s")
                }
            })
        })
        .collect();
    match parts.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn extensions_link(extensions: &[Extension], trust: &Trust) -> Option<Link> {
    let system: Vec<&Extension> = extensions
        .iter()
        .filter(|e| e.kind.value != ExtensionKind::Flatpak)
        .collect();
    if system.is_empty() {
        return None;
    }
    let unsigned = system
        .iter()
        .find(|e| !e.signed.value || trust.verity.is_none());
    Some(match unsigned {
        None => link(
            "extensions",
            LinkState::Verified,
            format!("{}, each verity-signed", extension_counts(&system)),
            trust.verity.as_ref().and_then(|v| v.at),
        ),
        Some(e) => link(
            "extensions",
            LinkState::Unprotected,
            format!("extension `{}` is not verity-signed", e.name),
            e.signed.at.or(e.at),
        ),
    })
}
