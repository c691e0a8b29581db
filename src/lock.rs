//! The lock file, `FILE.lock`: the SHA-256 of every file the configuration is made of (the entry
//! file, its imports, the standard library modules), of every extension source tree, and of
//! every other input the build reads — the signing keys and certificates, Flatpak remotes' keys,
//! the base tree, the image's trees and the build scripts — in
//! TOML sorted by name. `pcfg check --locked` reports each input that no longer matches. An
//! input that exists but cannot be read is an error, never recorded as missing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::compile::Compilation;
use crate::diag::{Code, Diagnostic, Label};
use crate::emit::{sha256_hex, Source};
use crate::model::Model;
use crate::source::{FileId, Span};
use crate::vfs::{Vfs, VfsError};

/// The lock file's format version.
pub const VERSION: u32 = 1;

/// What a lock file records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub version: u32,
    /// Source files by name (relative to the entry file, `std/NAME` for the standard library).
    pub files: BTreeMap<String, String>,
    /// Extension source trees by the path the configuration gives; `missing` when absent.
    #[serde(default)]
    pub trees: BTreeMap<String, String>,
    /// Keys, certificates and the base tree (a directory or a manifest), by the path the
    /// configuration gives; `missing` when absent.
    #[serde(default)]
    pub inputs: BTreeMap<String, String>,
}

/// What is recorded for an input that does not exist.
const MISSING: &str = "missing";

/// An input that exists but cannot be read: its path and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    pub path: String,
    pub reason: String,
}

