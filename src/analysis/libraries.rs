//! Shared-library dependencies: every ELF file of an extension that needs a library (`DT_NEEDED`)
//! gets it from the base tree, from its own extension, or from an extension it `requires`
//! (transitively). A library another extension provides, but that is not required, is the
//! seed's third complaint: a dependency nobody declared.

use std::collections::{BTreeMap, BTreeSet};

use super::elf::ElfFacts;
use super::Tree;
use crate::diag::{Code, Diagnostic, Edit, Label};
use crate::vfs::{EntryKind, TreeEntry};

/// Directories the dynamic loader searches, relative to a tree's root.
const LIBRARY_DIRS: &[&str] = &[
    "usr/lib/",
    "usr/lib64/",
    "usr/lib32/",
    "lib/",
    "lib64/",
    "opt/",
];

/// Whether a file name is a shared library's: `libz.so`, `libz.so.1`, `libz.so.1.2.13`.
pub(super) fn is_library_name(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".so") || name.contains(".so.")
}

/// Whether `path` (relative to a tree's root) is in a directory the dynamic loader searches.
pub(super) fn in_library_dir(path: &str) -> bool {
    LIBRARY_DIRS.iter().any(|d| path.starts_with(d))
}

/// What one tree provides and needs.
#[derive(Debug, Default)]
pub(super) struct Libraries {
    /// Library file names (and sonames) the tree provides.
    pub provides: BTreeSet<String>,
    /// `(file, library)` for each `DT_NEEDED` entry of each ELF file.
    pub needs: Vec<(String, String)>,
    /// The facts of each ELF file, by path: each file is read once, for every check.
    pub elves: BTreeMap<String, ElfFacts>,
}

impl Libraries {
    const NONE: Libraries = Libraries {
        provides: BTreeSet::new(),
        needs: Vec::new(),
        elves: BTreeMap::new(),
    };

    fn is_empty(&self) -> bool {
        self.provides.is_empty() && self.needs.is_empty() && self.elves.is_empty()
    }
}

/// What [`Scanned`] lends for a tree that has no libraries and no ELF files.
static NONE: Libraries = Libraries::NONE;

/// What one extension's tree provides and needs, as [`Libraries`]: held apart only when there
/// is something (most trees of a large configuration have no ELF file, and an empty record was
/// 72 bytes for each).
#[derive(Debug)]
pub(super) struct Scanned(Option<Box<Libraries>>);

impl From<Libraries> for Scanned {
    fn from(libraries: Libraries) -> Self {
        Scanned(Some(libraries).filter(|l| !l.is_empty()).map(Box::new))
    }
}

impl std::ops::Deref for Scanned {
    type Target = Libraries;

    fn deref(&self) -> &Libraries {
        self.0.as_deref().unwrap_or(&NONE)
    }
}

/// Reads the dynamic sections of the ELF files of a tree (of the other executables and `.so`
/// files it reads the first four bytes, and the rest it does not open).
pub(super) fn scan(
    entries: &[TreeEntry],
    head: &dyn Fn(&str) -> Option<Vec<u8>>,
    facts: &dyn Fn(&str) -> Option<ElfFacts>,
) -> Libraries {
    let mut libraries = Libraries::default();
    for entry in entries {
        let name = entry.path.rsplit('/').next().unwrap_or(&entry.path);
        let in_library_dir = in_library_dir(&entry.path);
        let looks_like_library = is_library_name(name);
        if in_library_dir
            && looks_like_library
            && matches!(entry.kind, EntryKind::File | EntryKind::Symlink { .. })
        {
            libraries.provides.insert(name.to_owned());
        }
        // What the loader can run or load: executables, and libraries by name (they are often
        // not executable). Other files are not opened at all.
        let loadable = entry.mode & 0o111 != 0 || looks_like_library;
        if entry.kind != EntryKind::File || entry.size < 64 || !loadable {
            continue;
        }
        if !head(&entry.path).is_some_and(|h| h.starts_with(b"\x7fELF")) {
            continue;
        }
        let Some(facts) = facts(&entry.path) else {
            continue;
        };
        if let Some(soname) = &facts.soname {
            if in_library_dir {
                libraries.provides.insert(soname.clone());
            }
        }
        for needed in &facts.needed {
            libraries
                .needs
                .push((entry.path.to_string(), needed.clone()));
        }
        libraries.elves.insert(entry.path.to_string(), facts);
    }
    libraries
}

