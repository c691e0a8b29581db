//! A map by name in the order the names were first met, scanned while it is small and hashed
//! once it is not: the children of a path-trie node and the entries of a resolved block.
//!
//! Most blocks have a handful of fields, and most blocks are such (a partition's, an
//! extension's): an `IndexMap` held a hash index for each beside its entries. A scan of a few
//! short names is as fast as hashing one. A large map is its entries in a vector beside a table
//! of their places by hash, so that the merge can turn the trie's map into the resolved tree's
//! in the vector's own room ([`NameMap::filter_map`]).

use std::hash::BuildHasher as _;

use compact_str::CompactString;

/// The most names held without a hash index.
const FEW: usize = 8;

/// A map from names to `T`, in insertion order; 24 bytes (asserted below for the 64-bit
/// machines pcfg runs on).
#[derive(Clone, Debug)]
pub enum NameMap<T> {
    /// Up to [`FEW`] names, found by scanning.
    Few(Vec<(CompactString, T)>),
    /// More, found by their hashes. Boxed: a list is 24 bytes, and most maps are small (every
    /// partition's and extension's fields, in the trie and in the resolved tree).
    Many(Box<Indexed<T>>),
}

#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<NameMap<u64>>() == 24);

/// Many names: the entries in order, and each one's place by the hash of its name (foldhash:
/// names are short, and the trie is built once per compile, so a fast hash matters more than
/// `SipHash`'s resistance to chosen keys).
#[derive(Clone, Debug)]
pub struct Indexed<T> {
    entries: Vec<(CompactString, T)>,
    places: hashbrown::HashTable<u32>,
}

fn hash(name: &str) -> u64 {
    foldhash::fast::FixedState::default().hash_one(name)
}

/// The hash of the name at a place, for the table to move its places when it grows.
fn rehash<T>(entries: &[(CompactString, T)]) -> impl Fn(&u32) -> u64 + '_ {
    |&p| hash(&entries[p as usize].0)
}

fn place(index: usize) -> u32 {
    u32::try_from(index).expect("fewer than 2^32 names in one block")
}

impl<T> Indexed<T> {
    /// `entries`, whose names differ, indexed.
    fn new(entries: Vec<(CompactString, T)>) -> Self {
        let mut places = hashbrown::HashTable::with_capacity(entries.len());
        for (i, (name, _)) in entries.iter().enumerate() {
            places.insert_unique(hash(name), place(i), rehash(&entries));
        }
        Indexed { entries, places }
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.places
            .find(hash(name), |&p| self.entries[p as usize].0 == name)
            .map(|&p| p as usize)
    }

    /// Adds `name`, which is not there yet, last.
    fn push(&mut self, name: CompactString, value: T) -> usize {
        let index = self.entries.len();
        self.places
            .insert_unique(hash(&name), place(index), rehash(&self.entries));
        self.entries.push((name, value));
        index
    }

