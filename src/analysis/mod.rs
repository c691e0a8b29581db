//! Analysis of the extension source trees a configuration names: what each tree may contain for
//! its kind, files that shadow each other across extensions, identical files that a shared
//! extension would hold once, and files that are unsafe to ship.
//!
//! Files are compared by size first, then by their first 4 KiB, and hashed whole only when
//! another extension has a file of the same size and start — at the same path (shadowing) or any
//! path (sharing). Hashing runs on every core (rayon).

mod abi;
mod base;
pub mod elf;
mod findings;
mod flatpak_programs;
mod keys;
mod libraries;
pub mod manifest;
mod overlap;
mod payload;
mod requirements;
mod rules;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::diag::{Code, Diagnostic, Label};
use crate::model::{Extension, ExtensionKind, Model};
use crate::source::Span;
use crate::vfs::{EntryKind, TreeEntry, Vfs};
use requirements::Requirements;

pub use findings::Overlap;
pub use overlap::SharedGroup;

/// Reports how many bytes the analysis has read, for a progress display. The core never prints
/// (invariant A2): the command line shows a bar on a terminal and nothing elsewhere.
pub trait Progress: Sync {
    fn read(&self, bytes: u64);
}

/// No progress display.
pub struct Quiet;

impl Progress for Quiet {
    fn read(&self, _bytes: u64) {}
}

/// One extension's tree as read.
#[derive(Debug)]
pub struct Tree<'m> {
    pub extension: &'m Extension,
    /// The directory `source` is relative to: the entry file's. The tree's root and where its
    /// `source` is written are read from the extension when asked for, not held per tree.
    entry_dir: &'m Path,
    pub entries: Vec<TreeEntry>,
}

impl<'m> Tree<'m> {
    /// The tree of `extension`, whose `source` is set, walked from `entry_dir`.
    #[must_use]
    pub fn new(extension: &'m Extension, entry_dir: &'m Path, entries: Vec<TreeEntry>) -> Self {
        debug_assert!(extension.source.value.is_some(), "a tree has a source");
        Tree {
            extension,
            entry_dir,
            entries,
        }
    }

    /// Where `source = "..."` is written (the extension's declaration when it is not).
    #[must_use]
    pub fn at(&self) -> Option<Span> {
        self.extension.source_at()
    }

    /// The directory walked: the `source`, from the entry file's directory.
    #[must_use]
    pub fn root(&self) -> PathBuf {
        self.entry_dir
            .join(self.extension.source.value.as_deref().unwrap_or_default())
    }

    /// The file at `path`, an entry's path (names encoded as [`crate::vfs::encode_name`] does).
    #[must_use]
    pub fn file(&self, path: &str) -> PathBuf {
        let mut file = self.root();
        file.push(crate::vfs::decode_name(path));
        file
    }

    /// Whether the extension declares `overrides = [other]` (`base` for the base tree): its
    /// files may then shadow the other's.
    #[must_use]
    pub fn overrides(&self, other: &str) -> bool {
        self.extension
            .overrides()
            .value
            .iter()
            .any(|o| o.value == other)
    }
}

/// What the analysis found.
#[derive(Debug, Default)]
pub struct Report {
    /// Extensions whose source tree is not there (the analysis skips them).
    pub missing: Vec<String>,
    /// Files per extension that were analysed.
    pub files: BTreeMap<String, usize>,
    /// Identical files at different paths or in different extensions, largest saving first.
    pub shared: Vec<SharedGroup>,
    pub diagnostics: Vec<Diagnostic>,
    /// The files at the same paths in several extensions, or in an extension and the base, one
    /// record per diagnostic with every path it covers.
    pub overlaps: Vec<Overlap>,
    /// What each extension `requires` directly; the suggestions follow the chains to find
    /// where shared files can already go. Empty when nothing is shared (no suggestion then).
    pub requires: BTreeMap<String, Vec<String>>,
}

