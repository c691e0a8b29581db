//! The remix semantics: flattens every layer into definitions at paths, applies `remove`, and
//! decides each value by layer (higher wins), weakness (`default` yields) and list operations.

use compact_str::CompactString;
use std::collections::HashMap;

use super::imports::Layers;
use super::list_ops::ListOps;
use super::name_map::NameMap;
use super::provenance::{same_value, Block, Entry, Leaf, Node, Overridden, Site, Winner};
use crate::diag::{did_you_mean, Code, Diagnostic, Edit, Label};
use crate::source::{SourceMap, Span};
use crate::syntax::ast::{self, Ident, Op, Value, ValueKind};

/// A `remove` that took effect: the path and the statement.
#[derive(Clone, Debug)]
pub struct Removal {
    pub path: Vec<String>,
    pub span: Span,
    /// Taken out by a higher layer's other field rather than a `remove`: a partition's exact
    /// `size` supersedes lower layers' `size-min` and `size-max`, and bounds a lower `size`.
    /// `span` is then the superseding definition.
    pub superseded: bool,
}

/// What one item says about one path.
#[derive(Debug)]
enum DefKind {
    /// A block header or a path segment naming a block.
    Block,
    Value {
        op: Op,
        weak: bool,
        /// Moved out of the syntax tree when the compile does not keep it, copied when it does
        /// (a language server).
        value: Box<Value>,
        item: Span,
    },
    Remove,
}

/// One definition at a path. A trie node holds one inline, and there is one per field of every
/// block, so it is kept at 48 bytes: its layer as a `u32` (read through [`Def::layer`]), and the
/// `remove` that took it out (rare) boxed.
#[derive(Debug)]
struct Def {
    layer: u32,
    key: Span,
    kind: DefKind,
    /// The `remove` that took this definition out, when one did.
    removed: Option<Box<RemovedBy>>,
}

/// A `remove` statement and its layer.
#[derive(Clone, Copy, Debug)]
struct RemovedBy {
    span: Span,
    layer: u32,
}

impl Def {
    /// A definition nothing has removed (yet).
    fn new(layer: usize, key: Span, kind: DefKind) -> Self {
        Def {
            layer: u32::try_from(layer).unwrap_or(u32::MAX),
            key,
            kind,
            removed: None,
        }
    }

    /// The layer (file) that made it.
    fn layer(&self) -> usize {
        self.layer as usize
    }

    fn removed_by(&self) -> Option<Span> {
        self.removed.as_ref().map(|r| r.span)
    }

    /// Neither removed nor a `remove` itself.
    fn is_live(&self) -> bool {
        self.removed.is_none() && !matches!(self.kind, DefKind::Remove)
    }
}

/// A trie node's children, by name.
type Children = NameMap<Trie>;

/// The definitions made at one trie node: most fields are set once, and their one definition
/// is held inline, in the room of a definition (the variant is kept in a spare value of the
/// definition's own tag: no length or capacity beside it, as a `SmallVec` kept).
#[derive(Debug, Default)]
enum Defs {
    #[default]
    None,
    One(Def),
    Many(Vec<Def>),
}

impl Defs {
    fn push(&mut self, def: Def) {
        *self = match std::mem::take(self) {
            Defs::None => Defs::One(def),
            Defs::One(first) => Defs::Many(vec![first, def]),
            Defs::Many(mut all) => {
                all.push(def);
                Defs::Many(all)
            }
        };
    }

