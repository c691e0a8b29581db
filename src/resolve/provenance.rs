//! Who set what: the resolved tree and, for every value, the definition that won and every
//! definition it overrode.

use std::sync::Arc;

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

/// A named member of a block.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Where the name is written in the winning (or, for blocks, highest) definition.
    pub key_span: Span,
    pub node: Node,
}

#[derive(Clone, Debug)]
pub enum Node {
    /// Boxed: a block's map is larger than a value, and most entries are values.
    Block(Box<Block>),
    Leaf(Leaf),
}

/// A resolved value and its history.
#[derive(Clone, Debug)]
pub struct Leaf {
    /// Shared with the winning definition's [`Site`] when no list operation changed it: most
    /// values are set once, and each would otherwise be held twice.
    pub value: Arc<Value>,
    pub provenance: Provenance,
}

/// One definition of a value, as written.
#[derive(Clone, Debug)]
pub struct Site {
    /// The whole item (`size = 4G`).
    pub span: Span,
    pub op: Op,
    pub weak: bool,
    pub layer: usize,
    pub value: Arc<Value>,
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

/// The history of a value: the winning definition, list operations applied on top of it, and
/// every other definition with why it lost, all in load order.
#[derive(Clone, Debug)]
pub struct Provenance {
    /// The `=` that set the base value; `None` when only `+=` built the list.
    pub winner: Option<Site>,
    /// The rest, held apart: most values are set once and have none, and two empty lists in
    /// every value were a fifth of a large configuration's resolved tree.
    history: Option<Box<History>>,
}

#[derive(Clone, Debug, Default)]
struct History {
    applied: Vec<Site>,
    overridden: Vec<(Site, Overridden)>,
}

impl Provenance {
    #[must_use]
    pub fn new(
        winner: Option<Site>,
        applied: Vec<Site>,
        overridden: Vec<(Site, Overridden)>,
    ) -> Self {
        let history = (!applied.is_empty() || !overridden.is_empty()).then(|| {
            Box::new(History {
                applied,
                overridden,
            })
        });
        Provenance { winner, history }
    }

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