    fn shift_remove(&mut self, name: &str) -> Option<T> {
        let entries = &self.entries;
        let found = self
            .places
            .find_entry(hash(name), |&p| entries[p as usize].0 == name)
            .ok()?;
        let (index, _) = found.remove();
        let index = index as usize;
        for p in &mut self.places {
            if *p as usize > index {
                *p -= 1;
            }
        }
        Some(self.entries.remove(index).1)
    }
}

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
            NameMap::Many(Box::new(Indexed {
                entries: Vec::with_capacity(count),
                places: hashbrown::HashTable::with_capacity(count),
            }))
        }
    }

    /// Hashes the names when one more, not there yet, would make more than [`FEW`].
    fn make_room_for_one(&mut self) {
        if let NameMap::Few(entries) = self {
            if entries.len() >= FEW {
                let mut many = Vec::with_capacity(2 * FEW);
                many.append(entries);
                *self = NameMap::Many(Box::new(Indexed::new(many)));
            }
        }
    }

    fn entries(&self) -> &[(CompactString, T)] {
        match self {
            NameMap::Few(entries) => entries,
            NameMap::Many(many) => &many.entries,
        }
    }

    fn entries_mut(&mut self) -> &mut [(CompactString, T)] {
        match self {
            NameMap::Few(entries) => entries,
            NameMap::Many(many) => &mut many.entries,
        }
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        match self {
            NameMap::Few(entries) => entries.iter().position(|(n, _)| n == name),
            NameMap::Many(many) => many.index_of(name),
        }
    }

    /// Sets `name` to `value`, where it was (its place kept) or last; the value it had.
    pub fn insert(&mut self, name: CompactString, value: T) -> Option<T> {
        if let Some(index) = self.index_of(&name) {
            return Some(std::mem::replace(&mut self.entries_mut()[index].1, value));
        }
        self.make_room_for_one();
        match self {
            NameMap::Few(entries) => entries.push((name, value)),
            NameMap::Many(many) => {
                many.push(name, value);
            }
        }
        None
    }

    /// Takes `name` out, the names after it moving up one place.
    pub fn shift_remove(&mut self, name: &str) -> Option<T> {
        match self {
            NameMap::Few(entries) => {
                let index = entries.iter().position(|(n, _)| n == name)?;
                Some(entries.remove(index).1)
            }
            NameMap::Many(many) => many.shift_remove(name),
        }
    }

    /// Each entry made into another by `f`, or left out, in the same order. A large map's new
    /// entries are made in the room of its old ones when they are no larger (Rust collects a
    /// vector's mapped items in place), and its hash table is made anew: the merge turns the
    /// trie's map of 50,000 partitions into the resolved tree's without holding the trie's
    /// room until the last entry is taken beside the new map's. A small map's are collected
    /// into a list of their size (a trie node's list has the room of its growth).
    pub fn filter_map<U>(
        self,
        f: impl FnMut((CompactString, T)) -> Option<(CompactString, U)>,
    ) -> NameMap<U> {
        match self {
            NameMap::Few(entries) => {
                let mut new = Vec::with_capacity(entries.len());
                new.extend(entries.into_iter().filter_map(f));
                NameMap::Few(new)
            }
            NameMap::Many(many) => {
                let Indexed { entries, places } = *many;
                drop(places);
                let entries: Vec<(CompactString, U)> = entries.into_iter().filter_map(f).collect();
                NameMap::Many(Box::new(Indexed::new(entries)))
            }
        }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[must_use]
    pub fn contains_key(&self, name: &str) -> bool {
        self.index_of(name).is_some()
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
        self.entries().len()
    }

    #[must_use]
    pub fn get(&self, name: &str) -> Option<&T> {
        let index = self.index_of(name)?;
        Some(&self.entries()[index].1)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut T> {
        let index = self.index_of(name)?;
        Some(&mut self.entries_mut()[index].1)
    }

    /// The names and their values, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&CompactString, &T)> {
        self.into_iter()
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.entries_mut().iter_mut().map(|(_, v)| v)
    }
}

impl<T: Default> NameMap<T> {
    /// The value of `name`, made (and the name copied) when missing: looked up before the name
    /// is copied, since most names are met again.
    pub(super) fn get_or_default(&mut self, name: &CompactString) -> &mut T {
        let index = if let Some(index) = self.index_of(name) {
            index
        } else {
            self.make_room_for_one();
            match self {
                NameMap::Few(entries) => {
                    entries.push((name.clone(), T::default()));
                    entries.len() - 1
                }
                NameMap::Many(many) => many.push(name.clone(), T::default()),
            }
        };
        &mut self.entries_mut()[index].1
    }
}

impl<T> IntoIterator for NameMap<T> {
    type Item = (CompactString, T);
    type IntoIter = std::vec::IntoIter<(CompactString, T)>;

    fn into_iter(self) -> Self::IntoIter {
        match self {
            NameMap::Few(entries) => entries.into_iter(),
            NameMap::Many(many) => many.entries.into_iter(),
        }
    }
}

impl<'a, T> IntoIterator for &'a NameMap<T> {
    type Item = (&'a CompactString, &'a T);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (CompactString, T)>,
        fn(&'a (CompactString, T)) -> (&'a CompactString, &'a T),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries().iter().map(|(n, v)| (n, v))
    }
}

impl<'a, T> IntoIterator for &'a mut NameMap<T> {
    type Item = (&'a CompactString, &'a mut T);
    type IntoIter = std::iter::Map<
        std::slice::IterMut<'a, (CompactString, T)>,
        fn(&'a mut (CompactString, T)) -> (&'a CompactString, &'a mut T),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries_mut().iter_mut().map(|(n, v)| (&*n, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;

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
                // Mapped: the same order, every other entry left out, the rest still found.
                let kept = map
                    .clone()
                    .filter_map(|(n, v)| (v % 2 == 0).then(|| (n, v * 3)));
                let expected: Vec<(String, u32)> = names(&map)
                    .into_iter()
                    .filter(|(_, v)| v % 2 == 0)
                    .map(|(n, v)| (n, v * 3))
                    .collect();
                assert_eq!(names(&kept), expected);
                for (name, value) in &expected {
                    assert_eq!(kept.get(name), Some(value));
                }
                assert_eq!(kept.len(), expected.len());
                let owned: Vec<String> = map.into_iter().map(|(n, _)| n.to_string()).collect();
                assert_eq!(owned, model.keys().cloned().collect::<Vec<_>>());
            }
        }
    }
}
