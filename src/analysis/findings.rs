//! Overlap findings grouped by the decision they ask for: one diagnostic per set of extensions
//! that ship identical files at the same paths, per pair whose files at the same paths differ,
//! and per extension that repeats or shadows the base — not one per path, so that the output
//! grows with the decisions a user must make, not with the files. Every path stays in the
//! [`Overlap`] records (`pcfg extensions --format json`).

use indexmap::IndexMap;

use super::Tree;
use crate::diag::{Code, Diagnostic, Label};

/// The paths a diagnostic names in its help before it counts the rest.
const LISTED: usize = 5;

/// One grouped finding with every path it covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overlap {
    pub code: Code,
    /// The extensions involved (`base` stands for the base tree).
    pub extensions: Vec<String>,
    pub paths: Vec<String>,
}

/// What the comparison of the trees found, by decision, in the order first found.
#[derive(Default)]
pub(super) struct Findings {
    /// Trees (indices, in the order found) shipping the same file at the same path.
    duplicates: IndexMap<Vec<usize>, Vec<String>>,
    /// Two trees with different files at the same path (neither declares `overrides`).
    shadowing: IndexMap<(usize, usize), Vec<String>>,
    /// A tree repeating a file of the base tree.
    base_duplicates: IndexMap<usize, Vec<String>>,
    /// A tree shadowing a file of the base tree without `overrides = [base]`.
    base_shadowing: IndexMap<usize, Vec<String>>,
}

impl Findings {
    /// The same file at `path` in every tree of `members` (two or more, in the order found).
    pub(super) fn duplicate(&mut self, members: Vec<usize>, path: &str) {
        if members.len() >= 2 {
            self.duplicates
                .entry(members)
                .or_default()
                .push(path.to_owned());
        }
    }

    /// Different files at `path` in trees `a` and `b` (a conflict unless one declares that it
    /// overrides the other, decided when finished).
    pub(super) fn shadowing(&mut self, a: usize, b: usize, path: &str) {
        self.shadowing
            .entry((a, b))
            .or_default()
            .push(path.to_owned());
    }

    pub(super) fn base_duplicate(&mut self, tree: usize, path: &str) {
        self.base_duplicates
            .entry(tree)
            .or_default()
            .push(path.to_owned());
    }

    pub(super) fn base_shadowing(&mut self, tree: usize, path: &str) {
        self.base_shadowing
            .entry(tree)
            .or_default()
            .push(path.to_owned());
    }

