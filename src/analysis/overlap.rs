//! Files in more than one extension: the same path with different content (one shadows the
//! other, an error unless `overrides` declares it), the same path with the same content (a
//! duplicate), and the same content at any paths (what a shared extension would hold once).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use foldhash::fast::FixedState;

use rayon::prelude::*;

use super::findings::Findings;
use super::Tree;
use crate::diag::{Code, Diagnostic, Label};
use crate::vfs::EntryKind;

/// Identical content in several extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedGroup {
    /// The content's SHA-256, in hex: `None` where files were compared byte for byte and
    /// nothing needed the digest ([`super::Report::fill_digests`] computes it for a report).
    pub sha256: Option<String>,
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
        self.files
            .iter()
            .any(|(_, p)| super::libraries::is_library_name(p.rsplit('/').next().unwrap_or(p)))
    }
}

pub(super) struct Overlaps {
    pub shared: Vec<SharedGroup>,
    /// Files over directories.
    pub diagnostics: Vec<Diagnostic>,
    /// Identical and different files at the same paths, by decision.
    pub findings: Findings,
}

/// The SHA-256 of a file of a tree (its path and size), read as a stream (files of any size).
pub(super) type HashFile<'a> = dyn Fn(&Tree<'_>, &str, u64) -> Option<Digest> + Sync + 'a;
/// Whether two files of trees (each its tree and path; the size they share) hold the same
/// bytes; `None` when one cannot be read.
pub(super) type CompareFiles<'a> =
    dyn Fn(&Tree<'_>, &str, &Tree<'_>, &str, u64) -> Option<bool> + Sync + 'a;
/// Reads the first bytes of a file of a tree.
pub(super) type ReadPrefix<'a> = dyn Fn(&Tree<'_>, &str, usize) -> Option<Vec<u8>> + Sync + 'a;
/// A SHA-256, as bytes: half the memory of its hex form, for trees of a million files.
pub(super) type Digest = [u8; 32];

/// How much of a file the first comparison reads.
const PREFIX: usize = 4096;

/// A file of a tree: `(tree index, path, size)`.
type FileRef<'t> = (usize, &'t str, u64);

/// The indices of `files` in runs of equal `key`, for runs of two or more, in key order.
fn runs<'t, K: Ord>(files: &[FileRef<'t>], key: impl Fn(&FileRef<'t>) -> K) -> Vec<Vec<usize>> {
    runs_of((0..files.len()).collect(), |&i| key(&files[i]))
}

/// `items` in runs of equal `key`, for runs of two or more, in key order (stable within a run);
/// sorted where they are.
fn runs_of<K: Ord>(mut sorted: Vec<usize>, key: impl Fn(&usize) -> K) -> Vec<Vec<usize>> {
    sorted.sort_by_key(|i| key(i));
    let mut out = Vec::new();
    let mut start = 0;
    while start < sorted.len() {
        let k = key(&sorted[start]);
        let end = start + sorted[start..].iter().take_while(|i| key(i) == k).count();
        if end - start > 1 {
            out.push(sorted[start..end].to_vec());
        }
        start = end;
    }
    out
}

