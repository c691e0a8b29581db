//! A Flatpak declared for a tree of programs that need the host's libraries: Flatpak runs an
//! app on its runtime's libraries, never the host's, so a command-line program built against
//! the host belongs in a system extension, where `requires` and the ABI analysis check it.
//! Only what the tree shows is checked: its ELF files and the libraries they need that the
//! tree does not provide. No list of what Flatpak runtimes contain is consulted.

use std::fmt::Write as _;
use std::path::Path;

use super::elf;
use super::libraries::{self, Libraries};
use crate::diag::{Code, Diagnostic, Label};
use crate::model::{Extension, ExtensionKind, Model};
use crate::source::Span;
use crate::vfs::{TreeEntry, Vfs};

/// At most this many libraries are named in one diagnostic.
const NAMED: usize = 3;

/// Every Flatpak declared with a `source` tree (relative to `entry_dir`) that holds programs
/// needing libraries the tree does not provide.
pub(super) fn check(model: &Model, vfs: &dyn Vfs, entry_dir: &Path, out: &mut Vec<Diagnostic>) {
    for extension in model
        .extensions
        .iter()
        .filter(|e| e.kind.value == ExtensionKind::Flatpak)
    {
        let (Some(source), Some(at)) = (&extension.source.value, extension.source.at) else {
            continue;
        };
        let root = entry_dir.join(source);
        let Ok(entries) = vfs.walk(&root) else {
            continue;
        };
        let file = |path: &str| root.join(crate::vfs::decode_name(path));
        let head = |path: &str| vfs.read_prefix(&file(path), 4);
        let facts =
            |path: &str| elf::facts(&|offset, len| vfs.read_range(&file(path), offset, len));
        out.extend(host_programs(extension, at, &entries, &head, &facts));
    }
}

/// The diagnostic for Flatpak `extension`, whose `source` tree (`entries`, declared at `at`)
/// holds programs that need libraries it does not provide; `None` when it holds none.
fn host_programs(
    extension: &Extension,
    at: Span,
    entries: &[TreeEntry],
    head: &dyn Fn(&str) -> Option<Vec<u8>>,
    facts: &dyn Fn(&str) -> Option<elf::ElfFacts>,
) -> Option<Diagnostic> {
    let scanned: Libraries = libraries::scan(entries, head, facts);
    let (program, _) = scanned
        .needs
        .iter()
        .find(|(_, lib)| !scanned.provides.contains(lib))?;
    let mut needed: Vec<&str> = scanned
        .needs
        .iter()
        .filter(|(file, lib)| file == program && !scanned.provides.contains(lib))
        .map(|(_, lib)| lib.as_str())
        .collect();
    needed.dedup();
    let more = needed.len().saturating_sub(NAMED);
    let mut named = needed
        .iter()
        .take(NAMED)
        .map(|l| format!("`{l}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if more > 0 {
        let _ = write!(named, " and {more} more");
    }
    let name = &extension.name;
    Some(
        Diagnostic::new(
            Code::ExtensionContent,
            format!(
                "flatpak `{name}` is declared for `{program}`, a program that needs libraries of the host ({named})"
            ),
            Label::new(at, "a tree of host programs"),
        )
        .with_help(format!(
            "a Flatpak app runs on its runtime's libraries, not the host's: make `{name}` a system extension (`kind = sysext`, with `requires = [...]` naming the extensions that provide its libraries), so that pcfg checks each library and symbol version against the base; see \"Command-line programs\" in the book's Extensions chapter"
        )),
    )
}