    /// One diagnostic per decision, and the records of every path.
    pub(super) fn finish(self, trees: &[Tree<'_>]) -> (Vec<Diagnostic>, Vec<Overlap>) {
        let name = |t: usize| trees[t].extension.name.clone();
        let mut diagnostics = Vec::new();
        let mut overlaps = Vec::new();
        let mut record = |code: Code, extensions: Vec<String>, paths: Vec<String>| {
            overlaps.push(Overlap {
                code,
                extensions,
                paths,
            });
        };
        for (members, paths) in self.duplicates {
            diagnostics.extend(duplicate(trees, &members, &paths));
            record(
                Code::DuplicateFile,
                members.iter().map(|&t| name(t)).collect(),
                paths,
            );
        }
        for ((a, b), paths) in self.shadowing {
            let (ta, tb) = (&trees[a], &trees[b]);
            if ta.overrides(&tb.extension.name) || tb.overrides(&ta.extension.name) {
                continue;
            }
            diagnostics.extend(shadowing(ta, tb, &paths));
            record(Code::ExtensionShadowing, vec![name(a), name(b)], paths);
        }
        for (tree, paths) in self.base_duplicates {
            diagnostics.extend(base_duplicate(&trees[tree], &paths));
            record(
                Code::DuplicateFile,
                vec![name(tree), crate::schema::BASE.to_owned()],
                paths,
            );
        }
        for (tree, paths) in self.base_shadowing {
            diagnostics.extend(base_shadowing(&trees[tree], &paths));
            record(
                Code::ExtensionShadowing,
                vec![name(tree), crate::schema::BASE.to_owned()],
                paths,
            );
        }
        (diagnostics, overlaps)
    }
}

/// `` `a` `` for one path, `` `a` and 41 other files `` for more.
fn subject(paths: &[String]) -> String {
    let first = crate::diag::excerpt(&paths[0], 200);
    match paths.len() {
        1 => format!("`{first}`"),
        2 => format!("`{first}` and 1 other file"),
        n => format!("`{first}` and {} other files", n - 1),
    }
}

/// For more than one path, the first few and the count of the rest, to end a help line.
fn listing(paths: &[String]) -> String {
    if paths.len() < 2 {
        return String::new();
    }
    let shown: Vec<String> = paths
        .iter()
        .take(LISTED)
        .map(|p| format!("`{}`", crate::diag::excerpt(p, 200)))
        .collect();
    let rest = paths.len().saturating_sub(LISTED);
    let more = if rest > 0 {
        format!(" and {rest} more; `pcfg extensions --format json` lists every one")
    } else {
        String::new()
    };
    format!(" (the files: {}{more})", shown.join(", "))
}

/// The same files at the same paths in two or more extensions: one duplicate naming them all.
fn duplicate(trees: &[Tree<'_>], members: &[usize], paths: &[String]) -> Option<Diagnostic> {
    let members: Vec<&Tree<'_>> = members.iter().map(|&t| &trees[t]).collect();
    let [first, second, rest @ ..] = members.as_slice() else {
        return None;
    };
    let names: Vec<String> = members
        .iter()
        .map(|t| format!("`{}`", t.extension.name))
        .collect();
    let listed = match names.split_last() {
        Some((last, init)) => format!("{} and {last}", init.join(", ")),
        None => String::new(),
    };
    let (it, them) = if paths.len() == 1 {
        ("it", "it")
    } else {
        ("them", "them")
    };
    let help = if rest.is_empty() {
        format!(
            "keep {it} in one: move {them} into an extension that both `require`, or remove {them} from `{}`",
            second.extension.name
        )
    } else {
        format!(
            "keep {it} in one: move {them} into an extension that all {} `require`, or remove {them} from all but `{}`",
            members.len(),
            first.extension.name
        )
    };
    let verb = if paths.len() == 1 { "is" } else { "are" };
    let mut diagnostic = Diagnostic::new(
        Code::DuplicateFile,
        format!("{} {verb} identical in extensions {listed}", subject(paths)),
        Label::new(first.at()?, format!("`{}`", first.extension.name)),
    );
    for member in &members[1..] {
        if let Some(at) = member.at() {
            diagnostic =
                diagnostic.with_label(Label::new(at, format!("`{}`", member.extension.name)));
        }
    }
    Some(diagnostic.with_help(format!("{help}{}", listing(paths))))
}

/// Two extensions with different files at the same paths: a conflict, since neither declares
/// that it overrides the other.
fn shadowing(a: &Tree<'_>, b: &Tree<'_>, paths: &[String]) -> Option<Diagnostic> {
    let (na, nb) = (&a.extension.name, &b.extension.name);
    let (at_a, at_b) = (a.at()?, b.at()?);
    let (verb, one, another) = if paths.len() == 1 {
        (
            "differs",
            format!("`{na}` has one `{}`", crate::diag::excerpt(&paths[0], 200)),
            "has another",
        )
    } else {
        ("differ", format!("`{na}` has one version"), "has another")
    };
    Some(
        Diagnostic::new(Code::ExtensionShadowing, format!("{} {verb} between extensions `{na}` and `{nb}`: one silently shadows the other", subject(paths)), Label::new(at_a, one))
            .with_label(Label::new(at_b, format!("`{nb}` {another}")))
            .with_help(format!("say which wins with `overrides = [{nb}]` on `{na}` (or the reverse), which also sets the overlay order; or remove one of them{}", listing(paths))),
    )
}

fn base_duplicate(tree: &Tree<'_>, paths: &[String]) -> Option<Diagnostic> {
    let name = &tree.extension.name;
    let (verb, it) = if paths.len() == 1 {
        ("is", "it")
    } else {
        ("are", "them")
    };
    Some(
        Diagnostic::new(
            Code::DuplicateFile,
            format!(
                "{} in extension `{name}` {verb} already in the base tree",
                subject(paths)
            ),
            Label::new(tree.at()?, format!("`{name}`")),
        )
        .with_help(format!(
            "remove {it} from `{name}`: the base provides {it}{}",
            listing(paths)
        )),
    )
}

fn base_shadowing(tree: &Tree<'_>, paths: &[String]) -> Option<Diagnostic> {
    let name = &tree.extension.name;
    let (verb, what, label) = if paths.len() == 1 {
        (
            "shadows a different file",
            "the file",
            format!(
                "`{name}` has its own `{}`",
                crate::diag::excerpt(&paths[0], 200)
            ),
        )
    } else {
        (
            "shadow different files",
            "the files",
            format!("`{name}` has its own versions"),
        )
    };
    Some(
        Diagnostic::new(Code::ExtensionShadowing, format!("{} in extension `{name}` {verb} of the base tree", subject(paths)), Label::new(tree.at()?, label))
            .with_help(format!("declare it with `overrides = [base]` on `{name}`, or remove {what} from the extension (a symbolic link counts as a file: its target is its content){}", listing(paths))),
    )
}
