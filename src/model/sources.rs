//! Package sources: apt repositories the build installs from besides the distribution's own
//! (`package-source NAME { … }`), and the suite a single package is pinned to
//! (`"systemd/forky"`, apt's `PACKAGE/SUITE`). mkosi installs with apt inside its sandbox, which
//! reads `/etc/apt` from the sandbox trees pcfg emits (`emit/apt.rs`).

use super::fields::{At, Fields};
use super::System;

/// An apt repository: what `sources.list.d/pcfg-NAME.sources` says, and the pin of its suite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageSource {
    pub name: String,
    pub at: Option<crate::source::Span>,
    /// An http(s) URL, or an absolute path (a local repository, `file:`).
    pub url: At<String>,
    /// The suite (`trixie-backports`); `None` is the system's release.
    pub suite: At<Option<String>>,
    pub components: At<Vec<At<String>>>,
    /// The OpenPGP public key the repository's `Release` files are signed with, relative to the
    /// entry file; `None` is the distribution's archive keyring.
    pub key: At<Option<String>>,
    /// apt's pin priority for the suite; `None` leaves apt's default.
    pub priority: At<Option<u64>>,
}

/// The components a source without `components` has.
pub const DEFAULT_COMPONENTS: &[&str] = &["main"];

impl PackageSource {
    /// The suite apt asks the repository for.
    #[must_use]
    pub fn suite_in<'a>(&'a self, system: &'a System) -> Option<&'a str> {
        self.suite
            .value
            .as_deref()
            .or(system.release.value.as_deref())
    }

    /// The components, the default's when the field is not written.
    #[must_use]
    pub fn components(&self) -> Vec<&str> {
        if self.components.at.is_none() {
            DEFAULT_COMPONENTS.to_vec()
        } else {
            self.components
                .value
                .iter()
                .map(|c| c.value.as_str())
                .collect()
        }
    }

    /// Where apt finds the key in mkosi's sandbox: the declared key's copy
    /// (`/etc/apt/keyrings/pcfg-NAME.gpg`, `.asc` for an armored key), or the distribution's
    /// archive keyring.
    #[must_use]
    pub fn keyring(&self, distribution: Option<&str>) -> Option<String> {
        match &self.key.value {
            Some(key) => Some(format!(
                "{KEYRINGS}/pcfg-{}.{}",
                self.name,
                if is_armored_name(key) { "asc" } else { "gpg" }
            )),
            None => archive_keyring(distribution?).map(str::to_owned),
        }
    }
}

/// Whether a local repository's path can be written as a `file:` URI that apt reads back as the
/// same path: only characters no URI parser gives a meaning to (apt decodes `%XX`, and `?`, `#`,
/// `;` or `:` would start another part of the URI).
#[must_use]
pub fn plain_local_path(path: &str) -> bool {
    path.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._~+-".contains(c))
}

/// Where the declared keys are in mkosi's sandbox.
pub const KEYRINGS: &str = "/etc/apt/keyrings";

/// Whether a key file's name says it is ASCII-armored, as apt reads a `Signed-By=` file: by its
/// extension, `.asc` armored, anything else binary.
#[must_use]
pub fn is_armored_name(path: &str) -> bool {
    std::path::Path::new(path)
        .extension()
        .is_some_and(|e| e == "asc")
}

/// The keyring the distribution's own archive is signed with, in mkosi's tools tree.
#[must_use]
pub fn archive_keyring(distribution: &str) -> Option<&'static str> {
    Some(match distribution {
        "debian" => "/usr/share/keyrings/debian-archive-keyring.gpg",
        "ubuntu" => "/usr/share/keyrings/ubuntu-archive-keyring.gpg",
        "kali" => "/usr/share/keyrings/kali-archive-keyring.gpg",
        _ => return None,
    })
}

/// The suites mkosi's own sources of the distribution give (`mkosi/distributions/debian.py`,
/// `ubuntu.py`, `kali.py` of mkosi 25.3): the release and its updates and security suites (and Debian's debug suite).
#[must_use]
pub fn distribution_suites(distribution: &str, release: &str) -> Vec<String> {
    match distribution {
        // mkosi writes the debug suite before it stops for unstable.
        "debian" if matches!(release, "unstable" | "sid") => {
            vec![release.to_owned(), format!("{release}-debug")]
        }
        "debian" => vec![
            release.to_owned(),
            format!("{release}-debug"),
            format!("{release}-updates"),
            format!("{release}-security"),
        ],
        "ubuntu" => vec![
            release.to_owned(),
            format!("{release}-updates"),
            format!("{release}-security"),
        ],
        _ => vec![release.to_owned()],
    }
}

/// A package entry split into the package and the suite it is pinned to
/// (`"systemd/forky"` is `("systemd", Some("forky"))`).
#[must_use]
pub fn pinned(entry: &str) -> (&str, Option<&str>) {
    match entry.split_once('/') {
        Some((package, suite)) => (package, Some(suite)),
        None => (entry, None),
    }
}

pub(super) fn lower(name: &str, fields: &Fields<'_>) -> PackageSource {
    PackageSource {
        name: name.to_owned(),
        at: fields.at,
        url: fields.string("url").map(Option::unwrap_or_default),
        suite: fields.string("suite"),
        components: fields.list("components"),
        key: fields.string("key"),
        priority: fields.int("priority"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As mkosi 25.3's `debian.py`, `ubuntu.py` and `kali.py` write their sources.
    #[test]
    fn the_distribution_suites_are_mkosis() {
        assert_eq!(
            distribution_suites("debian", "trixie"),
            [
                "trixie",
                "trixie-debug",
                "trixie-updates",
                "trixie-security"
            ]
        );
        assert_eq!(distribution_suites("debian", "sid"), ["sid", "sid-debug"]);
        assert_eq!(
            distribution_suites("ubuntu", "noble"),
            ["noble", "noble-updates", "noble-security"]
        );
        assert_eq!(
            distribution_suites("kali", "kali-rolling"),
            ["kali-rolling"]
        );
        assert_eq!(pinned("systemd/forky"), ("systemd", Some("forky")));
        assert_eq!(pinned("vim"), ("vim", None));
    }
}