pub(super) fn find(
    trees: &[Tree<'_>],
    hash: &HashFile<'_>,
    compare: &CompareFiles<'_>,
    head: &ReadPrefix<'_>,
) -> Overlaps {
    // Flat vectors indexed by file, sorted views by index: a few dozen bytes per file, so a
    // million files stay in hundreds, not thousands, of megabytes.
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
    let by_path = runs(&files, |f| f.1);
    let by_size = runs(&files, |f| f.2);

    // Only files that another file could equal are hashed: the same path and size in another
    // extension, or the same size in another extension.
    let spans_trees = |run: &[usize]| run.iter().any(|&i| files[i].0 != files[run[0]].0);
    let mut candidate = vec![false; files.len()];
    for run in by_path.iter().filter(|r| spans_trees(r)) {
        for &i in run {
            candidate[i] = true;
        }
    }
    // Empty files are all alike and share nothing.
    for run in by_size
        .iter()
        .filter(|r| files[r[0]].2 > 0 && spans_trees(r))
    {
        for &i in run {
            candidate[i] = true;
        }
    }
    // Stage one, as jdupes and rdfind do: the first 4 KiB of each candidate (all of a small
    // file). Only files whose size and start match a file of another extension are read
    // whole. Both stages run on every core. The start is only a filter (stage two decides by
    // the whole content), so a fast non-cryptographic hash does: a collision costs a
    // comparison, never a wrong answer. XXH3 is about twenty times SHA-256's speed here; its
    // 64-bit form keeps an entry 16 bytes (a 128-bit one made it 32, aligned).
    let prefixes: Vec<Option<u64>> = (0..files.len())
        .into_par_iter()
        .map(|i| {
            let (tree, path, size) = files[i];
            if !candidate[i] || size == 0 {
                return None;
            }
            head(trees.get(tree)?, path, PREFIX).map(|bytes| xxhash_rust::xxh3::xxh3_64(&bytes))
        })
        .collect();
    let keyed: Vec<usize> = (0..files.len()).filter(|&i| candidate[i]).collect();
    // Stage two: the files of each run whose size and start match, across extensions, split
    // into classes of identical content. Files never classified differ from every other file
    // by size or first 4 KiB.
    let runs: Vec<Vec<usize>> = runs_of(keyed, |&i| (files[i].2, prefixes[i]))
        .into_iter()
        .filter(|r| files[r[0]].2 > 0 && spans_trees(r))
        .collect();
    let content = Content {
        files: &files,
        trees,
        hash,
        compare,
    };
    let classified: Vec<Vec<(Vec<usize>, Option<Digest>)>> =
        runs.par_iter().map(|run| content.classify(run)).collect();
    let mut class_of: Vec<Option<usize>> = vec![None; files.len()];
    let mut classes: Vec<(Vec<usize>, Option<Digest>)> = Vec::new();
    for class in classified.into_iter().flatten() {
        for &i in &class.0 {
            class_of[i] = Some(classes.len());
        }
        classes.push(class);
    }
    // Empty files are all alike.
    let same = |a: usize, b: usize| {
        files[a].2 == files[b].2
            && (files[a].2 == 0 || (class_of[a].is_some() && class_of[a] == class_of[b]))
    };

    let mut findings = Findings::default();
    for run in &by_path {
        // One finding per path and content: a file N extensions ship identically is one
        // duplicate naming all N, not N(N-1)/2 pairs.
        let mut alike: Vec<Vec<usize>> = Vec::new();
        for &i in run {
            match alike.iter_mut().find(|c| same(c[0], i)) {
                Some(class) => class.push(i),
                None => alike.push(vec![i]),
            }
        }
        let alike: Vec<Vec<usize>> = alike
            .into_iter()
            .map(|class| class.into_iter().map(|i| files[i].0).collect())
            .collect();
        report_path(files[run[0]].1, &alike, &mut findings);
    }
    links(trees, &mut findings);

    // Sharing: classes of identical files in at least two extensions.
    let mut shared = Vec::new();
    for (members, digest) in &classes {
        if !spans_trees(members) {
            continue;
        }
        let mut group: Vec<(String, String)> = members
            .iter()
            .map(|&i| {
                (
                    trees[files[i].0].extension.name.clone(),
                    files[i].1.to_owned(),
                )
            })
            .collect();
        group.sort();
        shared.push(SharedGroup {
            sha256: digest.as_ref().map(|d| crate::digest::hex(d)),
            size: files[members[0]].2,
            files: group,
        });
    }
    shared.sort_by(|a, b| {
        b.is_library()
            .cmp(&a.is_library())
            .then(b.saving().cmp(&a.saving()))
            .then(a.files.cmp(&b.files))
    });
    Overlaps {
        shared,
        diagnostics: files_over_directories(trees),
        findings,
    }
}

/// The runs a content comparison classifies at most, file against file; a longer run is
/// hashed, file by file.
const COMPARED_RUN: usize = 4;

/// Reads content to sort files into classes of identical bytes.
struct Content<'c, 't> {
    files: &'c [FileRef<'t>],
    trees: &'c [Tree<'t>],
    hash: &'c HashFile<'c>,
    compare: &'c CompareFiles<'c>,
}

