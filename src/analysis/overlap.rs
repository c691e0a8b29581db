//! Files in more than one extension: the same path with different content (one shadows the
//! other, an error unless `overrides` declares it), the same path with the same content (a
//! duplicate), and the same content at any paths (what a shared extension would hold once).

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use super::Tree;
use crate::diag::{Code, Diagnostic, Label};
use crate::emit::sha256_hex;
use crate::vfs::EntryKind;

/// Identical content in several extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedGroup {
    pub sha256: String,
    pub size: u64,
    /// `(extension, path)`, sorted.
    pub files: Vec<(String, String)>,
}

impl SharedGroup {
    /// Bytes saved if one extension held the file for all: every copy beyond the first.
    #[must_use]
    pub fn saving(&self) -> u64 {
        let extensions: BTreeSet<&str> = self.files.iter().map(|(e, _)| e.as_str()).collect();
        self.size * (extensions.len() as u64).saturating_sub(1)
    }

    /// Whether the group holds a shared library (reported first: sharing them saves RAM too).
    #[must_use]
    pub fn is_library(&self) -> bool {
        self.files.iter().any(|(_, p)| {
            let name = p.rsplit('/').next().unwrap_or(p);
            name.to_ascii_lowercase().ends_with(".so") || name.contains(".so.")
        })
    }
}

/// The same file in two extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duplicate {
    pub path: String,
    pub extensions: (String, String),
}

pub(super) struct Overlaps {
    pub shared: Vec<SharedGroup>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads a whole file of a tree.
pub(super) type ReadFile<'a> = dyn Fn(&Tree<'_>, &str) -> Option<Vec<u8>> + Sync + 'a;
/// Reads the first bytes of a file of a tree.
pub(super) type ReadPrefix<'a> = dyn Fn(&Tree<'_>, &str, usize) -> Option<Vec<u8>> + Sync + 'a;
/// Files keyed by size and the hash of their first 4 KiB (`None` for files that small).
type ByStart<'t> = BTreeMap<(u64, Option<&'t String>), Vec<(usize, &'t str)>>;

/// How much of a file the first comparison reads.
const PREFIX: usize = 4096;

/// A file of a tree: `(tree index, path, size)`.
type FileRef<'t> = (usize, &'t str, u64);

pub(super) fn find(trees: &[Tree<'_>], read: &ReadFile<'_>, head: &ReadPrefix<'_>) -> Overlaps {
    let files: Vec<FileRef<'_>> = trees
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            t.entries
                .iter()
                .filter(|e| e.kind == EntryKind::File)
                .map(move |e| (i, e.path.as_str(), e.size))
        })
        .collect();
    let mut by_path: BTreeMap<&str, Vec<(usize, u64)>> = BTreeMap::new();
    for &(tree, path, size) in &files {
        by_path.entry(path).or_default().push((tree, size));
    }
    let mut by_size: BTreeMap<u64, Vec<(usize, &str)>> = BTreeMap::new();
    for &(tree, path, size) in files.iter().filter(|f| f.2 > 0) {
        by_size.entry(size).or_default().push((tree, path));
    }
    // Only files that another file could equal are hashed: the same path and size in another
    // extension, or the same size in another extension. Each is read once, on every core.
    let mut candidates: BTreeSet<(usize, &str)> = BTreeSet::new();
    for (path, holders) in by_path.iter().filter(|(_, h)| h.len() > 1) {
        for &(tree, size) in holders {
            if holders
                .iter()
                .any(|&(other, other_size)| other != tree && other_size == size)
            {
                candidates.insert((tree, path));
            }
        }
    }
    for group in by_size.values() {
        let first = group.first().map(|g| g.0);
        if group.iter().any(|g| Some(g.0) != first) {
            candidates.extend(group.iter().copied());
        }
    }
    // Stage one, as jdupes and rdfind do: the first 4 KiB of each larger candidate. Only files
    // whose size and first 4 KiB match a file of another extension are read whole.
    let sizes: BTreeMap<(usize, &str), u64> = files.iter().map(|&(t, p, s)| ((t, p), s)).collect();
    let size_of = |c: &(usize, &str)| sizes.get(c).copied().unwrap_or(0);
    let prefixes: BTreeMap<(usize, &str), String> = candidates
        .par_iter()
        .filter(|c| size_of(c) > PREFIX as u64)
        .filter_map(|&(tree, path)| {
            Some((
                (tree, path),
                sha256_hex(&head(trees.get(tree)?, path, PREFIX)?),
            ))
        })
        .collect();
    let mut by_key: ByStart<'_> = BTreeMap::new();
    for c in &candidates {
        by_key
            .entry((size_of(c), prefixes.get(c)))
            .or_default()
            .push(*c);
    }
    let whole: Vec<(usize, &str)> = by_key
        .values()
        .filter(|group| group.iter().any(|g| g.0 != group[0].0))
        .flatten()
        .copied()
        .collect();
    let hashes: BTreeMap<(usize, &str), String> = whole
        .into_par_iter()
        .filter_map(|(tree, path)| {
            let bytes = read(trees.get(tree)?, path)?;
            Some(((tree, path), sha256_hex(&bytes)))
        })
        .collect();
    // Files never hashed whole differ from every other file by size or first 4 KiB.
    let hash = |tree: usize, path: &str| hashes.get(&(tree, path)).cloned();

    let mut diagnostics = Vec::new();
    for (path, holders) in by_path.iter().filter(|(_, h)| h.len() > 1) {
        for (a, &(ta, sa)) in holders.iter().enumerate() {
            for &(tb, sb) in &holders[a + 1..] {
                let same = sa == sb && {
                    let (ha, hb) = (hash(ta, path), hash(tb, path));
                    ha.is_some() && ha == hb
                };
                if let Some(d) = same_path(&trees[ta], &trees[tb], path, same) {
                    diagnostics.push(d);
                }
            }
        }
    }

    // Sharing: equal hashes among files of equal size in at least two extensions.
    let mut shared = Vec::new();
    for (size, candidates) in by_size {
        let extensions: BTreeSet<usize> = candidates.iter().map(|c| c.0).collect();
        if extensions.len() < 2 {
            continue;
        }
        let mut by_hash: BTreeMap<String, Vec<(usize, &str)>> = BTreeMap::new();
        for (tree, path) in candidates {
            if let Some(h) = hash(tree, path) {
                by_hash.entry(h).or_default().push((tree, path));
            }
        }
        for (sha256, group) in by_hash {
            if group.iter().map(|g| g.0).collect::<BTreeSet<_>>().len() < 2 {
                continue;
            }
            let mut files: Vec<(String, String)> = group
                .iter()
                .map(|&(t, p)| (trees[t].extension.name.clone(), p.to_owned()))
                .collect();
            files.sort();
            shared.push(SharedGroup {
                sha256,
                size,
                files,
            });
        }
    }
    shared.sort_by(|a, b| {
        b.is_library()
            .cmp(&a.is_library())
            .then(b.saving().cmp(&a.saving()))
            .then(a.files.cmp(&b.files))
    });
    Overlaps {
        shared,
        diagnostics,
    }
}

