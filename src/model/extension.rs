//! Extensions: system and configuration extensions, portable services and Flatpak apps, their
//! dependencies as a graph (petgraph), and the release fields each must carry.

use std::collections::HashMap;

use petgraph::algo::toposort;
use petgraph::graph::{DiGraph, NodeIndex};

use super::fields::{At, Fields};
use super::system::System;
use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtensionKind {
    Sysext,
    Confext,
    Portable,
    Flatpak,
}

impl ExtensionKind {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ExtensionKind::Sysext => "sysext",
            ExtensionKind::Confext => "confext",
            ExtensionKind::Portable => "portable",
            ExtensionKind::Flatpak => "flatpak",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Extension {
    pub name: String,
    /// The image name systemd merges it under: the name, or with a rank prefix when `overrides`
    /// needs one to put the declared winner on top (`overlay.rs`).
    pub image: String,
    pub at: Option<Span>,
    pub kind: At<ExtensionKind>,
    pub source: At<Option<String>>,
    pub requires: At<Vec<At<String>>>,
    /// Verity-signed image; by default when the system has `trust.verity`.
    pub signed: At<bool>,
    /// Packages installed into the extension's image, on top of the base's.
    pub packages: At<Vec<At<String>>>,
    /// The fields most extensions leave unwritten, held apart when any is written
    /// ([`Extension::overrides`], [`Extension::version`], [`Extension::optional`],
    /// [`Extension::app`], [`Extension::runtime`], [`Extension::scripts`]): inline, they made
    /// every extension of a large configuration 176 bytes larger.
    rare: Option<Box<Rare>>,
}

/// An extension's fields that most extensions leave unwritten.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Rare {
    overrides: At<Vec<At<String>>>,
    /// The extension's own version (`SYSEXT_VERSION_ID=`, its image's version); `None`: the
    /// system's.
    version: At<Option<String>>,
    /// Installed only when the administrator enables it: its update component's transfer
    /// belongs to a systemd-sysupdate feature of the same name, disabled by default.
    optional: At<bool>,
    app: At<Option<String>>,
    runtime: At<Option<String>>,
    /// Programs mkosi runs while it builds the extension's image.
    scripts: super::system::Scripts,
}

impl Rare {
    /// What an extension that writes none of them has.
    const NONE: Rare = Rare {
        overrides: At::derived(Vec::new()),
        version: At::derived(None),
        optional: At::derived(false),
        app: At::derived(None),
        runtime: At::derived(None),
        scripts: super::system::Scripts::NONE,
    };

    /// Whether each is its default, written nowhere (a field written with its default value
    /// still names a place, and is kept).
    fn is_unwritten(&self) -> bool {
        *self == Self::NONE
    }
}

/// What an extension without any of its rare fields lends.
static NO_RARE: Rare = Rare::NONE;

// Every partition and extension of a large configuration is one of these, most of it `At`s: a
// value and where it is written (an absent place costs nothing, `source::FileId`).
const _: () = assert!(std::mem::size_of::<Extension>() == 224);

impl Extension {
    /// Where `source = "..."` is written, or the extension's declaration when it is not.
    #[must_use]
    pub fn source_at(&self) -> Option<Span> {
        self.source.at.or(self.at)
    }

    fn rare(&self) -> &Rare {
        self.rare.as_deref().unwrap_or(&NO_RARE)
    }

    /// The extensions it declares it overrides (`overrides = [...]`).
    #[must_use]
    pub fn overrides(&self) -> &At<Vec<At<String>>> {
        &self.rare().overrides
    }

    /// The extension's own version (`SYSEXT_VERSION_ID=`, its image's version); `None`: the
    /// system's.
    #[must_use]
    pub fn version(&self) -> &At<Option<String>> {
        &self.rare().version
    }

    /// Installed only when the administrator enables it: its update component's transfer
    /// belongs to a systemd-sysupdate feature of the same name, disabled by default.
    #[must_use]
    pub fn optional(&self) -> &At<bool> {
        &self.rare().optional
    }

    /// A Flatpak app's id (`app = "org.example.App"`).
    #[must_use]
    pub fn app(&self) -> &At<Option<String>> {
        &self.rare().app
    }

    /// A Flatpak app's runtime (`runtime = "org.freedesktop.Platform/x86_64/24.08"`).
    #[must_use]
    pub fn runtime(&self) -> &At<Option<String>> {
        &self.rare().runtime
    }

    /// Programs mkosi runs while it builds the extension's image.
    #[must_use]
    pub fn scripts(&self) -> &super::system::Scripts {
        &self.rare().scripts
    }

    /// The fields of its `extension-release.NAME` file, which must match the base's os-release
    /// for systemd to merge it; empty for Flatpak apps, which have none.
    #[must_use]
    pub fn release(&self, system: &System) -> Vec<(&'static str, String)> {
        let (level, version) = match self.kind.value {
            ExtensionKind::Flatpak => return Vec::new(),
            ExtensionKind::Confext => ("CONFEXT_LEVEL", "CONFEXT_VERSION_ID"),
            ExtensionKind::Sysext | ExtensionKind::Portable => {
                ("SYSEXT_LEVEL", "SYSEXT_VERSION_ID")
            }
        };
        let mut fields = system.match_fields(level);
        if self.kind.value != ExtensionKind::Confext {
            fields.push(("ARCHITECTURE", system.arch.value.name().to_owned()));
        }
        // The extension's own version: informational for systemd, which matches on the fields
        // above, and the version its image is named with.
        if let Some(own) = self.version_in(system) {
            fields.push((version, own));
        }
        fields
    }