impl Content<'_, '_> {
    /// The classes of identical files of `run` (files of one size and start). A short run is
    /// compared byte for byte, which reads each file at memory speed and hashes nothing; a
    /// long one is hashed whole, file by file, and its classes carry their SHA-256. A file
    /// that cannot be read is a class of its own.
    fn classify(&self, run: &[usize]) -> Vec<(Vec<usize>, Option<Digest>)> {
        let files = self.files;
        let tree = |i: usize| &self.trees[files[i].0];
        if run.len() > COMPARED_RUN {
            let digests: Vec<(Option<Digest>, usize)> = run
                .iter()
                .map(|&i| ((self.hash)(tree(i), files[i].1, files[i].2), i))
                .collect();
            let mut by_digest: BTreeMap<Digest, Vec<usize>> = BTreeMap::new();
            let mut out = Vec::new();
            for (digest, i) in digests {
                match digest {
                    Some(d) => by_digest.entry(d).or_default().push(i),
                    None => out.push((vec![i], None)),
                }
            }
            out.extend(by_digest.into_iter().map(|(d, c)| (c, Some(d))));
            return out;
        }
        let mut classes: Vec<Vec<usize>> = Vec::new();
        for &i in run {
            let equal = |c: &Vec<usize>| {
                let first = c[0];
                (self.compare)(tree(first), files[first].1, tree(i), files[i].1, files[i].2)
                    == Some(true)
            };
            match classes.iter_mut().find(|c| equal(c)) {
                Some(class) => class.push(i),
                None => classes.push(vec![i]),
            }
        }
        classes.into_iter().map(|c| (c, None)).collect()
    }
}

/// What one path holds in several extensions, as classes of identical content (tree indices):
/// a duplicate per class that two or more extensions share, naming them all; and, between
/// classes, each pair of extensions a shadowing (each pair is a decision: which is on top).
fn report_path(path: &str, classes: &[Vec<usize>], findings: &mut Findings) {
    for class in classes {
        let mut seen: Vec<usize> = Vec::new();
        for &tree in class {
            if !seen.contains(&tree) {
                seen.push(tree);
            }
        }
        findings.duplicate(seen, path);
    }
    for (k, class) in classes.iter().enumerate() {
        for other in &classes[k + 1..] {
            for &a in class {
                for &b in other.iter().filter(|&&b| b != a) {
                    findings.shadowing(a, b, path);
                }
            }
        }
    }
}

