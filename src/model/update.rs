//! Updates: boot counting, retention, the channels, and what each channel must transfer.

use super::fields::{At, Fields};
use super::partition::{GptPartition, Slot};
use crate::source::Span;

#[derive(Clone, Debug)]
pub struct Channel {
    pub name: String,
    pub at: Option<Span>,
    pub source: At<String>,
    /// The OpenPGP public key (binary) that signs the channel's `SHA256SUMS`: the image's
    /// `/usr/lib/systemd/import-pubring.gpg`, which systemd-sysupdate verifies every download
    /// against (`Verify=yes`); without it, the keyring the distribution's systemd ships.
    pub key: At<Option<String>>,
    /// How the published files are compressed: systemd-sysupdate decompresses what its source
    /// pattern's suffix names.
    pub compress: At<Compression>,
    /// The name the published files carry in place of the system's (`NAME_VERSION_…`), e.g.
    /// snosi's `snowfield-ab` for image `snowfield`: the publish step renames what mkosi made,
    /// the transfers' source patterns look for it; what is installed keeps the system's name.
    pub artifact_name: At<Option<String>>,
}

/// A published file's compression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Xz,
    Gzip,
    Zstd,
}

impl Compression {
    fn parse(name: Option<&str>) -> Compression {
        match name {
            Some("xz") => Compression::Xz,
            Some("gzip") => Compression::Gzip,
            Some("zstd") => Compression::Zstd,
            _ => Compression::None,
        }
    }

    /// The suffix of a compressed file, which systemd-sysupdate (through systemd-pull and
    /// systemd-import) recognises: `.xz`, `.gz`, `.zst`; empty when uncompressed.
    #[must_use]
    pub fn suffix(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Xz => ".xz",
            Compression::Gzip => ".gz",
            Compression::Zstd => ".zst",
        }
    }

    /// The command that compresses the files given to it in place, replacing each.
    #[must_use]
    pub fn command(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            Compression::Xz => Some("xz -T0 -f"),
            Compression::Gzip => Some("gzip -f"),
            Compression::Zstd => Some("zstd -q -f --rm"),
        }
    }
}

impl Channel {
    /// The name the channel's published files start with: `artifact-name`, else `system`'s
    /// name (the image id).
    #[must_use]
    pub fn published_name<'a>(&'a self, system: &'a str) -> &'a str {
        self.artifact_name.value.as_deref().unwrap_or(system)
    }

    /// Whether systemd-sysupdate downloads from it (`url-file`), rather than copying from a
    /// directory: only then is there a signature to verify.
    #[must_use]
    pub fn is_remote(&self) -> bool {
        let url = &self.source.value;
        url.starts_with("http://") || url.starts_with("https://")
    }
}

/// What one transfer installs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferTarget {
    /// A versioned GPT partition (an index into `Model::layout`).
    Partition(usize),
    /// The unified kernel image, into the ESP.
    Uki,
}

#[derive(Clone, Debug)]
pub struct Transfer {
    /// An index into `Updates::channels`.
    pub channel: usize,
    pub target: TransferTarget,
}

#[derive(Clone, Debug)]
pub struct Updates {
    /// Boot counting: tries for a new version before falling back.
    pub tries: At<u64>,
    /// Versions kept (`InstancesMax=`).
    pub keep: At<u64>,
    pub channels: Vec<Channel>,
    /// Per channel: one transfer per versioned partition and one for the UKI.
    pub transfers: Vec<Transfer>,
    pub at: Option<Span>,
}

pub(super) fn lower_updates(fields: &Fields<'_>, layout: &[GptPartition]) -> Updates {
    let channels: Vec<Channel> = fields
        .labelled("channel")
        .into_iter()
        .map(|(name, channel)| Channel {
            name: name.to_owned(),
            at: channel.at,
            source: channel.string("source").map(Option::unwrap_or_default),
            key: channel.string("key"),
            compress: channel.symbol("compress").map(Compression::parse),
            artifact_name: channel.string("artifact-name"),
        })
        .collect();
    // Slot A (or the only slot) of each versioned partition: the slot an update writes into is
    // matched by label, so one transfer serves both slots.
    let versioned: Vec<usize> = layout
        .iter()
        .enumerate()
        .filter(|(_, g)| {
            matches!(g.slot, Slot::A) || (g.slot == Slot::Only && g.verity_match_key.is_some())
        })
        .map(|(i, _)| i)
        .collect();
    let mut transfers = Vec::new();
    for channel in 0..channels.len() {
        transfers.extend(versioned.iter().map(|&i| Transfer {
            channel,
            target: TransferTarget::Partition(i),
        }));
        transfers.push(Transfer {
            channel,
            target: TransferTarget::Uki,
        });
    }
    Updates {
        tries: fields.int("tries").map(|t| t.unwrap_or(3)),
        keep: fields.int("keep").map(|k| k.unwrap_or(2)),
        channels,
        transfers,
        at: fields.at,
    }
}
