//! The payload: the trees copied into the image (`system.trees`, and each extension's
//! `source`) and the build scripts mkosi runs (`postinst`, `finalize`, `post-output`).
//!
//! Each tree must be a directory and each script a program mkosi can run, or the build fails
//! far from its cause (`pcfg::payload-file`). And what the trees ship must not undo the image
//! at run time: a unit enabled with `RequiredBy=` (`pcfg::required-by`) leaves a hard
//! dependency in `/etc` that stops boot once the unit is retired, and a shipped program that
//! deletes or re-enables in `/etc` (`pcfg::runtime-etc-change`) changes what every later image
//! finds there.

use std::path::{Path, PathBuf};

use crate::diag::{Code, Diagnostic, Label};
use crate::model::system::Scripts;
use crate::model::{ExtensionKind, Model};
use crate::source::Span;
use crate::vfs::{EntryKind, TreeEntry, Vfs, VfsError};

/// A tree that ships into an image: what declares it, where, and its entries.
pub(super) struct Shipped<'t> {
    pub what: What<'t>,
    pub at: Option<Span>,
    /// The directory walked (an extension's is made when its tree is checked, not held).
    pub root: std::borrow::Cow<'t, Path>,
    pub entries: &'t [TreeEntry],
    /// The ELF files of the tree, by path, when the library scan has read them: compiled
    /// programs, never opened again here.
    pub elves: Option<&'t std::collections::BTreeMap<String, super::elf::ElfFacts>>,
}

/// What shipped a tree, as the findings name it: formatted when a finding is made, not held
/// formatted for every tree.
#[derive(Clone, Copy)]
pub(super) enum What<'t> {
    /// A tree of `system.trees`.
    SystemTrees,
    /// An extension's source tree, by the extension's name.
    Extension(&'t str),
}

impl std::fmt::Display for What<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            What::SystemTrees => f.write_str("system.trees"),
            What::Extension(name) => write!(f, "extension `{name}`"),
        }
    }
}