    fn as_slice(&self) -> &[Def] {
        match self {
            Defs::None => &[],
            Defs::One(def) => std::slice::from_ref(def),
            Defs::Many(all) => all,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [Def] {
        match self {
            Defs::None => &mut [],
            Defs::One(def) => std::slice::from_mut(def),
            Defs::Many(all) => all,
        }
    }

    fn iter(&self) -> std::slice::Iter<'_, Def> {
        self.as_slice().iter()
    }
}

/// A node of the path trie: the definitions made exactly here and the children by name.
///
/// Most nodes are fields defined once: their one definition is held inline and they have no
/// children, so such a node allocates nothing of its own (a `Vec` of definitions and an empty
/// map took 80 bytes more per field, and an allocation).
#[derive(Debug, Default)]
struct Trie {
    defs: Defs,
    /// Keyed by the names as the files write them (owned, so that a file's syntax tree can go
    /// as soon as it is flattened; a name of up to 24 bytes is held inline), scanned while a
    /// node has a few and hashed with foldhash past that ([`NameMap`]): names are short and the
    /// trie is built once per compile, so a fast hash matters more than `SipHash`'s resistance
    /// to chosen keys (a file's author can slow only their own compile, by constant factors).
    /// `None` until the first child.
    children: Option<Box<Children>>,
}

// What the comments above promise, on the 64-bit machines pcfg runs on: a definition, a node's
// definitions and a node are 48, 48 and 56 bytes.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(
    std::mem::size_of::<Def>() == 48
        && std::mem::size_of::<Defs>() == 48
        && std::mem::size_of::<Trie>() == 56
);

impl Trie {
    fn insert(&mut self, path: &[Ident], def: Def) {
        let mut node = self;
        for segment in path {
            node = node.child(&segment.name);
        }
        node.push(def);
    }

    /// Adds a definition made here.
    fn push(&mut self, def: Def) {
        self.defs.push(def);
    }

    /// The child called `name`, made when missing.
    fn child(&mut self, name: &CompactString) -> &mut Trie {
        self.children
            .get_or_insert_with(Box::default)
            .get_or_default(name)
    }

    /// Makes room for `count` children when the node has none yet: a block opened once (most)
    /// then holds its fields without the spare room of a map grown by doubling.
    fn expect_children(&mut self, count: usize) {
        if self.children.is_none() && count > 0 {
            self.children = Some(Box::new(Children::with_capacity(count)));
        }
    }

    fn children(&self) -> impl Iterator<Item = (&CompactString, &Trie)> {
        self.children.iter().flat_map(|c| c.iter())
    }

    fn children_mut(&mut self) -> impl Iterator<Item = &mut Trie> {
        self.children.iter_mut().flat_map(|c| c.values_mut())
    }

    fn get(&self, name: &str) -> Option<&Trie> {
        self.children.as_ref()?.get(name)
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut Trie> {
        self.children.as_mut()?.get_mut(name)
    }

    /// The child `segment`, recorded as a block that `layer` names there.
    fn named_block(&mut self, segment: &Ident, layer: usize) -> &mut Trie {
        let child = self.child(&segment.name);
        child.push(Def::new(layer, segment.span, DefKind::Block));
        child
    }

    fn find_ref(&self, path: &[Ident]) -> Option<&Trie> {
        let mut node = self;
        for segment in path {
            node = node.get(&segment.name)?;
        }
        Some(node)
    }

    fn find(&mut self, path: &[Ident]) -> Option<&mut Trie> {
        let mut node = self;
        for segment in path {
            node = node.get_mut(&segment.name)?;
        }
        Some(node)
    }

    /// Marks every definition at or below this node made in a layer `below` the remover's.
    fn remove_below(&mut self, layers: &Layers, remover: usize, by: Span) -> usize {
        let mut count = 0;
        // A definition a sibling's `remove` took out already counts too: two siblings may both
        // remove the same thing from their shared base (the first keeps the record). One that a
        // lower layer removed does not: removing it again discards nothing.
        for def in self.defs.as_mut_slice() {
            let removable = !matches!(def.kind, DefKind::Remove);
            if !removable || !layers.is_below(def.layer(), remover) {
                continue;
            }
            match def.removed.as_deref() {
                None => {
                    def.removed = Some(Box::new(RemovedBy {
                        span: by,
                        layer: remover as u32,
                    }));
                    count += 1;
                }
                Some(earlier) if !layers.is_below(earlier.layer as usize, remover) => count += 1,
                Some(_) => {}
            }
        }
        for child in self.children_mut() {
            count += child.remove_below(layers, remover, by);
        }
        count
    }

    /// The first live definition at or below this node of each layer `pick` accepts, in the
    /// order the layers are first met.
    fn live_defs_by_layer(&self, pick: &dyn Fn(usize) -> bool, out: &mut Vec<(usize, Span)>) {
        for def in self.defs.iter() {
            if def.is_live()
                && pick(def.layer())
                && !out.iter().any(|(layer, _)| *layer == def.layer())
            {
                out.push((def.layer(), def.key));
            }
        }
        for (_, child) in self.children() {
            child.live_defs_by_layer(pick, out);
        }
    }

    fn has_live_defs(&self) -> bool {
        self.defs.iter().any(Def::is_live) || self.children().any(|(_, c)| c.has_live_defs())
    }
}

/// The definitions of the layers flattened so far: files are added one at a time, as each
/// finishes loading (in layer order), so that a file's syntax tree can be let go of as soon as
/// it is flattened; [`Definitions::merge`] then decides every value.
#[derive(Debug, Default)]
pub struct Definitions {
    trie: Trie,
    removes: Vec<(Vec<Ident>, usize, Span)>,
}

impl Definitions {
    /// Adds the definitions of `file`, the layer numbered `layer`. Layers are added in their
    /// order (every file after the files it imports): the order of definitions at a path and of
    /// a block's entries is the order they are added in.
    ///
    /// The values are moved out of `file`, which is consumed: a caller that keeps its syntax
    /// tree adds a copy.
    pub fn add(&mut self, layer: usize, file: ast::File) {
        let mut flattener = Flattener {
            layer,
            removes: &mut self.removes,
            prefix: Vec::new(),
        };
        flattener.flatten(file.items, &mut self.trie);
    }

