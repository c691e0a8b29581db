//! The merged `/usr` — the base with the system extensions on top, in the order systemd-sysext
//! stacks them (by image name, the last on top) — and the dynamic loader's view of it: every
//! ELF file of the merged tree, the base's programs included, gets each library it needs from
//! the first directory of the search path where the merged tree has it (following symbolic
//! links), and each symbol version it needs of that library (`DT_VERNEED`) must be one the
//! library defines (`DT_VERDEF`). An extension that ships an older library than the base's puts
//! it in front of the base's programs: `version 'V_1.11.0' not found` at boot. Each file's
//! machine and class must be the system's.
//!
//! `overrides` decides which file is on top; it cannot make an old library define a new version,
//! so it never silences these errors.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::base::Base;
use super::elf::ElfFacts;
use super::Tree;
use crate::diag::{excerpt, Code, Diagnostic, Label};
use crate::model::{overlay, Arch, ExtensionKind, Model};
use crate::source::Span;
use crate::vfs::EntryKind;

/// Where a merged entry comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layer {
    Base,
    /// A tree, by index.
    Extension(usize),
}

#[derive(Clone, Copy, Debug)]
enum Kind<'a> {
    File,
    Link(&'a str),
}

/// Symbolic links followed at most, as the kernel's limit.
const MAX_LINKS: usize = 40;

/// A view of the tree: the base alone, or the base with the extensions merged.
struct View<'a> {
    entries: BTreeMap<&'a str, (Layer, Kind<'a>)>,
}

impl View<'_> {
    /// The file `path` names, symbolic links followed (in any component): its path and layer,
    /// and the links passed on the way (path, layer).
    fn resolve(&self, path: &str) -> Option<Found> {
        let mut current = path.to_owned();
        let mut passed = Vec::new();
        'follow: for _ in 0..MAX_LINKS {
            // The first component that is a link, from the top.
            let ends: Vec<usize> = current
                .match_indices('/')
                .map(|(i, _)| i)
                .chain([current.len()])
                .collect();
            for index in ends {
                let prefix = &current[..index];
                match self.entries.get(prefix) {
                    Some(&(layer, Kind::Link(target))) => {
                        let parent = prefix.rsplit_once('/').map_or("", |(p, _)| p);
                        let rest = &current[index..];
                        let joined = if let Some(absolute) = target.strip_prefix('/') {
                            format!("{absolute}{rest}")
                        } else if parent.is_empty() {
                            format!("{target}{rest}")
                        } else {
                            format!("{parent}/{target}{rest}")
                        };
                        passed.push((prefix.to_owned(), layer));
                        current = normalize(&joined)?;
                        continue 'follow;
                    }
                    Some(&(layer, Kind::File)) if index == current.len() => {
                        return Some(Found {
                            path: current,
                            layer,
                            passed,
                        });
                    }
                    _ => {}
                }
            }
            return None;
        }
        None
    }
}

/// The file a path leads to: where it is, its layer, and the links passed on the way.
struct Found {
    path: String,
    layer: Layer,
    passed: Vec<(String, Layer)>,
}

/// `a/./b/../c` as `a/c`; `None` when `..` leaves the tree.
fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// The system's ELF machine (`e_machine`) and class, where pcfg knows them.
fn machine(arch: Arch) -> Option<(u16, bool)> {
    Some(match arch {
        Arch::X86_64 => (62, true),
        Arch::X86 => (3, false),
        Arch::Arm64 => (183, true),
        Arch::Arm => (40, false),
        Arch::Riscv64 => (243, true),
        Arch::Riscv32 => (243, false),
        Arch::Ppc64Le | Arch::Ppc64 => (21, true),
        Arch::Ppc => (20, false),
        Arch::S390x => (22, true),
        Arch::Loongarch64 => (258, true),
        Arch::Alpha => (0x9026, true),
        Arch::Ia64 => (50, true),
        _ => return None,
    })
}

/// The Debian multiarch directory name of the architecture.
fn multiarch(arch: Arch) -> Option<&'static str> {
    Some(match arch {
        Arch::X86_64 => "x86_64-linux-gnu",
        Arch::X86 => "i386-linux-gnu",
        Arch::Arm64 => "aarch64-linux-gnu",
        Arch::Arm => "arm-linux-gnueabihf",
        Arch::Riscv64 => "riscv64-linux-gnu",
        Arch::Ppc64Le => "powerpc64le-linux-gnu",
        Arch::S390x => "s390x-linux-gnu",
        Arch::Loongarch64 => "loongarch64-linux-gnu",
        _ => return None,
    })
}

