//! A list under `+=` and `-=`, applied in order in time linear in the operations: each item is
//! stamped when it is added, each `-=` records when it removed a value, and the list is built
//! once at the end from the items added after the last removal of their value. Values compare
//! as `same_value` compares them (`4G` is `4294967296`).

use compact_str::CompactString;
use std::collections::HashMap;

use crate::syntax::ast::{Value, ValueKind};

/// A value as a hashable key that is equal exactly when `same_value` says so.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    /// An integer or a size, in bytes.
    Number(u64),
    Str(CompactString),
    Symbol(CompactString),
    Bool(bool),
    Auto,
    List(Vec<Key>),
}

fn key(kind: &ValueKind) -> Key {
    match kind {
        ValueKind::Int(n) | ValueKind::Size(n) => Key::Number(*n),
        ValueKind::Str(s) => Key::Str(s.clone()),
        ValueKind::Symbol(s) => Key::Symbol(s.clone()),
        ValueKind::Bool(b) => Key::Bool(*b),
        ValueKind::Auto => Key::Auto,
        ValueKind::List(items) => Key::List(items.iter().map(|v| key(&v.kind)).collect()),
    }
}

/// The items of a list between its first and its last operation.
#[derive(Debug, Default)]
pub(super) struct ListOps {
    /// Each item with the time it was added.
    items: Vec<(Key, u64, Value)>,
    /// How many items of each value are in the list now.
    live: HashMap<Key, usize>,
    /// When each value was last removed.
    removed_at: HashMap<Key, u64>,
    clock: u64,
}

impl ListOps {
    /// Starts from the items of a list.
    pub(super) fn new(items: Vec<Value>) -> ListOps {
        let mut ops = ListOps::default();
        ops.append(items);
        ops
    }

    pub(super) fn append(&mut self, items: impl IntoIterator<Item = Value>) {
        for item in items {
            self.clock += 1;
            let key = key(&item.kind);
            *self.live.entry(key.clone()).or_default() += 1;
            self.items.push((key, self.clock, item));
        }
    }

    /// Removes every occurrence of `item`; false when there was none.
    pub(super) fn remove(&mut self, item: &ValueKind) -> bool {
        self.clock += 1;
        let key = key(item);
        let present = self.live.get_mut(&key).is_some_and(|n| {
            let had = *n > 0;
            *n = 0;
            had
        });
        if present {
            self.removed_at.insert(key, self.clock);
        }
        present
    }

    /// The list: every item added after its value was last removed, in order.
    pub(super) fn finish(self) -> Vec<Value> {
        let removed_at = self.removed_at;
        self.items
            .into_iter()
            .filter(|(key, added, _)| removed_at.get(key).is_none_or(|removed| added > removed))
            .map(|(_, _, value)| value)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, Span};

    fn value(kind: ValueKind) -> Value {
        Value {
            kind,
            span: Span::new(FileId::FIRST, 0, 0),
        }
    }

    fn ints(list: Vec<Value>) -> Vec<u64> {
        list.into_iter()
            .map(|v| match v.kind {
                ValueKind::Int(n) | ValueKind::Size(n) => n,
                _ => u64::MAX,
            })
            .collect()
    }

    #[test]
    fn operations_apply_in_order() {
        let mut ops = ListOps::new(vec![value(ValueKind::Int(1)), value(ValueKind::Int(2))]);
        ops.append([value(ValueKind::Int(1))]);
        assert!(ops.remove(&ValueKind::Int(1)));
        assert!(!ops.remove(&ValueKind::Int(1)), "nothing left to remove");
        ops.append([value(ValueKind::Int(1)), value(ValueKind::Int(3))]);
        assert!(
            ops.remove(&ValueKind::Size(3)),
            "a size and an integer of the same bytes"
        );
        assert!(!ops.remove(&ValueKind::Int(9)));
        assert_eq!(ints(ops.finish()), [2, 1]);
    }
}