    /// Applies the `remove`s and decides each value: the resolved tree and the removals.
    pub fn merge(
        self,
        layers: &Layers,
        sources: &SourceMap,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> (Block, Vec<Removal>) {
        let Definitions { mut trie, removes } = self;
        let mut removals = apply_removes(&mut trie, layers, &removes, diagnostics);
        drop(removes);
        let mut merger = Merger {
            layers,
            sources,
            diagnostics,
        };
        let mut root = merger.block(trie.children, &mut Vec::new(), Vec::new());
        supersede_sizes(&mut root, layers, &mut removals);
        (root, removals)
    }
}

/// A partition's size is one decision, made by the highest layer that makes it: an exact
/// `size` in a higher layer supersedes `size-min` and `size-max` of the layers it imports, and
/// bounds in a higher layer supersede an imported `size`, so that resizing is one line
/// (`partition usr { size = 6G }` over `std/particleos`'s bounds). Within one layer, or between
/// siblings, both stay, and a contradiction is reported as before.
fn supersede_sizes(root: &mut Block, layers: &Layers, removals: &mut Vec<Removal>) {
    let Some(Node::Block(partitions)) = root.entries.get_mut("partition").map(|e| &mut e.node)
    else {
        return;
    };
    for (name, entry) in &mut partitions.entries {
        let Node::Block(partition) = &mut entry.node else {
            continue;
        };
        let winner = |partition: &Block, field: &str| match partition.entries.get(field) {
            Some(Entry {
                node: Node::Leaf(leaf),
                ..
            }) => leaf.winner_place(),
            _ => None,
        };
        let Some((size_layer, size_span)) = winner(partition, "size") else {
            continue;
        };
        let mut drop = Vec::new();
        for bound in ["size-min", "size-max"] {
            let Some((bound_layer, bound_span)) = winner(partition, bound) else {
                continue;
            };
            if layers.is_below(bound_layer, size_layer) {
                drop.push((bound, size_span));
            } else if layers.is_below(size_layer, bound_layer) {
                drop.push(("size", bound_span));
            }
        }
        for (field, by) in drop {
            if partition.entries.shift_remove(field).is_some() {
                removals.push(Removal {
                    path: vec![
                        "partition".to_owned(),
                        name.as_str().to_owned(),
                        field.to_owned(),
                    ],
                    span: by,
                    superseded: true,
                });
            }
        }
    }
}

/// Adds one file's items to the trie, moving their values.
struct Flattener<'r> {
    layer: usize,
    removes: &'r mut Vec<(Vec<Ident>, usize, Span)>,
    /// The path of the blocks around the items being added, kept only to record where a
    /// `remove` points.
    prefix: Vec<Ident>,
}

impl Flattener<'_> {
    /// Adds the definitions of `items` (a file's, or a block's at `node`) to the trie.
    fn flatten(&mut self, items: Vec<ast::Item>, node: &mut Trie) {
        let layer = self.layer;
        for item in items {
            match item {
                ast::Item::Import(_) => {}
                ast::Item::Remove(remove) => {
                    let segments = &remove.path.segments;
                    let path = self.prefix.iter().chain(segments).cloned().collect();
                    self.removes.push((path, layer, remove.span));
                    let key = remove.path.span;
                    node.insert(segments, Def::new(layer, key, DefKind::Remove));
                }
                ast::Item::Block(block) => {
                    let mut child = node.named_block(&block.kind, layer);
                    self.prefix.push(block.kind.clone());
                    if let Some(label) = &block.label {
                        child = child.named_block(label, layer);
                        self.prefix.push(label.clone());
                    }
                    child.expect_children(block.items.len());
                    let labelled = block.label.is_some();
                    self.flatten(block.items, child);
                    let depth = self.prefix.len() - 1 - usize::from(labelled);
                    self.prefix.truncate(depth);
                }
                ast::Item::Assign(assign) => {
                    let segments = &assign.path.segments;
                    let (last, parents) = segments
                        .split_last()
                        .expect("a path has at least one segment");
                    let mut target = &mut *node;
                    for segment in parents {
                        target = target.named_block(segment, layer);
                    }
                    // The syntax tree's own value, moved: no copy.
                    let kind = DefKind::Value {
                        op: assign.op,
                        weak: assign.default.is_some(),
                        value: assign.value,
                        item: assign.span,
                    };
                    target
                        .child(&last.name)
                        .push(Def::new(layer, last.span, kind));
                }
            }
        }
    }
}