/// The directories the dynamic loader searches, relative to the root: the base's
/// `/etc/ld.so.conf.d/*.conf` and `/etc/ld.so.conf` (the directories they list), then the
/// standard multiarch and library directories.
fn search_path(base: &Base, read: &dyn Fn(&str) -> Option<Vec<u8>>, arch: Arch) -> Vec<String> {
    let mut dirs: Vec<String> = Vec::new();
    let mut configs: Vec<&str> = base
        .files
        .keys()
        .filter(|p| {
            p.strip_prefix("etc/ld.so.conf.d/").is_some_and(|n| {
                // glibc's `include /etc/ld.so.conf.d/*.conf`: a case-sensitive glob.
                !n.contains('/')
                    && std::path::Path::new(n)
                        .extension()
                        .is_some_and(|e| e == "conf")
            })
        })
        .map(String::as_str)
        .collect();
    configs.push("etc/ld.so.conf");
    for config in configs {
        let Some(text) = read(config) else { continue };
        for line in String::from_utf8_lossy(&text).lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if let Some(dir) = line.strip_prefix('/') {
                if let Some(dir) = normalize(dir).filter(|d| !d.is_empty()) {
                    if !dirs.contains(&dir) {
                        dirs.push(dir);
                    }
                }
            }
        }
    }
    let triplet = multiarch(arch);
    let wide = machine(arch).is_some_and(|(_, wide)| wide);
    let mut standard: Vec<String> = Vec::new();
    for root in ["usr/lib", "lib"] {
        if let Some(t) = triplet {
            standard.push(format!("{root}/{t}"));
        }
    }
    if wide {
        standard.extend(["usr/lib64".to_owned(), "lib64".to_owned()]);
    }
    standard.extend(["usr/lib".to_owned(), "lib".to_owned()]);
    for dir in standard {
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    dirs
}

