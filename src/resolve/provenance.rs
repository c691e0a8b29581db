//! Who set what: the resolved tree and, for every value, the definition that won and every
//! definition it overrode.

use crate::source::Span;
use crate::syntax::ast::{Op, Value, ValueKind};

/// A resolved block: its fields and sub-blocks in first-definition order.
#[derive(Clone, Debug, Default)]
pub struct Block {
    /// Scanned while there are a few, hashed past that, as the path trie's children are.
    pub entries: super::name_map::NameMap<Entry>,
    /// Where the block was opened or named (block headers and path segments), in load order.
    pub defined_at: Vec<Span>,
}

/// A named member of a block: 48 bytes (asserted below), so that a block's field and its name
/// take 72 (a partition's seven fit in 512 bytes, 640 when an entry held its key's place
/// beside its node, and an extension's three in 224 instead of 320).
#[derive(Clone, Debug)]
pub struct Entry {
    pub node: Node,
}

impl Entry {
    /// Where the name is written in the winning definition (for a block, the highest).
    #[must_use]
    pub fn key_span(&self) -> Span {
        match &self.node {
            Node::Block(block) => block.key_span(),
            Node::Leaf(leaf) => leaf.provenance.key,
        }
    }
}

#[derive(Clone, Debug)]
pub enum Node {
    /// Boxed: a block's map is larger than a value, and most entries are values.
    Block(Box<Block>),
    Leaf(Leaf),
}

#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Entry>() == 48);

/// A resolved value and its history.
#[derive(Clone, Debug)]
pub struct Leaf {
    /// Owned: moved out of the file's syntax tree when the compile does not keep it, and out of
    /// the definition that set it (a count shared with the syntax tree made each of a large
    /// configuration's values 64 bytes instead of 48).
    pub value: Box<Value>,
    pub provenance: Provenance,
}

impl Leaf {
    /// A value set once with `=` (`site`, without its value, which is `value`) and named at
    /// `key`: nothing overridden, nothing applied. Most values are.
    #[must_use]
    pub fn set_once(value: Box<Value>, key: Span, site: Winner) -> Self {
        Leaf {
            value,
            provenance: Provenance {
                key,
                winner: Some(site),
                history: None,
            },
        }
    }

    /// `value` as decided, named at `key`, from `winner` (the `=` that set its base value,
    /// if one did), the list operations `applied` on top and the definitions `overridden`.
    #[must_use]
    pub fn new(
        value: Box<Value>,
        key: Span,
        winner: Option<Site>,
        applied: Vec<Site>,
        overridden: Vec<(Site, Overridden)>,
    ) -> Self {
        // The winner's value is held apart only when list operations made another.
        let (winner, base) = match winner {
            Some(site) => {
                let base = (site.value != value).then_some(site.value);
                let winner = Winner::new(site.span, site.layer, site.op, site.weak);
                (Some(winner), base)
            }
            None => (None, None),
        };
        let history =
            (base.is_some() || !applied.is_empty() || !overridden.is_empty()).then(|| {
                Box::new(History {
                    base,
                    applied,
                    overridden,
                })
            });
        Leaf {
            value,
            provenance: Provenance {
                key,
                winner,
                history,
            },
        }
    }

    /// The layer and the item of the `=` that set the base value, without copying its value
    /// as [`Leaf::winner`] does; `None` when only `+=` built the list.
    #[must_use]
    pub fn winner_place(&self) -> Option<(usize, Span)> {
        let w = self.provenance.winner.as_ref()?;
        Some((w.layer as usize, w.span))
    }

    /// The `=` that set the base value (its value copied); `None` when only `+=` built the
    /// list.
    #[must_use]
    pub fn winner(&self) -> Option<Site> {
        let w = self.provenance.winner.as_ref()?;
        let value = self
            .provenance
            .history
            .as_ref()
            .and_then(|h| h.base.as_ref())
            .unwrap_or(&self.value);
        Some(Site {
            span: w.span,
            op: w.op,
            weak: w.weak,
            layer: w.layer as usize,
            value: value.clone(),
        })
    }
}

