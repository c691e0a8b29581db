//! A map by name in the order the names were first met, scanned while it is small and hashed
//! once it is not: the children of a path-trie node and the entries of a resolved block.
//!
//! Most blocks have a handful of fields, and most blocks are such (a partition's, an
//! extension's): an `IndexMap` held a hash index for each beside its entries. A scan of a few
//! short names is as fast as hashing one.

use compact_str::CompactString;
use indexmap::IndexMap;

/// The most names held without a hash index.
const FEW: usize = 8;

/// A map from names to `T`, in insertion order; 24 bytes (asserted below for the 64-bit
/// machines pcfg runs on).
#[derive(Clone, Debug)]
pub enum NameMap<T> {
    /// Up to [`FEW`] names, found by scanning.
    Few(Vec<(CompactString, T)>),
    /// More, indexed by their hashes (foldhash: names are short, and the trie is built once per
    /// compile). Boxed: the map is 56 bytes, a list 24, and most maps are small (every
    /// partition's and extension's fields, in the trie and in the resolved tree).
    Many(Box<IndexMap<CompactString, T, foldhash::fast::FixedState>>),
}

#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<NameMap<u64>>() == 24);

impl<T> Default for NameMap<T> {
    fn default() -> Self {
        NameMap::Few(Vec::new())
    }
}

impl<T> NameMap<T> {
    /// Room for `count` names.
    #[must_use]
    pub fn with_capacity(count: usize) -> Self {
        if count <= FEW {
            NameMap::Few(Vec::with_capacity(count))
        } else {
            NameMap::Many(Box::new(IndexMap::with_capacity_and_hasher(
                count,
                foldhash::fast::FixedState::default(),
            )))
        }
    }

    /// Hashes the names when a new one would make more than [`FEW`].
    fn make_room_for(&mut self, name: &str) {
        if let NameMap::Few(entries) = self {
            if entries.len() >= FEW && !entries.iter().any(|(n, _)| n == name) {
                let mut map = IndexMap::with_capacity_and_hasher(
                    2 * FEW,
                    foldhash::fast::FixedState::default(),
                );
                map.extend(entries.drain(..));
                *self = NameMap::Many(Box::new(map));
            }
        }
    }

    /// Sets `name` to `value`, where it was (its place kept) or last; the value it had.
    pub fn insert(&mut self, name: CompactString, value: T) -> Option<T> {
        self.make_room_for(&name);
        match self {
            NameMap::Few(entries) => {
                if let Some((_, old)) = entries.iter_mut().find(|(n, _)| *n == name) {
                    return Some(std::mem::replace(old, value));
                }
                entries.push((name, value));
                None
            }
            NameMap::Many(map) => map.insert(name, value),
        }
    }

    /// Takes `name` out, the names after it moving up one place.
    pub fn shift_remove(&mut self, name: &str) -> Option<T> {
        match self {
            NameMap::Few(entries) => {
                let index = entries.iter().position(|(n, _)| n == name)?;
                Some(entries.remove(index).1)
            }
            NameMap::Many(map) => map.shift_remove(name),
        }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[must_use]
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The names, in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &CompactString> {
        self.iter().map(|(n, _)| n)
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&CompactString, &mut T)> {
        self.into_iter()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            NameMap::Few(entries) => entries.len(),
            NameMap::Many(map) => map.len(),
        }
    }

    #[must_use]
    pub fn get(&self, name: &str) -> Option<&T> {
        match self {
            NameMap::Few(entries) => entries.iter().find(|(n, _)| n == name).map(|(_, v)| v),
            NameMap::Many(map) => map.get(name),
        }
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut T> {
        match self {
            NameMap::Few(entries) => entries.iter_mut().find(|(n, _)| n == name).map(|(_, v)| v),
            NameMap::Many(map) => map.get_mut(name),
        }
    }

    /// The names and their values, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&CompactString, &T)> {
        self.into_iter()
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        match self {
            NameMap::Few(entries) => Either::Few(entries.iter_mut().map(|(_, v)| v)),
            NameMap::Many(map) => Either::Many(map.values_mut()),
        }
    }
}

impl<T: Default> NameMap<T> {
    /// The value of `name`, made (and the name copied) when missing.
    pub(super) fn get_or_default(&mut self, name: &CompactString) -> &mut T {
        self.make_room_for(name);
        match self {
            NameMap::Few(entries) => {
                let index = entries
                    .iter()
                    .position(|(n, _)| n == name)
                    .unwrap_or_else(|| {
                        entries.push((name.clone(), T::default()));
                        entries.len() - 1
                    });
                &mut entries[index].1
            }
            // Looked up before the name is copied: most names are met again.
            NameMap::Many(map) => match map.get_index_of(name.as_str()) {
                Some(index) => &mut map[index],
                None => map.entry(name.clone()).or_default(),
            },
        }
    }
}

impl<T> IntoIterator for NameMap<T> {
    type Item = (CompactString, T);
    type IntoIter =
        Either<std::vec::IntoIter<(CompactString, T)>, indexmap::map::IntoIter<CompactString, T>>;