/// Two extensions with a file at the same path: a duplicate when identical, a conflict unless
/// one declares that it overrides the other.
fn same_path(a: &Tree<'_>, b: &Tree<'_>, path: &str, identical: bool) -> Option<Diagnostic> {
    let (na, nb) = (&a.extension.name, &b.extension.name);
    let (at_a, at_b) = (a.at?, b.at?);
    if identical {
        return Some(
            Diagnostic::new(Code::DuplicateFile, format!("`{path}` is identical in extensions `{na}` and `{nb}`"), Label::new(at_a, format!("`{na}`")))
                .with_label(Label::new(at_b, format!("`{nb}`")))
                .with_help(format!("keep it in one: move it into an extension that both `require`, or remove it from `{nb}`")),
        );
    }
    let declares =
        |t: &Tree<'_>, other: &str| t.extension.overrides.value.iter().any(|o| o.value == other);
    if declares(a, nb) || declares(b, na) {
        return None;
    }
    Some(
        Diagnostic::new(Code::ExtensionShadowing, format!("`{path}` differs between extensions `{na}` and `{nb}`: one silently shadows the other"), Label::new(at_a, format!("`{na}` has one `{path}`")))
            .with_label(Label::new(at_b, format!("`{nb}` has another")))
            .with_help(format!("say which wins with `overrides = [{nb}]` on `{na}` (or the reverse), which also sets the overlay order; or remove one of them")),
    )
}

/// Files of an extension at a path the base tree has too: identical (a duplicate), or different
/// (the extension shadows the base: an error unless it declares `overrides = [base]`).
pub(super) fn against_base(
    trees: &[Tree<'_>],
    base: &[crate::vfs::TreeEntry],
    read: &ReadFile<'_>,
    read_base: &(dyn Fn(&str) -> Option<Vec<u8>> + Sync),
) -> Vec<Diagnostic> {
    let base_files: BTreeMap<&str, u64> = base
        .iter()
        .filter(|e| e.kind == EntryKind::File)
        .map(|e| (e.path.as_str(), e.size))
        .collect();
    let mut out = Vec::new();
    for tree in trees {
        let Some(at) = tree.at else { continue };
        let name = &tree.extension.name;
        let declared = tree
            .extension
            .overrides
            .value
            .iter()
            .any(|o| o.value == crate::schema::BASE);
        for entry in tree.entries.iter().filter(|e| e.kind == EntryKind::File) {
            let Some(&size) = base_files.get(entry.path.as_str()) else {
                continue;
            };
            let identical = size == entry.size && {
                let ours = read(tree, &entry.path).map(|b| sha256_hex(&b));
                ours.is_some() && ours == read_base(&entry.path).map(|b| sha256_hex(&b))
            };
            let path = &entry.path;
            if identical {
                out.push(
                    Diagnostic::new(
                        Code::DuplicateFile,
                        format!("`{path}` in extension `{name}` is already in the base tree"),
                        Label::new(at, format!("`{name}`")),
                    )
                    .with_help(format!("remove it from `{name}`: the base provides it")),
                );
            } else if !declared {
                out.push(
                    Diagnostic::new(Code::ExtensionShadowing, format!("`{path}` in extension `{name}` shadows a different file of the base tree"), Label::new(at, format!("`{name}` has its own `{path}`")))
                        .with_help(format!("declare it with `overrides = [base]` on `{name}`, or remove the file from the extension")),
                );
            }
        }
    }
    out
}