/// One definition of a value, as written.
#[derive(Clone, Debug)]
pub struct Site {
    /// The whole item (`size = 4G`).
    pub span: Span,
    pub op: Op,
    pub weak: bool,
    pub layer: usize,
    pub value: Box<Value>,
}

/// Why a definition did not decide the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Overridden {
    /// A higher layer set the value.
    ByHigherLayer,
    /// It was a `default`, and a plain definition exists.
    Weak,
    /// A sibling layer set the same value; the later one is shown as the winner.
    Agreeing,
    /// A `remove` in a higher layer discarded it.
    Removed { by: Span },
}

/// The history of a value: where its name is written, the winning definition (without its
/// value, which is the leaf's unless list operations changed it: [`Leaf::winner`]), list
/// operations applied on top of it, and every other definition with why it lost, all in load
/// order.
#[derive(Clone, Debug)]
pub struct Provenance {
    key: Span,
    winner: Option<Winner>,
    /// The rest, held apart: most values are set once and have none, and two empty lists in
    /// every value were a fifth of a large configuration's resolved tree.
    history: Option<Box<History>>,
}

/// The winning definition without its value.
#[derive(Clone, Copy, Debug)]
pub struct Winner {
    span: Span,
    layer: u32,
    op: Op,
    weak: bool,
}

impl Winner {
    /// The definition `span` (the whole item) of `layer`, written with `op`, weak or not.
    #[must_use]
    pub fn new(span: Span, layer: usize, op: Op, weak: bool) -> Self {
        Winner {
            span,
            layer: u32::try_from(layer).unwrap_or(u32::MAX),
            op,
            weak,
        }
    }
}

#[derive(Clone, Debug, Default)]
struct History {
    /// The winner's value, when list operations made the leaf's another.
    base: Option<Box<Value>>,
    applied: Vec<Site>,
    overridden: Vec<(Site, Overridden)>,
}

impl Provenance {
    /// The list operations applied on top of the winner, in load order.
    #[must_use]
    pub fn applied(&self) -> &[Site] {
        self.history.as_ref().map_or(&[], |h| &h.applied)
    }

    /// Every other definition, with why it lost.
    #[must_use]
    pub fn overridden(&self) -> &[(Site, Overridden)] {
        self.history.as_ref().map_or(&[], |h| &h.overridden)
    }

    /// Adds definitions that lost, after those already there.
    pub fn add_overridden(&mut self, more: Vec<(Site, Overridden)>) {
        if !more.is_empty() {
            let history = self.history.get_or_insert_with(Box::default);
            history.overridden.extend(more);
        }
    }
}

impl Block {
    /// Where the block is named in its highest definition: the last of `defined_at`, which a
    /// block that is a member has at least one of.
    #[must_use]
    pub fn key_span(&self) -> Span {
        self.defined_at.last().copied().unwrap_or(Span {
            file: crate::source::FileId::FIRST,
            start: 0,
            end: 0,
        })
    }

    /// The node at a dotted path below this block.
    #[must_use]
    pub fn get(&self, path: &[&str]) -> Option<&Entry> {
        let (first, rest) = path.split_first()?;
        let entry = self.entries.get(first)?;
        if rest.is_empty() {
            return Some(entry);
        }
        match &entry.node {
            Node::Block(block) => block.get(rest),
            Node::Leaf(_) => None,
        }
    }
}

/// Typed equality of two values, ignoring where and how they were written: `4G`, `4096M` and
/// `4294967296` are one size, `0x10` and `16` one integer.
#[must_use]
pub fn same_value(a: &ValueKind, b: &ValueKind) -> bool {
    match (a, b) {
        (ValueKind::List(a), ValueKind::List(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_value(&x.kind, &y.kind))
        }
        // Typed values: a size and a plain integer are both bytes (`4G` and `4294967296`); a
        // field that counts refuses the size anyway, so the two never disagree in meaning.
        (ValueKind::Size(a), ValueKind::Int(b)) | (ValueKind::Int(a), ValueKind::Size(b)) => a == b,
        _ => a == b,
    }
}
