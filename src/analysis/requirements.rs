//! What each extension requires, directly or not, computed once for every extension: the
//! shared-file suggestions ask, for each set of extensions with identical files, which
//! extension they all require already.
//!
//! Each extension's closure is a bitset over the extensions (in name order), built in one pass
//! over the strongly connected components in dependency order (petgraph's Tarjan), so a chain
//! of N extensions costs N unions of N/64 words instead of a walk of the chain per set.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

/// The transitive `requires` of every extension.
pub(super) struct Requirements<'r> {
    /// The extensions in name order; bit `i` of a closure stands for `names[i]`.
    names: Vec<&'r str>,
    index: BTreeMap<&'r str, usize>,
    /// `closure[i]` holds the extensions `names[i]` requires, directly or not, never itself.
    closure: Vec<Vec<u64>>,
}

impl<'r> Requirements<'r> {
    /// From each extension's direct requirements (a required name nothing declares, which the
    /// checks report, counts as an extension that requires nothing).
    pub(super) fn new(direct: &'r BTreeMap<String, Vec<String>>) -> Self {
        let every: BTreeSet<&str> = direct
            .iter()
            .flat_map(|(name, requires)| std::iter::once(name).chain(requires))
            .map(String::as_str)
            .collect();
        let names: Vec<&str> = every.into_iter().collect();
        let index: BTreeMap<&str, usize> = names.iter().enumerate().map(|(i, &n)| (n, i)).collect();
        let mut graph: DiGraph<usize, ()> = DiGraph::with_capacity(names.len(), names.len());
        for i in 0..names.len() {
            graph.add_node(i);
        }
        for (from, requires) in direct {
            let from = NodeIndex::new(index[from.as_str()]);
            for to in requires {
                graph.add_edge(from, NodeIndex::new(index[to.as_str()]), ());
            }
        }
        let words = names.len().div_ceil(64);
        let mut closure = vec![Vec::new(); names.len()];
        // Tarjan yields the components in reverse topological order: everything a component
        // requires is complete before it.
        for component in tarjan_scc(&graph) {
            let mut bits = vec![0u64; words];
            for node in &component {
                for target in graph.neighbors(*node) {
                    let t = target.index();
                    bits[t / 64] |= 1 << (t % 64);
                    for (mine, theirs) in bits.iter_mut().zip(&closure[t]) {
                        *mine |= theirs;
                    }
                }
            }
            // In a cycle (reported elsewhere) each member requires the others, not itself.
            for node in &component {
                let i = node.index();
                let mut own = bits.clone();
                own[i / 64] &= !(1 << (i % 64));
                closure[i] = own;
            }
        }
        Requirements {
            names,
            index,
            closure,
        }
    }

    /// The first extension, by name, that every one of `set` requires, directly or not.
    pub(super) fn common(&self, set: &[&str]) -> Option<&'r str> {
        let mut bits: Option<Vec<u64>> = None;
        for name in set {
            let theirs = &self.closure[*self.index.get(name)?];
            match &mut bits {
                None => bits = Some(theirs.clone()),
                Some(bits) => {
                    for (mine, theirs) in bits.iter_mut().zip(theirs) {
                        *mine &= theirs;
                    }
                }
            }
        }
        let bits = bits?;
        let (word, value) = bits.iter().enumerate().find(|(_, w)| **w != 0)?;
        let bit = word * 64 + value.trailing_zeros() as usize;
        self.names.get(bit).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(edges: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        edges
            .iter()
            .map(|(from, to)| {
                (
                    (*from).to_owned(),
                    to.iter().map(|t| (*t).to_owned()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn a_chain_is_followed_and_the_first_name_wins() {
        let d = direct(&[
            ("a", &["c"]),
            ("b", &["c", "z"]),
            ("c", &["y"]),
            ("y", &[]),
            ("z", &["y"]),
        ]);
        let r = Requirements::new(&d);
        assert_eq!(r.common(&["a", "b"]), Some("c"));
        assert_eq!(r.common(&["a", "z"]), Some("y"));
        assert_eq!(r.common(&["y", "z"]), None);
        assert_eq!(r.common(&["a", "unknown"]), None);
        // Required but not declared (the checks report it): still followed.
        let d = direct(&[("a", &["libs"]), ("b", &["libs"])]);
        assert_eq!(Requirements::new(&d).common(&["a", "b"]), Some("libs"));
    }

    #[test]
    fn a_cycle_requires_the_others_not_itself() {
        let d = direct(&[("a", &["b"]), ("b", &["a"]), ("c", &["a"])]);
        let r = Requirements::new(&d);
        assert_eq!(r.common(&["a"]), Some("b"));
        assert_eq!(r.common(&["b"]), Some("a"));
        assert_eq!(r.common(&["a", "c"]), Some("b"));
    }
}
