//! Who set what: the resolved tree and, for every value, the definition that won and every
//! definition it overrode.

use std::sync::Arc;

use indexmap::IndexMap;

use crate::source::Span;
use crate::syntax::ast::{Op, Value, ValueKind};

/// A resolved block: its fields and sub-blocks in first-definition order.
#[derive(Clone, Debug, Default)]
pub struct Block {
    /// Hashed with foldhash, as the path trie is: every field is looked up here by name.
    pub entries: IndexMap<String, Entry, foldhash::fast::FixedState>,
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
    Block(Block),
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
    pub applied: Vec<Site>,
    pub overridden: Vec<(Site, Overridden)>,
}

impl Block {
    /// The node at a dotted path below this block.
    #[must_use]
    pub fn get(&self, path: &[&str]) -> Option<&Entry> {
        let (first, rest) = path.split_first()?;
        let entry = self.entries.get(*first)?;
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
