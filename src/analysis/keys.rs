//! The OpenPGP key files a configuration names: each Flatpak remote's (a public key, binary or
//! armored, that Flatpak verifies the remote with) and each update channel's (a binary public
//! key, the keyring systemd-sysupdate verifies downloads with) and each package source's (a
//! public key apt verifies the repository with, binary or armored as its name says). Read
//! through the `Vfs`.

use std::path::Path;

use crate::diag::{Code, Diagnostic, Label};
use crate::model::Model;
use crate::source::Span;
use crate::vfs::Vfs;

/// What to say of one kind of key file that cannot be used.
struct KeyUse {
    code: Code,
    /// "Flatpak remote", "update channel".
    owner: &'static str,
    label: &'static str,
    help: &'static str,
    /// Reads the key file: why it cannot be used, if it cannot.
    read: fn(&dyn Vfs, &Path) -> Result<(), String>,
}

const FLATPAK: KeyUse = KeyUse {
    code: Code::FlatpakRemoteKey,
    owner: "Flatpak remote",
    label: "the key Flatpak verifies the remote with",
    help: "export the remote's OpenPGP public key next to this file (`gpg --export KEYID > flathub.gpg`, or `--armor`) and point `key` at it",
    read: |vfs, path| crate::plan::read_flatpak_key(vfs, path).1.map(|_| ()),
};

const UPDATES: KeyUse = KeyUse {
    code: Code::UpdateKey,
    owner: "update channel",
    label: "the key systemd-sysupdate verifies the channel's downloads with",
    help: "export the public key that signs the channel's SHA256SUMS, in binary, next to this file (`gpg --export KEYID > updates.gpg`) and point `key` at it",
    read: |vfs, path| crate::plan::read_update_key(vfs, path).1,
};

const APT: KeyUse = KeyUse {
    code: Code::PackageSourceKey,
    owner: "package source",
    label: "the key apt verifies the repository's Release files with",
    help: "export the repository's OpenPGP public key next to this file, binary as `NAME.gpg` (`gpg --export KEYID > repo.gpg`) or armored as `NAME.asc` (`gpg --export --armor KEYID > repo.asc`), and point `key` at it; without `key` the distribution's archive keyring is used",
    read: |vfs, path| crate::plan::read_apt_key(vfs, path).1,
};

pub(super) fn check(model: &Model, vfs: &dyn Vfs, entry_dir: &Path, out: &mut Vec<Diagnostic>) {
    // Each key a declaration names: its use, the file, the declaration's name, where it is set.
    let sources = model
        .package_sources
        .iter()
        .filter_map(|s| Some((&APT, s.key.value.as_deref()?, &s.name, s.key.at.or(s.at))));
    let remotes = model
        .flatpak_remotes
        .iter()
        .map(|r| (&FLATPAK, r.key.value.as_str(), &r.name, r.key.at.or(r.at)));
    let channels = model.updates.channels.iter().filter_map(|c| {
        Some((
            &UPDATES,
            c.key.value.as_deref()?,
            &c.name,
            c.key.at.or(c.at),
        ))
    });
    for (what, key, name, at) in sources.chain(remotes).chain(channels) {
        if let Err(why) = (what.read)(vfs, &entry_dir.join(key)) {
            push(what, key, name, at, &why, out);
        }
    }
}

fn push(
    what: &KeyUse,
    key: &str,
    name: &str,
    at: Option<Span>,
    why: &str,
    out: &mut Vec<Diagnostic>,
) {
    let Some(at) = at else {
        return;
    };
    out.push(
        Diagnostic::new(
            what.code,
            format!(
                "the key file `{}` of {} `{name}` {why}",
                crate::diag::excerpt(key, 200),
                what.owner
            ),
            Label::new(at, what.label),
        )
        .with_help(what.help),
    );
}