fn apply_removes(
    trie: &mut Trie,
    layers: &Layers,
    removes: &[(Vec<Ident>, usize, Span)],
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Removal> {
    let mut removals = Vec::new();
    let mut effective = Vec::new();
    // The live children of each parent a `remove` of nothing names, for its suggestion: looked
    // up once per parent while no `remove` takes anything out, so N removes of undefined paths
    // under one block cost N, not N times the block's children.
    let mut live_children: HashMap<Vec<String>, Vec<String>> = HashMap::new();
    for (path, layer, span) in removes {
        let dotted: Vec<String> = path.iter().map(|s| s.name.as_str().to_owned()).collect();
        let discarded = trie
            .find(path)
            .map_or(0, |node| node.remove_below(layers, *layer, *span));
        if discarded > 0 {
            live_children.clear();
            removals.push(Removal {
                path: dotted,
                span: *span,
                superseded: false,
            });
            effective.push((path, *layer, *span));
            continue;
        }
        let (parent_path, last) = path.split_at(path.len().saturating_sub(1));
        let parent_key: Vec<String> = parent_path
            .iter()
            .map(|s| s.name.as_str().to_owned())
            .collect();
        let siblings = live_children.entry(parent_key).or_insert_with(|| {
            trie.find(parent_path)
                .map(|p| {
                    p.children()
                        .filter(|(_, c)| c.has_live_defs())
                        .map(|(k, _)| k.as_str().to_owned())
                        .collect()
                })
                .unwrap_or_default()
        });
        let name = last.first().map_or("", |s| s.name.as_str());
        let help = match did_you_mean(name, siblings.iter().map(String::as_str)) {
            // The very path: it is defined, but not by a file this one imports.
            Some(similar) if similar == name => "`remove` discards what the files this one imports define; this path is defined here or by a file that imports this one: delete that definition instead".to_owned(),
            Some(similar) => format!("did you mean `remove {}`?", parent_path.iter().map(|s| s.name.as_str()).chain([similar]).collect::<Vec<_>>().join(".")),
            None => "`remove` discards what imported files define; delete the statement, or check the path with `pcfg eval`".to_owned(),
        };
        diagnostics.push(
            Diagnostic::new(
                Code::RemoveUndefined,
                format!("nothing imported defines `{}`", dotted.join(".")),
                Label::new(*span, "removes nothing"),
            )
            .with_help(help),
        );
    }
    for (path, layer, span) in effective {
        sibling_definitions_of_removed(trie, layers, path, layer, span, diagnostics);
    }
    removals
}

/// A `remove` took out what the shared base defines, and a file that does not import the
/// remover (nor is imported by it) still defines something there: one file says the thing is
/// gone, the other relies on it (a partial re-definition would survive the `remove` and fail
/// far away with a missing field). The result would depend on which of them is right, so it is
/// a conflict, named at both; a file that imports both decides by removing the path itself.
fn sibling_definitions_of_removed(
    trie: &Trie,
    layers: &Layers,
    path: &[Ident],
    remover: usize,
    span: Span,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let Some(node) = trie.find_ref(path) else {
        return;
    };
    let sibling = |layer: usize| {
        layer != remover && !layers.is_below(layer, remover) && !layers.is_below(remover, layer)
    };
    let mut found = Vec::new();
    node.live_defs_by_layer(&sibling, &mut found);
    if found.is_empty() {
        return;
    }
    let dotted = path
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(".");
    diagnostics.push(
        Diagnostic::new(
            Code::ConflictingDefinitions,
            format!("`{dotted}` is removed by one file and still defined by another that does not import it"),
            Label::new(span, "removed here"),
        )
        .with_labels(found.iter().map(|(_, key)| Label::new(*key, "but defined here")))
        .with_help(format!("the file that defines it relies on what the `remove` takes away: move the `remove {dotted}` to a file that imports both (it then discards every definition), or delete the definition")),
    );
}

struct Merger<'a> {
    layers: &'a Layers,
    sources: &'a SourceMap,
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl Merger<'_> {
    /// The block of a trie node's children. The trie is consumed as the block is built: each
    /// child's nodes are freed once its entry is made, so the trie and the resolved tree are
    /// not both held whole.
    fn block(
        &mut self,
        children: Option<Box<Children>>,
        path: &mut Vec<CompactString>,
        defined_at: Vec<Span>,
    ) -> Block {
        let children = children.map(|c| *c).unwrap_or_default();
        // A large node's entries become the block's in their own room: the trie's room is not
        // held beside the block's until the last child is merged.
        let entries = children.filter_map(|(name, child)| {
            path.push(name);
            let entry = self.entry(child, path);
            let name = path.pop().expect("pushed above");
            Some((name, entry?))
        });
        Block {
            entries,
            defined_at,
        }
    }

    fn entry(&mut self, trie: Trie, path: &mut Vec<CompactString>) -> Option<Entry> {
        let trie = match single_definition(trie) {
            Ok(entry) => return Some(entry),
            Err(trie) => trie,
        };
        let live: Vec<&Def> = trie.defs.iter().filter(|d| d.is_live()).collect();
        let values: Vec<&Def> = live
            .iter()
            .copied()
            .filter(|d| matches!(d.kind, DefKind::Value { .. }))
            .collect();
        let blocks: Vec<&Def> = live
            .iter()
            .copied()
            .filter(|d| matches!(d.kind, DefKind::Block))
            .collect();
        if values.is_empty() {
            // The highest definition names it: the last of `defined_at` ([`Entry::key_span`]).
            blocks.last()?;
            let defined_at = blocks.iter().map(|d| d.key).collect();
            let block = self.block(trie.children, path, defined_at);
            return Some(Entry {
                node: Node::Block(Box::new(block)),
            });
        }
        if let Some(block_def) = blocks.last() {
            let value_def = values.last().expect("values is not empty");
            self.diagnostics.push(
                Diagnostic::new(Code::BlockAndValue, format!("`{}` is given a value and used as a block", path.join(".")), Label::new(value_def.key, "given a value here"))
                    .with_label(Label::new(block_def.key, "used as a block here"))
                    .with_help("a name is either a field with a value or a block with fields: rename one of them"),
            );
            return None;
        }
        let removed: Vec<(Site, Overridden)> = trie
            .defs
            .iter()
            .filter_map(|d| {
                let by = d.removed_by()?;
                Some((site(d)?, Overridden::Removed { by }))
            })
            .collect();
        let mut leaf = self.leaf(&values, path)?;
        leaf.provenance.add_overridden(removed);
        Some(Entry {
            node: Node::Leaf(leaf),
        })
    }

    /// Decides one value from its live definitions (in load order).
    fn leaf(&mut self, defs: &[&Def], path: &[CompactString]) -> Option<Leaf> {
        let mut overridden: Vec<(Site, Overridden)> = Vec::new();
        let defs = self.without_duplicates(defs, path);
        let sets: Vec<&Def> = defs
            .iter()
            .copied()
            .filter(|d| matches!(d.kind, DefKind::Value { op: Op::Set, .. }))
            .collect();
        let strong: Vec<&Def> = sets.iter().copied().filter(|d| !is_weak(d)).collect();
        let pool = if strong.is_empty() {
            sets.clone()
        } else {
            overridden.extend(
                sets.iter()
                    .filter(|d| is_weak(d))
                    .filter_map(|d| Some((site(d)?, Overridden::Weak))),
            );
            strong
        };
        let layers: Vec<usize> = pool.iter().map(|d| d.layer()).collect();
        let topmost = self.layers.topmost(&layers);
        let mut winners: Vec<&Def> = Vec::new();
        for (def, top) in pool.iter().zip(&topmost) {
            if *top {
                winners.push(def);
            } else {
                overridden.extend(site(def).map(|s| (s, Overridden::ByHigherLayer)));
            }
        }
        let winner = self.pick_winner(&winners, path, &mut overridden);
        self.sibling_list_conflicts(&defs, winner.as_ref(), path);
        let mut applied = Vec::new();
        // The winner's, until a list operation changes it.
        let mut value = winner.as_ref().map(|w| w.value.clone());
        // The list's operations, applied in time linear in their number; written back into
        // `value` at the end.
        let mut list: Option<ListOps> = None;
        for def in &defs {
            // `=`s are the winner's or overridden: only list operations are made into sites.
            if written(def).is_none_or(|(_, op)| op == Op::Set) {
                continue;
            }
            let Some(s) = site(def) else { continue };
            if winner
                .as_ref()
                .is_some_and(|w| self.layers.is_below(s.layer, w.layer))
            {
                overridden.push((s, Overridden::ByHigherLayer));
                continue;
            }
            // A failed operation is reported and skipped, so the rest still validates. The list
            // is changed in place: N appends cost N, not N² copies.
            if self.apply_list_op(&mut value, &mut list, &s, path) {
                applied.push(s);
            }
        }
        if let (
            Some(list),
            Some(Value {
                kind: ValueKind::List(items),
                ..
            }),
        ) = (list, value.as_deref_mut())
        {
            *items = list.finish();
        }
        let key_span = winner.as_ref().map_or_else(
            || defs.last().map(|d| d.key),
            |w| {
                defs.iter()
                    .find(|d| written(d).is_some_and(|(item, _)| item == w.span))
                    .map(|d| d.key)
            },
        )?;
        let value = value?;
        overridden.sort_by_key(|(s, _)| (s.layer, s.span.start));
        Some(Leaf::new(value, key_span, winner, applied, overridden))
    }

    /// Reports a second `=` of the same path in one file; keeps the first.
    fn without_duplicates<'d>(&mut self, defs: &[&'d Def], path: &[CompactString]) -> Vec<&'d Def> {
        let mut kept: Vec<&Def> = Vec::new();
        // The first `=` of each layer: one lookup per definition, not a scan. Only a second `=`
        // is a duplicate; a `+=` or `-=` written before the `=` applies on top of it, as in any
        // order (SPEC, resolution rule 6).
        let mut first_in_layer: HashMap<usize, &Def> = HashMap::new();
        for def in defs {
            let is_set = matches!(def.kind, DefKind::Value { op: Op::Set, .. });
            if let Some(earlier) = first_in_layer.get(&def.layer()).filter(|_| is_set) {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::DuplicateDefinition,
                        format!("`{}` is defined twice in this file", path.join(".")),
                        Label::new(def.key, "defined again here"),
                    )
                    .with_label(Label::new(earlier.key, "first defined here"))
                    .with_help("keep one definition; to extend a list, write `+=`")
                    .with_edit(
                        "Remove this second definition",
                        match def.kind {
                            DefKind::Value { item, .. } => item,
                            DefKind::Block | DefKind::Remove => def.key,
                        },
                        Edit::Remove,
                    ),
                );
                continue;
            }
            if is_set {
                first_in_layer.entry(def.layer()).or_insert(def);
            }
            kept.push(def);
        }
        kept
    }

    /// One winner among layers that do not import each other, or a conflict.
    fn pick_winner(
        &mut self,
        winners: &[&Def],
        path: &[CompactString],
        overridden: &mut Vec<(Site, Overridden)>,
    ) -> Option<Site> {
        let (last, others) = winners.split_last()?;
        let last_site = site(last)?;
        // Every sibling that disagrees with the last is named: the user must see them all to
        // decide.
        let mut disagreeing = Vec::new();
        for other in others {
            let Some(other_site) = site(other) else {
                continue;
            };
            if same_value(&other_site.value.kind, &last_site.value.kind) {
                overridden.push((other_site, Overridden::Agreeing));
            } else {
                disagreeing.push(*other);
            }
        }
        if !disagreeing.is_empty() {
            let dotted = path.join(".");
            let entry = self.entry_name();
            let count = disagreeing.len() + 1;
            // Reported; the later definition stands in, so that validation goes on.
            self.diagnostics.push(
                Diagnostic::new(Code::ConflictingDefinitions, format!("`{dotted}` is set to different values by {count} files that do not import each other"), Label::new(last.key, "set here"))
                    .with_labels(disagreeing.iter().map(|d| Label::new(d.key, "and set differently here")))
                    .with_help(format!("set `{dotted}` in `{entry}` (which imports them all) to decide, or mark all but one of them `default`")),
            );
        }
        Some(last_site)
    }

    /// The entry file's name, where a conflict between files it imports is decided.
    fn entry_name(&self) -> String {
        let layers = &self.layers.layers;
        layers
            .get(self.layers.entry())
            .map_or_else(String::new, |l| self.sources.name(l.file).to_owned())
    }

    /// One file adds an item and another removes it, and neither imports the other: the result
    /// would depend on the order of the `import` lines, so it is a conflict, named at both.
    /// Only list operations that apply (not below the winner) count; a layer's own `-=` and
    /// `+=` apply in the file's order.
    fn sibling_list_conflicts(
        &mut self,
        defs: &[&Def],
        winner: Option<&Site>,
        path: &[CompactString],
    ) {
        // The list operations that apply, borrowed: `(layer, op, items)`.
        let ops: Vec<(usize, Op, &[Value])> = defs
            .iter()
            .filter_map(|d| match &d.kind {
                DefKind::Value { op, value, .. } if *op != Op::Set => match &value.kind {
                    ValueKind::List(items) => Some((d.layer(), *op, items.as_slice())),
                    _ => None,
                },
                _ => None,
            })
            .filter(|(layer, ..)| winner.is_none_or(|w| !self.layers.is_below(*layer, w.layer)))
            .collect();
        if !ops.iter().any(|(_, op, _)| *op == Op::Subtract) {
            return;
        }
        let siblings = |a: usize, b: usize| {
            a != b && !self.layers.is_below(a, b) && !self.layers.is_below(b, a)
        };
        let (appends, removals): (Vec<_>, Vec<_>) =
            ops.iter().partition(|(_, op, _)| *op == Op::Append);
        for &&(append_layer, _, added) in &appends {
            for &&(_, _, removed) in removals
                .iter()
                .filter(|(layer, ..)| siblings(*layer, append_layer))
            {
                let Some((add, remove)) = added.iter().find_map(|a| {
                    removed
                        .iter()
                        .find(|r| same_value(&a.kind, &r.kind))
                        .map(|r| (a, r))
                }) else {
                    continue;
                };
                let dotted = path.join(".");
                let item = self.sources.get(add.span.file).slice(add.span).to_owned();
                let entry = self.entry_name();
                self.diagnostics.push(
                    Diagnostic::new(Code::ConflictingDefinitions, format!("`{item}` is added to `{dotted}` and removed from it by files that do not import each other"), Label::new(remove.span, "removed here"))
                        .with_label(Label::new(add.span, "and added here"))
                        .with_help(format!("the result would depend on the order of the imports: set the whole list with `{dotted} = [...]` in `{entry}` (which imports both), or drop one of the two")),
                );
            }
        }
    }

    /// Applies `op` to `value`; false (and `value` unchanged) when it cannot apply.
    fn apply_list_op(
        &mut self,
        value: &mut Option<Box<Value>>,
        ops: &mut Option<ListOps>,
        op: &Site,
        path: &[CompactString],
    ) -> bool {
        let dotted = path.join(".");
        let ValueKind::List(items) = &op.value.kind else {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::InvalidListOperation,
                    format!("`{}` needs a list", op.op.as_str()),
                    Label::new(op.value.span, "not a list"),
                )
                .with_help(format!(
                    "write the items in brackets: `{dotted} {} [{}]`",
                    op.op.as_str(),
                    self.sources.get(op.value.span.file).slice(op.value.span)
                )),
            );
            return false;
        };
        if op.weak {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::InvalidListOperation,
                    format!("`default` does not apply to `{}`", op.op.as_str()),
                    Label::new(op.span, "weak list operation"),
                )
                .with_help("`default` marks a value set with `=` as weak; remove `default` here"),
            );
            return false;
        }
        if value.is_none() {
            // Nothing set the list: the operation starts from the field's default, as `pcfg
            // why` shows it (`trust.tpm2.pcrs += [11]` is `[7, 11]`).
            let span = op.value.span;
            let names: Vec<&str> = path.iter().map(CompactString::as_str).collect();
            let start = crate::schema::list_default(&names)
                .into_iter()
                .map(|kind| Value { kind, span })
                .collect();
            *value = Some(Box::new(Value {
                kind: ValueKind::List(start),
                span,
            }));
        }
        let list = match value.as_deref_mut() {
            Some(Value {
                kind: ValueKind::List(list),
                ..
            }) => list,
            Some(other) => {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::InvalidListOperation,
                        format!("`{}` on `{dotted}`, which is not a list", op.op.as_str()),
                        Label::new(op.span, "list operation"),
                    )
                    .with_label(Label::new(other.span, "the value is set here"))
                    .with_help(format!("replace the value with `{dotted} = ...`")),
                );
                return false;
            }
            None => return false,
        };
        // The list's items move into the operations on the first one.
        let ops = ops.get_or_insert_with(|| ListOps::new(std::mem::take(list)));
        match op.op {
            Op::Append => ops.append(items.iter().cloned()),
            Op::Subtract => {
                for item in items {
                    if !ops.remove(&item.kind) {
                        self.diagnostics.push(
                            Diagnostic::new(Code::RemoveMissingItem, format!("`{}` is not in `{dotted}`", self.sources.get(item.span.file).slice(item.span)), Label::new(item.span, "not in the list"))
                                .with_help("delete this item from the `-=`; `pcfg why` shows the list as the lower layers define it"),
                        );
                    }
                }
            }
            Op::Set => {}
        }
        if let Some(value) = value.as_deref_mut() {
            value.span = op.value.span;
        }
        true
    }
}

