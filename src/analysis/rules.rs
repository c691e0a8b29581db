//! What a tree may contain: a system extension only `usr/` and `opt/`, a configuration
//! extension only `etc/`, a portable service its unit files; and files that are unsafe to ship
//! (special files, setuid or setgid files, world-writable files, links out of the tree).

use super::Tree;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::ExtensionKind;
use crate::vfs::EntryKind;

pub(super) fn check(tree: &Tree<'_>, out: &mut Vec<Diagnostic>) {
    let Some(at) = tree.at() else { return };
    let name = &tree.extension.name;
    let kind = tree.extension.kind.value;
    let allowed: &[&str] = match kind {
        ExtensionKind::Sysext => &["usr", "opt"],
        ExtensionKind::Confext => &["etc"],
        ExtensionKind::Portable | ExtensionKind::Flatpak => &[],
    };
    for entry in &tree.entries {
        let top = entry.path.split('/').next().unwrap_or("");
        if !allowed.is_empty() && !allowed.contains(&top) {
            // Report the top-level directory once, not every file below it.
            if entry.path == top {
                out.push(
                    Diagnostic::new(
                        Code::ExtensionContent,
                        format!(
                            "extension `{name}` ({}) contains `{}`",
                            kind.name(),
                            entry.path
                        ),
                        Label::new(at, "this tree"),
                    )
                    .with_help(format!(
                        "a {} may only contain {}: move or remove `{}`",
                        kind.name(),
                        allowed
                            .iter()
                            .map(|a| format!("`{a}/`"))
                            .collect::<Vec<_>>()
                            .join(" and "),
                        entry.path
                    )),
                );
            }
            continue;
        }
        unsafe_entry(name, entry, at, out);
    }
    if kind == ExtensionKind::Portable && !tree.entries.iter().any(|e| is_unit(&e.path)) {
        out.push(
            Diagnostic::new(Code::ExtensionContent, format!("portable service `{name}` has no unit file"), Label::new(at, "this tree"))
                .with_help("add the service's unit, e.g. `usr/lib/systemd/system/NAME.service`: portablectl attaches a portable service by its units"),
        );
    }
}

fn is_unit(path: &str) -> bool {
    (path.starts_with("usr/lib/systemd/system/") || path.starts_with("etc/systemd/system/"))
        && [".service", ".socket", ".timer", ".target", ".path"]
            .iter()
            .any(|s| path.ends_with(s))
}

fn unsafe_entry(
    name: &str,
    entry: &crate::vfs::TreeEntry,
    at: crate::source::Span,
    out: &mut Vec<Diagnostic>,
) {
    let path = &entry.path;
    let problem = match &entry.kind {
        EntryKind::Special => Some(("is a device, FIFO or socket", "extension images hold files, directories and links; remove it".to_owned())),
        EntryKind::Symlink { target } if escapes(path, target) => {
            out.push(
                Diagnostic::new(Code::SymlinkEscape, format!("`{path}` in extension `{name}` links out of its tree, to `{target}`"), Label::new(at, "this tree"))
                    .with_help("make the link point inside the extension (a relative target that stays below its root), or copy the file in"),
            );
            None
        }
        EntryKind::File if entry.mode & 0o6000 != 0 => Some(("is setuid or setgid", "remove the setuid/setgid bit (`chmod ug-s`); an extension should not add privileged programs unnoticed".to_owned())),
        EntryKind::File | EntryKind::Dir if entry.mode & 0o002 != 0 && entry.mode & 0o1000 == 0 => {
            Some(("is world-writable", "remove the write bit for others (`chmod o-w`)".to_owned()))
        }
        _ => None,
    };
    if let Some((what, help)) = problem {
        out.push(
            Diagnostic::new(
                Code::UnsafeFile,
                format!("`{path}` in extension `{name}` {what}"),
                Label::new(at, "this tree"),
            )
            .with_help(help),
        );
    }
}

/// Whether a link at `path` with `target` resolves outside the tree (absolute links point into
/// the host, `..` may climb above the root).
fn escapes(path: &str, target: &str) -> bool {
    if target.starts_with('/') {
        return true;
    }
    let mut depth = i64::try_from(path.matches('/').count()).unwrap_or(i64::MAX);
    for part in target.split('/') {
        match part {
            ".." => depth -= 1,
            "." | "" => {}
            _ => depth += 1,
        }
        if depth < 0 {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_that_climb_out_escape() {
        assert!(super::escapes("usr/lib/a", "/etc/passwd"));
        assert!(super::escapes("usr/a", "../../x"));
        assert!(!super::escapes("usr/lib/a", "../bin/b"));
        assert!(!super::escapes("usr/lib/a", "libz.so.1"));
    }
}