    /// Whether systemd-sysupdate updates it as a component of its own: a system or
    /// configuration extension whose image pcfg builds.
    #[must_use]
    pub fn updatable(&self) -> bool {
        matches!(
            self.kind.value,
            ExtensionKind::Sysext | ExtensionKind::Confext
        ) && self.source.value.is_some()
    }

    /// The extension's version: its own, else the system's.
    #[must_use]
    pub fn version_in(&self, system: &System) -> Option<String> {
        self.version()
            .value
            .clone()
            .or_else(|| system.version.value.clone())
    }
}

/// A Flatpak remote the image ships (`/usr/share/flatpak/remotes.d/NAME.flatpakrepo`), which
/// Flatpak adds to the system installation on first use, trusting the declared key.
#[derive(Clone, Debug)]
pub struct FlatpakRemote {
    pub name: String,
    pub at: Option<Span>,
    pub url: At<String>,
    /// An OpenPGP public key file (binary or ASCII-armored), relative to the entry file.
    pub key: At<String>,
    pub title: At<String>,
}

pub(super) fn lower_flatpak_remote(name: &str, fields: &Fields<'_>) -> FlatpakRemote {
    FlatpakRemote {
        name: name.to_owned(),
        at: fields.at,
        url: fields.string("url").map(Option::unwrap_or_default),
        key: fields.string("key").map(Option::unwrap_or_default),
        title: fields
            .string("title")
            .map(|t| t.unwrap_or_else(|| name.to_owned())),
    }
}

pub(super) fn lower_extension(name: &str, fields: &Fields<'_>, has_verity_key: bool) -> Extension {
    let kind = fields.symbol("kind").map(|k| match k {
        Some("confext") => ExtensionKind::Confext,
        Some("portable") => ExtensionKind::Portable,
        Some("flatpak") => ExtensionKind::Flatpak,
        _ => ExtensionKind::Sysext,
    });
    let signed = fields.boolean("signed");
    let signed = At::new(
        signed
            .value
            .unwrap_or(has_verity_key && kind.value != ExtensionKind::Flatpak),
        signed.at,
    );
    Extension {
        name: name.to_owned(),
        image: name.to_owned(),
        at: fields.at,
        kind,
        source: fields.string("source"),
        requires: fields.list("requires"),
        signed,
        packages: fields.list("packages"),
        rare: Some(Rare {
            overrides: fields.list("overrides"),
            version: fields.string("version"),
            optional: {
                let optional = fields.boolean("optional");
                At::new(optional.value.unwrap_or(false), optional.at)
            },
            app: fields.string("app"),
            runtime: fields.string("runtime"),
            scripts: super::system::Scripts::lower(fields),
        })
        .filter(|rare| !rare.is_unwritten())
        .map(Box::new),
    }
}

/// The extensions in dependency order (what an extension requires comes before it), or the
/// extensions of a cycle, in order, the first repeated at the end.
///
/// # Errors
/// When `requires` forms a cycle.
pub fn dependency_order(extensions: &[Extension]) -> Result<Vec<usize>, Vec<usize>> {
    let index = name_index(extensions);
    let mut graph: DiGraph<usize, ()> = DiGraph::new();
    let nodes: Vec<NodeIndex> = (0..extensions.len()).map(|i| graph.add_node(i)).collect();
    for (from, extension) in extensions.iter().enumerate() {
        for required in &extension.requires.value {
            if let Some(&target) = index.get(required.value.as_str()) {
                graph.add_edge(nodes[target], nodes[from], ());
            }
        }
    }
    match toposort(&graph, None) {
        Ok(order) => Ok(order.into_iter().map(|n| graph[n]).collect()),
        Err(cycle) => Err(cycle_through(extensions, &index, graph[cycle.node_id()])),
    }
}

/// Extension names to their positions (looked up, never iterated: the order stays the
/// declaration order).
fn name_index(extensions: &[Extension]) -> HashMap<&str, usize> {
    extensions
        .iter()
        .enumerate()
        .map(|(i, e)| (e.name.as_str(), i))
        .collect()
}

/// A cycle of `requires` through `start`: `start`, what it requires, ..., `start`.
fn cycle_through(
    extensions: &[Extension],
    index: &HashMap<&str, usize>,
    start: usize,
) -> Vec<usize> {
    let requires = |i: usize| -> Vec<usize> {
        extensions.get(i).map_or_else(Vec::new, |e| {
            e.requires
                .value
                .iter()
                .filter_map(|r| index.get(r.value.as_str()).copied())
                .collect()
        })
    };
    // Depth-first search without recursion; `parent` records the path.
    let mut parent: Vec<Option<usize>> = vec![None; extensions.len()];
    let mut seen = vec![false; extensions.len()];
    if let Some(s) = seen.get_mut(start) {
        *s = true;
    }
    let mut stack = vec![start];
    while let Some(node) = stack.pop() {
        for next in requires(node) {
            if next == start {
                // Walk back from `node` to `start`, then read the path forwards.
                let mut path = vec![node];
                let mut at = node;
                while let Some(up) = parent.get(at).copied().flatten() {
                    path.push(up);
                    at = up;
                }
                if at != start {
                    path.push(start);
                }
                path.reverse();
                path.push(start);
                return path;
            }
            if !seen[next] {
                seen[next] = true;
                parent[next] = Some(node);
                stack.push(next);
            }
        }
    }
    vec![start, start]
}