/// The merged trees' ELF files against each other and the base: version needs the winning
/// library does not define, and files of another machine.
pub(super) fn check(
    model: &Model,
    trees: &[Tree<'_>],
    elves: &[&BTreeMap<String, ElfFacts>],
    base: Option<&Base>,
    read_base: &dyn Fn(&str) -> Option<Vec<u8>>,
    base_at: Option<Span>,
    out: &mut Vec<Diagnostic>,
) {
    let arch = model.system.arch.value;
    architecture(model, trees, elves, out);
    let Some(base) = base else {
        return;
    };
    // System extensions only merge into /usr (and /opt); in the order systemd stacks them, by
    // the image names the model gave them.
    let mut order: Vec<usize> = (0..trees.len())
        .filter(|&i| trees[i].extension.kind.value == ExtensionKind::Sysext)
        .collect();
    order.sort_by(|&a, &b| {
        overlay::version_cmp(&trees[a].extension.image, &trees[b].extension.image)
    });
    let mut lower = View {
        entries: BTreeMap::new(),
    };
    for path in base.files.keys() {
        lower.entries.insert(path, (Layer::Base, Kind::File));
    }
    for (path, target) in &base.links {
        lower
            .entries
            .insert(path, (Layer::Base, Kind::Link(target)));
    }
    let mut merged = View {
        entries: lower.entries.clone(),
    };
    for &i in &order {
        for entry in &trees[i].entries {
            let kind = match &entry.kind {
                EntryKind::File => Kind::File,
                EntryKind::Symlink { target } => Kind::Link(target),
                _ => continue,
            };
            merged
                .entries
                .insert(&entry.path, (Layer::Extension(i), kind));
        }
    }
    let facts = |path: &str, layer: Layer| -> Option<&ElfFacts> {
        match layer {
            Layer::Base => base.elves.get(path),
            Layer::Extension(i) => elves.get(i)?.get(path),
        }
    };
    let dirs = search_path(base, read_base, arch);
    let name_of = |layer: Layer| match layer {
        Layer::Base => "the base".to_owned(),
        Layer::Extension(i) => format!("extension `{}`", trees[i].extension.name),
    };
    let at_of = |layer: Layer| match layer {
        Layer::Base => base_at,
        Layer::Extension(i) => trees[i].at(),
    };
    // Every ELF file that is on top in the merged tree, in path order.
    for (&path, &(layer, kind)) in &merged.entries {
        if !matches!(kind, Kind::File) {
            continue;
        }
        let Some(program) = facts(path, layer) else {
            continue;
        };
        for (library, versions) in &program.needs_versions {
            let Some(Found {
                path: found,
                layer: found_layer,
                passed,
            }) = dirs
                .iter()
                .find_map(|dir| merged.resolve(&format!("{dir}/{library}")))
            else {
                continue;
            };
            // Only what an extension changed: the base on its own is the base's business.
            let touched = layer != Layer::Base
                || found_layer != Layer::Base
                || passed.iter().any(|(_, l)| *l != Layer::Base);
            if !touched {
                continue;
            }
            let Some(defined) = facts(&found, found_layer) else {
                continue;
            };
            let missing: Vec<&String> = versions
                .iter()
                .filter(|v| !defined.defines.contains(v))
                .collect();
            if missing.is_empty() {
                continue;
            }
            // What the base alone would load, and whether it has the versions.
            let base_copy = dirs
                .iter()
                .find_map(|dir| lower.resolve(&format!("{dir}/{library}")))
                .filter(|f| f.path != found || found_layer != Layer::Base);
            let base_has = base_copy.as_ref().is_some_and(|f| {
                base.elves
                    .get(&f.path)
                    .is_some_and(|f| missing.iter().all(|v| f.defines.contains(v)))
            });
            let shadowing = std::iter::once(found_layer)
                .chain(passed.iter().map(|(_, l)| *l))
                .find(|l| *l != Layer::Base);
            let versions_text = missing
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut message = format!(
                "`{}` ({}) needs {versions_text} of `{library}`, which `{}` ({}) does not define",
                excerpt(path, 120),
                name_of(layer),
                excerpt(&found, 120),
                name_of(found_layer),
            );
            if let (Some(shadow), Some(copy)) = (shadowing, &base_copy) {
                let _ = write!(
                    message,
                    ": {} puts it in front of the base's `{}`",
                    name_of(shadow),
                    excerpt(&copy.path, 120)
                );
            }
            let blamed = shadowing.unwrap_or(layer);
            let Some(at) = at_of(blamed).or(at_of(layer)).or(base_at) else {
                continue;
            };
            let help = match shadowing {
                Some(Layer::Extension(i)) if base_has => format!(
                    "remove `{library}` (and its links) from extension `{}`, so that the base's copy, which defines {versions_text}, is loaded; or ship a build of it that defines them, or rebuild the extension against the base. `overrides` cannot help: it only decides which copy is on top",
                    trees[i].extension.name
                ),
                Some(Layer::Extension(i)) => format!(
                    "ship a `{library}` in extension `{}` that defines {versions_text}, or rebuild `{}` against the library it gets; `overrides` cannot help: it only decides which copy is on top",
                    trees[i].extension.name,
                    excerpt(path, 120)
                ),
                _ => format!(
                    "rebuild `{}` against the `{library}` it gets, or ship the library that defines {versions_text} beside it",
                    excerpt(path, 120)
                ),
            };
            let mut diagnostic = Diagnostic::new(
                Code::AbiBreak,
                message,
                Label::new(at, format!("{} is merged here", name_of(blamed))),
            )
            .with_help(help);
            if let Some(program_at) = at_of(layer).filter(|a| *a != at) {
                diagnostic = diagnostic
                    .with_label(Label::new(program_at, format!("`{}`", excerpt(path, 120))));
            }
            out.push(diagnostic);
        }
    }
}

/// ELF files of another machine or class than the system's: the loader refuses them.
fn architecture(
    model: &Model,
    trees: &[Tree<'_>],
    elves: &[&BTreeMap<String, ElfFacts>],
    out: &mut Vec<Diagnostic>,
) {
    let arch = model.system.arch.value;
    let Some((machine, wide)) = machine(arch) else {
        return;
    };
    for (tree, elves) in trees.iter().zip(elves) {
        let Some(at) = tree.at() else { continue };
        let wrong: Vec<(&String, &ElfFacts)> = elves
            .iter()
            .filter(|(_, f)| f.machine != machine || f.class64 != wide)
            .collect();
        let Some((first, facts)) = wrong.first() else {
            continue;
        };
        let more = if wrong.len() > 1 {
            format!(" (and {} more)", wrong.len() - 1)
        } else {
            String::new()
        };
        out.push(
            Diagnostic::new(
                Code::ElfArchitecture,
                format!(
                    "`{}`{more} in extension `{}` is built for ELF machine {} ({}-bit), not for the system's `{}`",
                    excerpt(first, 120),
                    tree.extension.name,
                    facts.machine,
                    if facts.class64 { 64 } else { 32 },
                    arch.name()
                ),
                Label::new(at, "the extension's tree"),
            )
            .with_help(format!(
                "build the extension's programs and libraries for `{}` (ELF machine {machine}), or set `system.arch` to what they are built for",
                arch.name()
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_in_any_component() {
        let mut view = View {
            entries: BTreeMap::new(),
        };
        view.entries
            .insert("lib", (Layer::Base, Kind::Link("usr/lib")));
        view.entries.insert(
            "usr/lib/libz.so.1",
            (Layer::Extension(0), Kind::Link("libz.so.1.3")),
        );
        view.entries
            .insert("usr/lib/libz.so.1.3", (Layer::Base, Kind::File));
        let found = view.resolve("lib/libz.so.1").expect("resolves");
        assert_eq!(
            (found.path.as_str(), found.layer),
            ("usr/lib/libz.so.1.3", Layer::Base)
        );
        assert_eq!(found.passed.len(), 2);
        view.entries
            .insert("loop", (Layer::Base, Kind::Link("loop")));
        assert!(view.resolve("loop").is_none());
        assert!(view.resolve("usr/lib/missing").is_none());
        assert_eq!(normalize("a/./b/../c").as_deref(), Some("a/c"));
        assert_eq!(normalize("../x"), None);
    }
}