impl Report {
    /// Hashes one file of each shared group whose digest the comparison did not need (on
    /// every core): for reports that name the content, as `pcfg extensions --format json`.
    pub fn fill_digests(&mut self, model: &Model, vfs: &dyn Vfs, entry_dir: &Path) {
        let sources: std::collections::HashMap<&str, &str> = model
            .extensions
            .iter()
            .filter_map(|e| Some((e.name.as_str(), e.source.value.as_deref()?)))
            .collect();
        self.shared
            .par_iter_mut()
            .filter(|g| g.sha256.is_none())
            .for_each(|group| {
                let Some((extension, path)) = group.files.first() else {
                    return;
                };
                let Some(source) = sources.get(extension.as_str()) else {
                    return;
                };
                let file = entry_dir.join(source).join(crate::vfs::decode_name(path));
                group.sha256 = vfs.sha256(&file).ok().map(|d| crate::digest::hex(&d));
            });
    }

    /// Bytes a shared extension would save: every copy but one of each group.
    #[must_use]
    pub fn bytes_saved(&self) -> u64 {
        self.shared.iter().map(SharedGroup::saving).sum()
    }

    /// One shared extension per set of extensions that have identical files: what it would
    /// hold and save. Libraries first, then the largest saving.
    #[must_use]
    pub fn suggestions(&self) -> Vec<Suggestion> {
        let requirements = Requirements::new(&self.requires);
        let mut by_set: BTreeMap<Vec<&str>, Suggestion> = BTreeMap::new();
        for group in &self.shared {
            let set: BTreeSet<&str> = group.files.iter().map(|(e, _)| e.as_str()).collect();
            let set: Vec<&str> = set.into_iter().collect();
            let entry = by_set.entry(set.clone()).or_insert_with(|| {
                // An extension they all require already takes the files; else a new one.
                let existing = requirements.common(&set).map(str::to_owned);
                Suggestion {
                    required: existing.is_some(),
                    name: existing.unwrap_or_else(|| suggested_name(&set, &self.files)),
                    extensions: set.iter().map(|&e| e.to_owned()).collect(),
                    files: 0,
                    saving: 0,
                    libraries: 0,
                }
            });
            entry.files += 1;
            entry.saving += group.saving();
            entry.libraries += usize::from(group.is_library());
        }
        let mut out: Vec<Suggestion> = by_set.into_values().collect();
        out.sort_by(|a, b| {
            b.libraries
                .cmp(&a.libraries)
                .then(b.saving.cmp(&a.saving))
                .then(a.extensions.cmp(&b.extensions))
        });
        out
    }
}

/// The extension that would hold, once, the files a set of extensions each carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    /// An extension they all `require` already (`required`), or a name for a new one that no
    /// extension has.
    pub name: String,
    pub required: bool,
    /// The extensions that would `require` it (and drop their copies).
    pub extensions: Vec<String>,
    /// Distinct files it would hold.
    pub files: usize,
    /// Bytes it would save.
    pub saving: u64,
    /// How many of them are shared libraries.
    pub libraries: usize,
}