/// The declared trees of the image (walked here; the extensions' are walked by the analysis),
/// and every build script.
pub(super) fn check_declared(
    model: &Model,
    vfs: &dyn Vfs,
    entry_dir: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<(Option<Span>, PathBuf, Vec<TreeEntry>)> {
    let mut walked = Vec::new();
    for tree in &model.system.trees.value {
        let root = entry_dir.join(&tree.value);
        match vfs.walk(&root) {
            Ok(entries) => walked.push((tree.at, root, entries)),
            Err(reason) => {
                if let Some(at) = tree.at {
                    diagnostics.push(
                        Diagnostic::new(
                            Code::PayloadFile,
                            format!(
                                "the tree `{}` {reason}",
                                crate::diag::excerpt(&tree.value, 200)
                            ),
                            Label::new(at, "copied onto the image's root"),
                        )
                        .with_help(format!(
                            "create the directory `{}` (relative to the entry file) with the files the image gets, or remove it from `system.trees`",
                            crate::diag::excerpt(&tree.value, 200)
                        )),
                    );
                }
            }
        }
    }
    scripts(
        &model.system.scripts,
        "the image",
        vfs,
        entry_dir,
        diagnostics,
    );
    for extension in model
        .extensions
        .iter()
        .filter(|e| e.kind.value != ExtensionKind::Flatpak)
    {
        scripts(
            extension.scripts(),
            &format!("extension `{}`", extension.name),
            vfs,
            entry_dir,
            diagnostics,
        );
    }
    walked
}

fn scripts(
    scripts: &Scripts,
    whose: &str,
    vfs: &dyn Vfs,
    entry_dir: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for (field, script) in scripts.all() {
        let problem = match vfs.executable(&entry_dir.join(&script.value)) {
            Ok(true) => continue,
            Ok(false) => (
                "is not executable".to_owned(),
                format!(
                    "mkosi runs it as a program: `chmod +x {}`",
                    crate::diag::excerpt(&script.value, 200)
                ),
            ),
            Err(VfsError::NotFound) => (
                "does not exist".to_owned(),
                "write the script there (relative to the entry file), or remove it from the list"
                    .to_owned(),
            ),
            Err(VfsError::IsADirectory) => (
                "is a directory".to_owned(),
                "name the script itself: mkosi runs one program per entry".to_owned(),
            ),
            Err(VfsError::TooLarge { .. } | VfsError::Io(_)) => (
                "cannot be read".to_owned(),
                "make it a readable regular file".to_owned(),
            ),
        };
        let Some(at) = script.at else {
            continue;
        };
        diagnostics.push(
            Diagnostic::new(
                Code::PayloadFile,
                format!(
                    "the {field} script `{}` of {whose} {}",
                    crate::diag::excerpt(&script.value, 200),
                    problem.0
                ),
                Label::new(at, "mkosi runs this while it builds"),
            )
            .with_help(problem.1),
        );
    }
}

/// The directories systemd reads units from, in an image's tree.
const UNIT_DIRS: &[&str] = &[
    "usr/lib/systemd/system/",
    "usr/lib/systemd/user/",
    "etc/systemd/system/",
    "etc/systemd/user/",
];

/// What a shipped tree must not hold: `RequiredBy=` enablement and programs that change
/// `/etc` at run time.
pub(super) fn check_shipped(
    trees: &[Shipped<'_>],
    vfs: &dyn Vfs,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for tree in trees {
        let Some(at) = tree.at else {
            continue;
        };
        for entry in tree.entries {
            let in_units = UNIT_DIRS.iter().any(|d| entry.path.starts_with(d));
            if in_units
                && entry
                    .path
                    .split('/')
                    .any(|c| c.ends_with(".requires") && c.len() > ".requires".len())
                && entry.kind != EntryKind::Dir
            {
                diagnostics.push(required_by(tree, at, &entry.path, None));
                continue;
            }
            if entry.kind != EntryKind::File {
                continue;
            }
            let unit = in_units && is_unit(&entry.path);
            let program = entry.mode & 0o111 != 0
                && !tree
                    .elves
                    .is_some_and(|elves| elves.contains_key(entry.path.as_str()));
            if !unit && !program {
                continue;
            }
            let file = tree.root.join(crate::vfs::decode_name(&entry.path));
            // Programs only when they are scripts: compiled ones are not read.
            if !unit && vfs.read_prefix(&file, 2).as_deref() != Some(b"#!") {
                continue;
            }
            let Ok(bytes) = vfs.read(&file) else {
                continue;
            };
            let Ok(text) = std::str::from_utf8(&bytes) else {
                continue;
            };
            for (number, line) in text.lines().enumerate() {
                let code = line.split('#').next().unwrap_or("");
                if unit && line.trim_start().starts_with("RequiredBy=") {
                    diagnostics.push(required_by(tree, at, &entry.path, Some((number + 1, line))));
                }
                if let Some(what) = etc_change(if unit { line } else { code }) {
                    diagnostics.push(
                        Diagnostic::new(
                            Code::RuntimeEtcChange,
                            format!(
                                "`{}` in {} {what} at run time, line {}: `{}`",
                                entry.path,
                                tree.what,
                                number + 1,
                                crate::diag::excerpt(line.trim(), 120)
                            ),
                            Label::new(at, "shipped in the image from here"),
                        )
                        .with_help(
                            "decide enablement when the image is built (presets, or `systemctl enable` in a build script) and mark run-once work with a file in /var (`ConditionPathExists=!/var/lib/NAME.done`): /etc is the administrator's, and where the root is made at first boot pcfg's factory copy of /etc puts back at the next boot what a program deletes there",
                        ),
                    );
                }
            }
        }
    }
}

/// Unit files and their drop-ins.
fn is_unit(path: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        ".service",
        ".socket",
        ".timer",
        ".path",
        ".mount",
        ".automount",
        ".target",
        ".swap",
        ".slice",
        ".scope",
        ".conf",
    ];
    SUFFIXES.iter().any(|s| path.ends_with(s))
}

fn required_by(
    tree: &Shipped<'_>,
    at: Span,
    path: &str,
    line: Option<(usize, &str)>,
) -> Diagnostic {
    let message = match line {
        Some((number, text)) => format!(
            "`{path}` in {} enables a unit with `RequiredBy=` (line {number}: `{}`)",
            tree.what,
            crate::diag::excerpt(text.trim(), 120)
        ),
        None => format!(
            "`{path}` in {} is a `.requires/` link: a hard dependency shipped as enablement",
            tree.what
        ),
    };
    Diagnostic::new(
        Code::RequiredBy,
        message,
        Label::new(at, "shipped in the image from here"),
    )
    .with_help(
        "use `WantedBy=` (and `Requires=` in the dependent unit, which updates with the image): the `.requires/` link that enabling leaves in /etc outlives the unit, and once an image retires it the boot transaction fails before any service starts",
    )
}

/// What a line does to `/etc` at run time, when it deletes, moves or changes enablement there.
fn etc_change(line: &str) -> Option<&'static str> {
    let words: Vec<&str> = line
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '|' | '&' | '(' | ')' | '`'))
        .filter(|w| !w.is_empty())
        .collect();
    for (i, word) in words.iter().enumerate() {
        let name = word.rsplit('/').next().unwrap_or(word);
        let name = name.trim_start_matches(['-', '+', '!', '@', ':']);
        let rest = || words[i + 1..].iter().filter(|w| !w.starts_with('-'));
        match name {
            "systemctl" | "deb-systemd-helper"
                if rest().next().is_some_and(|verb| {
                    matches!(
                        *verb,
                        "disable" | "enable" | "revert" | "unmask" | "preset" | "preset-all"
                    )
                }) =>
            {
                return Some("changes which units are enabled in /etc");
            }
            "rm" | "rmdir" | "unlink" if rest().any(|w| in_etc(w)) => {
                return Some("deletes files in /etc");
            }
            "mv" if rest().next().is_some_and(|w| in_etc(w)) => {
                return Some("moves files out of /etc");
            }
            "find"
                if rest().any(|w| in_etc(w) || *w == "/etc")
                    && words[i + 1..].contains(&"-delete") =>
            {
                return Some("deletes files in /etc");
            }
            _ => {}
        }
    }
    None
}

fn in_etc(word: &str) -> bool {
    let word = word.trim_matches(['"', '\'']);
    let word = word.rsplit('=').next().unwrap_or(word);
    word.starts_with("/etc/")
}

#[cfg(test)]
mod tests {
    use super::etc_change;

    #[test]
    fn changes_to_etc_are_found_and_others_are_not() {
        for line in [
            "ExecStartPost=/usr/bin/systemctl disable enable-incus-agent.service",
            "systemctl --no-reload disable foo",
            "deb-systemd-helper enable foo.service",
            "rm -f /etc/machine-id",
            "unlink \"/etc/foo\"",
            "mv /etc/ssh/x /var/x",
            "find /etc -name '*.bak' -delete",
            "ExecStart=/bin/rm -rf /etc/incus",
        ] {
            assert!(etc_change(line).is_some(), "{line}");
        }
        for line in [
            "systemctl status foo",
            "systemctl start foo",
            "rm -f /var/lib/foo.done",
            "mv /var/a /etc/b",
            "find /etc -name x",
            "echo remove /etc/foo by hand",
            "cp /etc/a /var/b",
        ] {
            assert!(etc_change(line).is_none(), "{line}");
        }
    }
}