/// The common case, decided without the general machinery: one `=`, nothing else. The value
/// moves from the definition into the leaf; any other node is handed back.
fn single_definition(trie: Trie) -> Result<Entry, Trie> {
    match trie {
        Trie {
            defs:
                Defs::One(Def {
                    layer,
                    key,
                    kind:
                        DefKind::Value {
                            op: Op::Set,
                            weak,
                            value,
                            item,
                        },
                    removed: None,
                }),
            children: None,
        } => {
            let winner = Winner::new(item, layer as usize, Op::Set, weak);
            Ok(Entry {
                node: Node::Leaf(Leaf::set_once(value, key, winner)),
            })
        }
        other => Err(other),
    }
}

fn is_weak(def: &Def) -> bool {
    matches!(def.kind, DefKind::Value { weak: true, .. })
}

/// The item a value is written in and its operator; `None` for a block or a `remove`. Read
/// without [`site`], which copies the value.
fn written(def: &Def) -> Option<(Span, Op)> {
    match def.kind {
        DefKind::Value { item, op, .. } => Some((item, op)),
        DefKind::Block | DefKind::Remove => None,
    }
}

fn site(def: &Def) -> Option<Site> {
    match &def.kind {
        DefKind::Value {
            op,
            weak,
            value,
            item,
        } => Some(Site {
            span: *item,
            op: *op,
            weak: *weak,
            layer: def.layer(),
            value: value.clone(),
        }),
        DefKind::Block | DefKind::Remove => None,
    }
}