/// `shared-a-b` for two or three extensions, `shared-a-b-and-N-more` beyond; never the name of an
/// extension.
fn suggested_name(set: &[&str], taken: &BTreeMap<String, usize>) -> String {
    let base = if set.len() <= 3 {
        format!("shared-{}", set.join("-"))
    } else {
        format!("shared-{}-{}-and-{}-more", set[0], set[1], set.len() - 2)
    };
    let mut name = base.clone();
    let mut n = 2;
    while taken.contains_key(&name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    name
}

/// Every extension's direct requirements.
fn direct_requires(model: &Model) -> BTreeMap<String, Vec<String>> {
    model
        .extensions
        .iter()
        .map(|e| {
            let requires = e.requires.value.iter().map(|r| r.value.clone()).collect();
            (e.name.clone(), requires)
        })
        .collect()
}

/// Analyses the source trees of `model`'s extensions (paths relative to `entry_dir`).
#[must_use]
pub fn analyse(model: &Model, vfs: &dyn Vfs, entry_dir: &Path, progress: &dyn Progress) -> Report {
    let mut report = Report::default();
    let sources: Vec<(&Extension, &String)> = model
        .extensions
        .iter()
        .filter(|e| e.kind.value != ExtensionKind::Flatpak)
        .filter_map(|e| Some((e, e.source.value.as_ref()?)))
        .collect();
    // The trees are walked on every core; what they hold is then taken in declaration order.
    let walked: Vec<Result<Vec<TreeEntry>, String>> = sources
        .par_iter()
        .map(|(_, source)| vfs.walk(&entry_dir.join(source)))
        .collect();
    let mut trees = Vec::with_capacity(walked.len());
    for ((extension, source), walked) in sources.into_iter().zip(walked) {
        match walked {
            Ok(entries) => trees.push(Tree::new(extension, entry_dir, entries)),
            Err(reason) => {
                report.missing.push(extension.name.clone());
                if let Some(at) = extension.source_at() {
                    report.diagnostics.push(
                        Diagnostic::new(
                            Code::ExtensionSource,
                            format!(
                                "the source tree `{}` of extension `{}` {reason}",
                                crate::diag::excerpt(source, 200),
                                extension.name
                            ),
                            Label::new(at, "no tree to check or build"),
                        )
                        .with_help(format!(
                            "create the directory `{}` (relative to this file) with the extension's files, or point `source` at it",
                            crate::diag::excerpt(source, 200)
                        )),
                    );
                }
            }
        }
    }
    let declared = payload::check_declared(model, vfs, entry_dir, &mut report.diagnostics);
    keys::check(model, vfs, entry_dir, &mut report.diagnostics);
    flatpak_programs::check(model, vfs, entry_dir, &mut report.diagnostics);
    for tree in &trees {
        rules::check(tree, &mut report.diagnostics);
    }
    let head_of = |tree: &Tree<'_>, path: &str, len: usize| -> Option<Vec<u8>> {
        let bytes = vfs.read_prefix(&tree.file(path), len)?;
        progress.read(bytes.len() as u64);
        Some(bytes)
    };
    let facts = |tree: &Tree<'_>, path: &str| -> Option<elf::ElfFacts> {
        let file = tree.file(path);
        elf::facts(&|offset, len| {
            let bytes = vfs.read_range(&file, offset, len)?;
            progress.read(bytes.len() as u64);
            Some(bytes)
        })
    };
    let scanned: Vec<libraries::Scanned> = trees
        .par_iter()
        .map(|t| libraries::scan(&t.entries, &|p| head_of(t, p, 4), &|p| facts(t, p)).into())
        .collect();
    let base = base::read(model, vfs, entry_dir, &mut report.diagnostics);
    let base_dir = model
        .system
        .base_tree
        .value
        .as_deref()
        .map(|b| entry_dir.join(b));
    let read_base = |path: &str| -> Option<Vec<u8>> {
        vfs.read(&base_dir.as_ref()?.join(crate::vfs::decode_name(path)))
            .ok()
    };
    let elves: Vec<&std::collections::BTreeMap<String, elf::ElfFacts>> =
        scanned.iter().map(|s| &s.elves).collect();
    // What each shipped tree holds: the image's own trees (walked with the build scripts'
    // check), then the extensions', whose ELF files the scan has read already.
    let shipped: Vec<payload::Shipped<'_>> = declared
        .iter()
        .map(|(at, root, entries)| payload::Shipped {
            what: payload::What::SystemTrees,
            at: *at,
            root: root.into(),
            entries,
            elves: None,
        })
        .chain(trees.iter().zip(&elves).map(|(t, elves)| payload::Shipped {
            what: payload::What::Extension(&t.extension.name),
            at: t.at(),
            root: t.root().into(),
            entries: &t.entries,
            elves: Some(elves),
        }))
        .collect();
    payload::check_shipped(&shipped, vfs, &mut report.diagnostics);
    drop(shipped);
    abi::check(
        model,
        &trees,
        &elves,
        base.as_ref(),
        &read_base,
        model.system.base_tree.at.or(model.system.at),
        &mut report.diagnostics,
    );
    libraries::check(
        &trees,
        &scanned,
        base.as_ref().map(|b| &b.libraries),
        &mut report.diagnostics,
    );
    let hash = |tree: &Tree<'_>, path: &str, size: u64| -> Option<overlap::Digest> {
        let digest = vfs.sha256(&tree.file(path)).ok()?;
        progress.read(size);
        Some(digest)
    };
    let compare = |a: &Tree<'_>, pa: &str, b: &Tree<'_>, pb: &str, size: u64| -> Option<bool> {
        let same = vfs.same_content(&a.file(pa), &b.file(pb)).ok()?;
        progress.read(2 * size);
        Some(same)
    };
    let mut overlaps = overlap::find(&trees, &hash, &compare, &head_of);
    if let Some(base) = &base {
        overlap::against_base(
            &trees,
            &base.files,
            &base.links,
            &hash,
            &|p| base.digest(vfs, p),
            &mut overlaps.findings,
        );
    }
    // Made after the comparison, whose index of every file is then gone: what is reported
    // per extension is no part of the analysis's peak.
    report.files = trees
        .iter()
        .map(|t| {
            let files = t.entries.iter().filter(|e| e.kind == EntryKind::File);
            (t.extension.name.clone(), files.count())
        })
        .collect();
    // The suggestions follow the requirements only for shared files.
    if !overlaps.shared.is_empty() {
        report.requires = direct_requires(model);
    }
    report.shared = overlaps.shared;
    report.diagnostics.extend(overlaps.diagnostics);
    let (grouped, records) = overlaps.findings.finish(&trees);
    report.diagnostics.extend(grouped);
    report.overlaps = records;
    crate::diag::sort(&mut report.diagnostics);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suggested_name_is_short_and_never_taken() {
        let mut taken = BTreeMap::new();
        assert_eq!(suggested_name(&["a", "b"], &taken), "shared-a-b");
        assert_eq!(
            suggested_name(&["a", "b", "c", "d", "e"], &taken),
            "shared-a-b-and-3-more"
        );
        taken.insert("shared-a-b".to_owned(), 1);
        taken.insert("shared-a-b-2".to_owned(), 1);
        assert_eq!(suggested_name(&["a", "b"], &taken), "shared-a-b-3");
    }

    #[test]
    fn suggestions_put_libraries_first_and_add_up_per_set() {
        let group = |size: u64, files: &[(&str, &str)]| SharedGroup {
            sha256: None,
            size,
            files: files
                .iter()
                .map(|(e, p)| ((*e).to_owned(), (*p).to_owned()))
                .collect(),
        };
        let report = Report {
            shared: vec![
                group(100, &[("a", "usr/share/x"), ("b", "usr/share/x")]),
                group(
                    10,
                    &[("a", "usr/lib/libq.so.1"), ("c", "usr/lib/libq.so.1")],
                ),
                group(50, &[("a", "usr/share/y"), ("b", "opt/y")]),
            ],
            ..Report::default()
        };
        let mut report = report;
        let suggestions = report.suggestions();
        assert_eq!(suggestions.len(), 2);
        assert!(!suggestions[1].required);
        assert_eq!(suggestions[0].name, "shared-a-c");
        assert_eq!(suggestions[0].libraries, 1);
        assert_eq!(
            (suggestions[1].files, suggestions[1].saving),
            (2, 150),
            "{suggestions:?}"
        );
        // `a` and `b` both require `libs`: the files go there.
        for name in ["a", "b"] {
            report
                .requires
                .insert(name.to_owned(), vec!["libs".to_owned()]);
        }
        let suggestions = report.suggestions();
        assert_eq!(
            (suggestions[1].name.as_str(), suggestions[1].required),
            ("libs", true)
        );
    }
}