/// A diagnostic for each library an extension needs and does not get: `base` is what the base
/// tree provides, when it is known.
pub(super) fn check(
    trees: &[Tree<'_>],
    scanned: &[Scanned],
    base: Option<&BTreeSet<String>>,
    out: &mut Vec<Diagnostic>,
) {
    let index: BTreeMap<&str, usize> = trees
        .iter()
        .enumerate()
        .map(|(i, t)| (t.extension.name.as_str(), i))
        .collect();
    for (i, tree) in trees.iter().enumerate() {
        let Some(at) = tree.at() else { continue };
        // Walked only when a library is not in the base: long `requires` chains stay linear
        // when nothing is missing.
        let reachable = std::cell::OnceCell::new();
        let available = |lib: &str| {
            base.is_some_and(|b| b.contains(lib))
                || reachable
                    .get_or_init(|| required_closure(trees, &index, i))
                    .iter()
                    .any(|&j: &usize| scanned[j].provides.contains(lib))
        };
        let mut reported = BTreeSet::new();
        for (file, lib) in &scanned[i].needs {
            if available(lib) || !reported.insert(lib.clone()) {
                continue;
            }
            let providers: Vec<&str> = trees
                .iter()
                .enumerate()
                .filter(|(j, _)| scanned[*j].provides.contains(lib))
                .map(|(_, t)| t.extension.name.as_str())
                .collect();
            if providers.is_empty() && base.is_none() {
                // Without a base tree, an unprovided library may well be in the base image.
                continue;
            }
            let name = &tree.extension.name;
            let mut diagnostic = Diagnostic::new(Code::MissingLibrary, format!("`{file}` in extension `{name}` needs `{lib}`, which nothing it may use provides"), Label::new(at, "this tree"));
            diagnostic = if providers.is_empty() {
                diagnostic.with_help(format!("neither the base tree nor any extension provides `{lib}`: add it to an extension that `{name}` requires, or to the base's packages"))
            } else {
                let labels: Vec<Label> = providers
                    .iter()
                    .filter_map(|p| {
                        index
                            .get(p)
                            .and_then(|&j| trees[j].at())
                            .map(|s| Label::new(s, format!("`{p}` provides `{lib}`")))
                    })
                    .collect();
                let provider = providers.first().copied().unwrap_or_default();
                let diagnostic = diagnostic.with_labels(labels).with_help(format!(
                    "add `requires = [{provider}]` to extension `{name}`"
                ));
                // The edit: into the `requires` list, or a new `requires` in the declaration.
                let requires = &tree.extension.requires;
                let place = match (requires.at, tree.extension.at) {
                    (Some(list), _) => Some((list, true)),
                    (None, Some(label)) => Some((label, false)),
                    (None, None) => None,
                };
                match place {
                    Some((span, to_list)) => diagnostic.with_edit(
                        format!("Add `{provider}` to `requires` of `{name}`"),
                        span,
                        Edit::Append {
                            field: "requires".to_owned(),
                            item: provider.to_owned(),
                            to_list,
                        },
                    ),
                    None => diagnostic,
                }
            };
            out.push(diagnostic);
        }
    }
}

/// The tree itself and every tree it requires, directly or not.
fn required_closure(
    trees: &[Tree<'_>],
    index: &BTreeMap<&str, usize>,
    start: usize,
) -> BTreeSet<usize> {
    let mut seen = BTreeSet::from([start]);
    let mut stack = vec![start];
    while let Some(i) = stack.pop() {
        for required in &trees[i].extension.requires.value {
            if let Some(&j) = index.get(required.value.as_str()) {
                if seen.insert(j) {
                    stack.push(j);
                }
            }
        }
    }
    seen
}