    fn into_iter(self) -> Self::IntoIter {
        match self {
            NameMap::Few(entries) => Either::Few(entries.into_iter()),
            NameMap::Many(map) => Either::Many((*map).into_iter()),
        }
    }
}

impl<'a, T> IntoIterator for &'a NameMap<T> {
    type Item = (&'a CompactString, &'a T);
    type IntoIter = Either<
        std::iter::Map<
            std::slice::Iter<'a, (CompactString, T)>,
            fn(&'a (CompactString, T)) -> (&'a CompactString, &'a T),
        >,
        indexmap::map::Iter<'a, CompactString, T>,
    >;

    fn into_iter(self) -> Self::IntoIter {
        match self {
            NameMap::Few(entries) => Either::Few(entries.iter().map(|(n, v)| (n, v))),
            NameMap::Many(map) => Either::Many(map.iter()),
        }
    }
}

impl<'a, T> IntoIterator for &'a mut NameMap<T> {
    type Item = (&'a CompactString, &'a mut T);
    type IntoIter = Either<
        std::iter::Map<
            std::slice::IterMut<'a, (CompactString, T)>,
            fn(&'a mut (CompactString, T)) -> (&'a CompactString, &'a mut T),
        >,
        indexmap::map::IterMut<'a, CompactString, T>,
    >;

    fn into_iter(self) -> Self::IntoIter {
        match self {
            NameMap::Few(entries) => Either::Few(entries.iter_mut().map(|(n, v)| (&*n, v))),
            NameMap::Many(map) => Either::Many(map.iter_mut()),
        }
    }
}

/// An iterator over either kind of map, without boxing it.
pub enum Either<A, B> {
    Few(A),
    Many(B),
}

impl<A: Iterator, B: Iterator<Item = A::Item>> Iterator for Either<A, B> {
    type Item = A::Item;

    fn next(&mut self) -> Option<A::Item> {
        match self {
            Either::Few(a) => a.next(),
            Either::Many(b) => b.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Either::Few(a) => a.size_hint(),
            Either::Many(b) => b.size_hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(map: &NameMap<u32>) -> Vec<(String, u32)> {
        map.iter().map(|(n, v)| (n.to_string(), *v)).collect()
    }

    /// The same answers and the same order as an `IndexMap`, below, at and past the size at
    /// which the scan gives way to the index.
    #[test]
    fn behaves_as_an_index_map_at_every_size() {
        for count in [0, 1, FEW - 1, FEW, FEW + 1, 5 * FEW] {
            for capacity in [0, count, FEW + 3] {
                let mut map = NameMap::<u32>::with_capacity(capacity);
                let mut model: IndexMap<String, u32> = IndexMap::new();
                for round in 0..2u32 {
                    for i in 0..count {
                        let name = CompactString::from(format!("n{}", (i * 7) % count.max(1)));
                        *map.get_or_default(&name) += round + 1;
                        *model.entry(name.to_string()).or_default() += round + 1;
                    }
                }
                let expected: Vec<(String, u32)> =
                    model.iter().map(|(n, v)| (n.clone(), *v)).collect();
                assert_eq!(names(&map), expected, "{count} names, capacity {capacity}");
                assert_eq!(map.len(), model.len());
                for (name, value) in &model {
                    assert_eq!(map.get(name), Some(value));
                }
                assert_eq!(map.get("absent"), None);
                if let Some(first) = model.keys().next().cloned() {
                    *map.get_mut(&first).expect("present") = 99;
                    assert_eq!(map.get(&first), Some(&99));
                    model[&first] = 99;
                }
                // Replacing keeps the place, a new name goes last, a removal closes the gap.
                if let Some(first) = model.keys().next().cloned() {
                    assert_eq!(map.insert(first.as_str().into(), 7), model.insert(first, 7));
                }
                assert_eq!(
                    map.insert("new".into(), 1),
                    model.insert("new".to_owned(), 1)
                );
                let middle = model
                    .keys()
                    .nth(model.len() / 2)
                    .cloned()
                    .expect("not empty");
                assert_eq!(map.shift_remove(&middle), model.shift_remove(&middle));
                assert_eq!(map.shift_remove("absent"), None);
                let expected: Vec<(String, u32)> =
                    model.iter().map(|(n, v)| (n.clone(), *v)).collect();
                assert_eq!(names(&map), expected, "{count} names, changed");
                assert!(!map.contains_key(&middle));
                assert_eq!(map.is_empty(), model.is_empty());
                for (_, value) in &mut map {
                    *value += 1;
                }
                map.values_mut().for_each(|v| *v += 1);
                let doubled: Vec<u32> = (&map).into_iter().map(|(_, v)| *v).collect();
                let expected: Vec<u32> = model.values().map(|v| v + 2).collect();
                assert_eq!(doubled, expected);
                let owned: Vec<String> = map.into_iter().map(|(n, _)| n.to_string()).collect();
                assert_eq!(owned, model.keys().cloned().collect::<Vec<_>>());
            }
        }
    }
}