/// The key and certificate paths a model's build reads (signing keys, the PCR policy's key,
/// Flatpak remotes', update channels' and package sources' keys), its base tree, its trees and build scripts.
fn other_inputs(model: &Model) -> Vec<String> {
    let trust = &model.trust;
    let mut paths: Vec<String> = [
        trust.key.value.clone(),
        trust.cert.value.clone(),
        model.system.base_tree.value.clone(),
    ]
    .into_iter()
    .chain(
        [&trust.secure_boot, &trust.verity]
            .into_iter()
            .flatten()
            .flat_map(|pair| [pair.key.value.clone(), pair.cert.value.clone()]),
    )
    .flatten()
    .chain(model.flatpak_remotes.iter().map(|r| r.key.value.clone()))
    .chain(
        model
            .package_sources
            .iter()
            .filter_map(|s| s.key.value.clone()),
    )
    .chain(
        model
            .updates
            .channels
            .iter()
            .filter_map(|c| c.key.value.clone()),
    )
    // The key that signs the PCR 11 policy, when it is its own.
    .chain(
        trust
            .pcr_signer()
            .into_iter()
            .flat_map(|((key, cert), _)| [key.value.clone(), cert.value.clone()])
            .flatten(),
    )
    // The payload: the image's trees and every build script.
    .chain(model.system.trees.value.iter().map(|t| t.value.clone()))
    .chain(
        std::iter::once(&model.system.scripts)
            .chain(
                model
                    .extensions
                    .iter()
                    .map(super::model::extension::Extension::scripts),
            )
            .flat_map(|s| s.all().map(|(_, p)| p.value.clone()).collect::<Vec<_>>()),
    )
    .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// The digest of a file or a tree, `missing` when there is nothing, or why it cannot be read.
fn digest_of(vfs: &dyn Vfs, path: &Path) -> Result<String, String> {
    match vfs.sha256(path) {
        Ok(digest) => return Ok(crate::digest::hex(&digest)),
        Err(VfsError::NotFound) => return Ok(MISSING.to_owned()),
        Err(VfsError::IsADirectory) => {}
        Err(VfsError::TooLarge { .. }) => return Err("too large".to_owned()),
        Err(VfsError::Io(reason)) => return Err(reason),
    }
    // A directory: its tree, which must be readable whole.
    vfs.walk(path)?;
    vfs.tree_digest(path)
        .ok_or_else(|| "cannot be read whole".to_owned())
}

/// The path of the lock file of `entry`: `system.pcfg` → `system.pcfg.lock`.
#[must_use]
pub fn path_of(entry: &Path) -> PathBuf {
    let mut name = entry.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl Lock {
    /// The lock of a compilation as it is now.
    ///
    /// # Errors
    /// Every input that exists but cannot be read.
    pub fn of(
        compilation: &Compilation,
        model: Option<&Model>,
        vfs: &dyn Vfs,
        source: &Source<'_>,
    ) -> Result<Lock, Vec<Unreadable>> {
        let files = compilation
            .sources
            .files()
            .map(|(_, file)| (source.name_of(file), sha256_hex(file.text().as_bytes())))
            .collect();
        let mut unreadable = Vec::new();
        let mut digests = |paths: Vec<String>| -> BTreeMap<String, String> {
            let mut out = BTreeMap::new();
            for path in paths {
                match digest_of(vfs, &source.entry_dir.join(&path)) {
                    Ok(digest) => {
                        out.insert(path, digest);
                    }
                    Err(reason) => unreadable.push(Unreadable { path, reason }),
                }
            }
            out
        };
        let trees = digests(
            model
                .map(|m| {
                    m.extensions
                        .iter()
                        .filter_map(|e| e.source.value.clone())
                        .collect()
                })
                .unwrap_or_default(),
        );
        let inputs = digests(model.map(other_inputs).unwrap_or_default());
        if !unreadable.is_empty() {
            return Err(unreadable);
        }
        Ok(Lock {
            version: VERSION,
            files,
            trees,
            inputs,
        })
    }

    /// The TOML text, with a header saying what it is.
    #[must_use]
    pub fn render(&self, entry_name: &str) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!("# The inputs of {entry_name}, by SHA-256. `pcfg lock {entry_name}` writes this file;\n# `pcfg check --locked` fails when an input no longer matches.\n{body}")
    }

    /// Parses a lock file.
    ///
    /// # Errors
    /// When the text is not a lock file of this version.
    pub fn parse(text: &str) -> Result<Lock, String> {
        let lock: Lock = toml::from_str(text).map_err(|e| e.message().to_owned())?;
        if lock.version != VERSION {
            return Err(format!(
                "lock file version {} (this pcfg writes {VERSION})",
                lock.version
            ));
        }
        Ok(lock)
    }

    /// A diagnostic for each input of `current` that does not match `self` (the locked state).
    #[must_use]
    pub fn verify(
        &self,
        current: &Lock,
        compilation: &Compilation,
        model: Option<&Model>,
        source: &Source<'_>,
        lock_name: &str,
    ) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        // An input whose digest differs from the lock's, or that the lock does not have.
        let mismatch = |subject: String, was_locked: bool, at: Span, label: &str| {
            let what = if was_locked {
                "changed since it was locked"
            } else {
                "is not in the lock file"
            };
            Diagnostic::new(
                Code::LockMismatch,
                format!("{subject} {what}"),
                Label::new(at, label),
            )
            .with_help(format!(
                "review the change, then run `pcfg lock` to record it in `{lock_name}`"
            ))
        };
        for (id, file) in compilation.sources.files() {
            let name = source.name_of(file);
            let (Some(now), locked) = (current.files.get(&name), self.files.get(&name)) else {
                continue;
            };
            if locked == Some(now) {
                continue;
            }
            out.push(mismatch(
                format!("`{name}`"),
                locked.is_some(),
                import_span(compilation, id),
                "this input",
            ));
        }
        for (tree, now) in &current.trees {
            if self.trees.get(tree) == Some(now) {
                continue;
            }
            let at = model
                .and_then(|m| {
                    m.extensions
                        .iter()
                        .find(|e| e.source.value.as_ref() == Some(tree))
                })
                .and_then(|e| e.source.at)
                .unwrap_or_else(|| entry_start(compilation));
            out.push(mismatch(
                format!("the extension tree `{tree}`"),
                self.trees.contains_key(tree),
                at,
                "this source tree",
            ));
        }
        for (input, now) in &current.inputs {
            if self.inputs.get(input) == Some(now) {
                continue;
            }
            out.push(mismatch(
                format!("`{input}`"),
                self.inputs.contains_key(input),
                entry_start(compilation),
                "its input",
            ));
        }
        for name in self
            .files
            .keys()
            .filter(|n| !current.files.contains_key(*n))
        {
            out.push(
                Diagnostic::new(
                    Code::LockMismatch,
                    format!("`{name}` is locked but no longer part of the configuration"),
                    Label::new(entry_start(compilation), "the configuration"),
                )
                .with_help(format!("run `pcfg lock` to drop it from `{lock_name}`")),
            );
        }
        out
    }
}

/// Where a file enters the configuration: the import statement that first loaded it, or the
/// start of the entry file.
fn import_span(compilation: &Compilation, file: FileId) -> Span {
    compilation
        .resolved
        .as_ref()
        .and_then(|r| r.layers.layers.iter().find(|l| l.file == file))
        .and_then(|l| l.imported_at)
        .unwrap_or_else(|| Span::new(file, 0, 0))
}

fn entry_start(compilation: &Compilation) -> Span {
    let entry = compilation
        .resolved
        .as_ref()
        .and_then(|r| r.layers.layers.get(r.layers.entry()))
        .map_or(FileId::FIRST, |l| l.file);
    Span::new(entry, 0, 0)
}
