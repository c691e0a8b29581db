//! Typed reads of a validated, resolved block: each value with the span it was written at.
//!
//! Lowering runs only on configurations that passed schema validation, so a value of the wrong
//! type cannot occur; the readers still never panic and fall back to "not set".

use crate::resolve::{Block, Entry, Node};
use crate::source::Span;
use crate::syntax::ast::ValueKind;

/// A value and where it was written; `at` is `None` for defaults and derived values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct At<T> {
    pub value: T,
    pub at: Option<Span>,
}

impl<T> At<T> {
    #[must_use]
    pub fn new(value: T, at: Option<Span>) -> Self {
        At { value, at }
    }

    /// A default or derived value, written nowhere.
    #[must_use]
    pub const fn derived(value: T) -> Self {
        At { value, at: None }
    }

    /// Converts the value, keeping the span.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> At<U> {
        At {
            value: f(self.value),
            at: self.at,
        }
    }
}

/// The fields of one block (or of nothing, when the block is absent).
#[derive(Clone, Copy)]
pub(crate) struct Fields<'a> {
    block: Option<&'a Block>,
    /// Where the block was declared last (the highest layer).
    pub(crate) at: Option<Span>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(block: &'a Block, at: Option<Span>) -> Self {
        Fields {
            block: Some(block),
            at,
        }
    }

    pub(crate) fn is_present(&self) -> bool {
        self.block.is_some()
    }

    fn entry(&self, name: &str) -> Option<&'a Entry> {
        self.block?.entries.get(name)
    }

    fn value(&self, name: &str) -> Option<(&'a ValueKind, Span)> {
        match &self.entry(name)?.node {
            Node::Leaf(leaf) => Some((&leaf.value.kind, leaf.value.span)),
            Node::Block(_) => None,
        }
    }

    /// A nested unlabelled block; absent when not declared.
    pub(crate) fn block(&self, name: &str) -> Fields<'a> {
        match self.entry(name) {
            Some(Entry {
                node: Node::Block(block),
            }) => Fields::new(block, Some(block.key_span())),
            _ => Fields {
                block: None,
                at: None,
            },
        }
    }

    /// The labelled blocks of a kind, in declaration order: `(label, fields)`.
    pub(crate) fn labelled(&self, name: &str) -> Vec<(&'a str, Fields<'a>)> {
        let Some(Entry {
            node: Node::Block(kinds),
            ..
        }) = self.entry(name)
        else {
            return Vec::new();
        };
        kinds
            .entries
            .iter()
            .filter_map(|(label, entry)| match &entry.node {
                Node::Block(block) => {
                    Some((label.as_str(), Fields::new(block, Some(entry.key_span()))))
                }
                Node::Leaf(_) => None,
            })
            .collect()
    }

    pub(crate) fn string(&self, name: &str) -> At<Option<String>> {
        match self.value(name) {
            Some((ValueKind::Str(s), at)) => At::new(Some(s.as_str().to_owned()), Some(at)),
            _ => At::derived(None),
        }
    }

    pub(crate) fn symbol(&self, name: &str) -> At<Option<&'a str>> {
        match self.value(name) {
            Some((ValueKind::Symbol(s), at)) => At::new(Some(s.as_str()), Some(at)),
            _ => At::derived(None),
        }
    }

    /// A size or an integer of bytes.
    pub(crate) fn size(&self, name: &str) -> At<Option<u64>> {
        match self.value(name) {
            Some((ValueKind::Size(n) | ValueKind::Int(n), at)) => At::new(Some(*n), Some(at)),
            _ => At::derived(None),
        }
    }

    pub(crate) fn int(&self, name: &str) -> At<Option<u64>> {
        match self.value(name) {
            Some((ValueKind::Int(n), at)) => At::new(Some(*n), Some(at)),
            _ => At::derived(None),
        }
    }

    pub(crate) fn boolean(&self, name: &str) -> At<Option<bool>> {
        match self.value(name) {
            Some((ValueKind::Bool(b), at)) => At::new(Some(*b), Some(at)),
            _ => At::derived(None),
        }
    }

    pub(crate) fn is_auto(&self, name: &str) -> bool {
        matches!(self.value(name), Some((ValueKind::Auto, _)))
    }

    /// A list of strings or names, each with its span.
    pub(crate) fn list(&self, name: &str) -> At<Vec<At<String>>> {
        match self.value(name) {
            Some((ValueKind::List(items), at)) => {
                // Sized by the list (a collect through `filter_map` takes room for four): most
                // lists hold one or two names, and every partition and extension has some.
                let mut strings = Vec::with_capacity(items.len());
                strings.extend(items.iter().filter_map(|item| match &item.kind {
                    ValueKind::Str(s) | ValueKind::Symbol(s) => {
                        Some(At::new(s.as_str().to_owned(), Some(item.span)))
                    }
                    _ => None,
                }));
                At::new(strings, Some(at))
            }
            _ => At::derived(Vec::new()),
        }
    }

    /// A list of integers.
    pub(crate) fn int_list(&self, name: &str) -> At<Option<Vec<u64>>> {
        match self.value(name) {
            Some((ValueKind::List(items), at)) => At::new(
                Some(
                    items
                        .iter()
                        .filter_map(|i| {
                            if let ValueKind::Int(n) = i.kind {
                                Some(n)
                            } else {
                                None
                            }
                        })
                        .collect(),
                ),
                Some(at),
            ),
            _ => At::derived(None),
        }
    }
}