/// Symbolic links compared as files are, by their target: the same link in two extensions is
/// a duplicate; a link where another extension has another link or a file shadows it.
fn links(trees: &[Tree<'_>], findings: &mut Findings) {
    // Only paths where some extension has a link: links are few, files many.
    let mut by_path: BTreeMap<&str, Vec<(usize, Option<&str>)>> = trees
        .iter()
        .flat_map(|t| &t.entries)
        .filter(|e| matches!(e.kind, EntryKind::Symlink { .. }))
        .map(|e| (e.path.as_str(), Vec::new()))
        .collect();
    if by_path.is_empty() {
        return;
    }
    for (index, tree) in trees.iter().enumerate() {
        for entry in &tree.entries {
            let target = match &entry.kind {
                EntryKind::Symlink { target } => Some(target.as_str()),
                EntryKind::File => None,
                _ => continue,
            };
            if let Some(at) = by_path.get_mut(entry.path.as_str()) {
                at.push((index, target));
            }
        }
    }
    for (path, entries) in by_path {
        // Links with one target are one class; a file is never identical to a link.
        let mut classes: Vec<(Option<&str>, Vec<usize>)> = Vec::new();
        for &(tree, target) in &entries {
            match classes
                .iter_mut()
                .find(|(t, _)| target.is_some() && *t == target)
            {
                Some((_, class)) => class.push(tree),
                None => classes.push((target, vec![tree])),
            }
        }
        let classes: Vec<Vec<usize>> = classes.into_iter().map(|(_, c)| c).collect();
        report_path(path, &classes, findings);
    }
}

/// A file (or link) in one extension where another has a directory: merged, the file hides the
/// whole directory or the directory the file. Directories are those listed and those implied by
/// the paths below them.
fn files_over_directories<'a>(trees: &'a [Tree<'_>]) -> Vec<Diagnostic> {
    // Only where some tree has something other than a directory can a directory hide it: the
    // directories are looked up in those paths, not all kept (a map of every directory of
    // 50,000 trees was a fifth of the analysis's peak). The paths are hashed, not sorted: a
    // binary search of them for every directory made comparing strings a tenth of the
    // analysis of 50 extensions.
    let hidable: HashSet<&str, FixedState> = trees
        .iter()
        .flat_map(|t| &t.entries)
        .filter(|e| e.kind != EntryKind::Dir)
        .map(|e| e.path.as_str())
        .collect();
    // The trees that have a directory at each such path, each tree once: a tree's entries come
    // together, so a tree already listed is the last one (every entry listing each of its
    // parents held `usr` once per entry of every tree).
    let mut directories: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut add = |path: &'a str, index| {
        if !hidable.contains(path) {
            return;
        }
        let trees = directories.entry(path).or_default();
        if trees.last() != Some(&index) {
            trees.push(index);
        }
    };
    // The directories of one tree whose parents have been climbed: a path's parents are those
    // of its parent, so each tree's directories are looked up once, not once per entry below.
    let mut climbed: HashSet<&str, FixedState> = HashSet::default();
    for (index, tree) in trees.iter().enumerate() {
        climbed.clear();
        for entry in &tree.entries {
            let mut path = entry.path.as_str();
            if entry.kind == EntryKind::Dir {
                add(path, index);
            }
            while let Some((parent, _)) = path.rsplit_once('/') {
                if !climbed.insert(parent) {
                    break;
                }
                add(parent, index);
                path = parent;
            }
        }
    }
    let mut out = Vec::new();
    for (index, tree) in trees.iter().enumerate() {
        for entry in tree.entries.iter().filter(|e| e.kind != EntryKind::Dir) {
            let Some(others) = directories.get(entry.path.as_str()) else {
                continue;
            };
            for &other in others.iter().filter(|&&o| o != index) {
                let (file, dir) = (&tree.extension.name, &trees[other].extension.name);
                if tree.overrides(dir) || trees[other].overrides(file) {
                    continue;
                }
                let (Some(at_file), Some(at_dir)) = (tree.at(), trees[other].at()) else {
                    continue;
                };
                let path = crate::diag::excerpt(&entry.path, 200);
                out.push(
                    Diagnostic::new(
                        Code::ExtensionShadowing,
                        format!("`{path}` is a file in extension `{file}` and a directory in extension `{dir}`: merged, one hides the other"),
                        Label::new(at_file, format!("`{file}` has a file there")),
                    )
                    .with_label(Label::new(at_dir, format!("`{dir}` has a directory there")))
                    .with_help(format!("move the file or the directory so the paths differ, or say which wins with `overrides = [{dir}]` on `{file}` (or the reverse)")),
                );
            }
        }
    }
    out
}

/// Files of an extension at a path the base has too: identical (a duplicate), or different (the
/// extension shadows the base: an error unless it declares `overrides = [base]`).
pub(super) fn against_base(
    trees: &[Tree<'_>],
    base_files: &BTreeMap<String, Option<u64>>,
    base_links: &BTreeMap<String, String>,
    hash: &HashFile<'_>,
    base_digest: &dyn Fn(&str) -> Option<Digest>,
    findings: &mut Findings,
) {
    for (index, tree) in trees.iter().enumerate() {
        if tree.at().is_none() {
            continue;
        }
        let declared = tree.overrides(crate::schema::BASE);
        for entry in &tree.entries {
            let path = entry.path.as_str();
            // Links are compared by target, files by content; a link and a file differ.
            let identical = match (&entry.kind, base_files.get(path), base_links.get(path)) {
                (EntryKind::File, Some(&size), _) => {
                    size.is_none_or(|s| s == entry.size) && {
                        let ours = hash(tree, path, entry.size);
                        ours.is_some() && ours == base_digest(path)
                    }
                }
                (EntryKind::Symlink { target }, _, Some(theirs)) => **target == *theirs,
                (EntryKind::File, None, Some(_)) | (EntryKind::Symlink { .. }, Some(_), None) => {
                    false
                }
                _ => continue,
            };
            if identical {
                findings.base_duplicate(index, path);
            } else if !declared {
                findings.base_shadowing(index, path);
            }
        }
    }
}
