//! The build graph: steps that need other steps, each identified by a content hash of its kind,
//! its parameters and the ids of what it needs. petgraph orders them; a cycle is reported as
//! the whole path, an input nothing produces by name.

use std::collections::{BTreeMap, HashMap};

use petgraph::algo::toposort;
use petgraph::graph::{DiGraph, NodeIndex};
use sha2::{Digest, Sha256};

/// One step (or input) of the plan, before ids are computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepSpec {
    /// Unique name, `usr-image` or `extension:devtools`.
    pub name: String,
    /// What kind of step, part of its identity: `input`, `mkosi`, `systemd-repart`, ...
    pub kind: &'static str,
    /// The tool that runs it (`None` for inputs).
    pub tool: Option<&'static str>,
    /// The tool's arguments.
    pub args: Vec<String>,
    /// Parameters that make up its identity, besides its inputs.
    pub params: BTreeMap<String, String>,
    /// The names of the steps it needs.
    pub needs: Vec<String>,
    /// What it produces (paths relative to the build directory).
    pub outputs: Vec<String>,
}

/// A step with its id, in topological order in [`Plan::steps`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub spec: StepSpec,
    /// SHA-256 (hex) of the kind, the name, the parameters and the ids of the inputs.
    pub id: String,
}

/// The ordered, content-addressed plan.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Each step's position in `steps`, by name: a step with thousands of needs (the check of
    /// every extension) looks each up once, not by scanning.
    by_name: HashMap<String, usize>,
}

/// Why steps cannot form a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraphError {
    /// Steps that need each other, in order, the first repeated at the end.
    Cycle(Vec<String>),
    /// A step needs something no step produces.
    Missing { step: String, needs: String },
}

impl std::fmt::Display for GraphError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GraphError::Cycle(path) => {
                write!(f, "the build steps form a cycle: {}", path.join(" → "))
            }
            GraphError::Missing { step, needs } => {
                write!(f, "step `{step}` needs `{needs}`, which no step produces")
            }
        }
    }
}

impl std::error::Error for GraphError {}

impl Plan {
    /// Orders `specs` (added to the graph in the order given, which the caller keeps sorted) and
    /// computes every id.
    ///
    /// # Errors
    /// A cycle, or a step that needs something no step produces.
    pub fn new(specs: &[StepSpec]) -> Result<Plan, GraphError> {
        let mut graph: DiGraph<usize, ()> = DiGraph::new();
        let nodes: Vec<NodeIndex> = (0..specs.len()).map(|i| graph.add_node(i)).collect();
        let index: HashMap<&str, usize> = specs
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str(), i))
            .collect();
        for (i, spec) in specs.iter().enumerate() {
            for need in &spec.needs {
                let Some(&j) = index.get(need.as_str()) else {
                    return Err(GraphError::Missing {
                        step: spec.name.clone(),
                        needs: need.clone(),
                    });
                };
                graph.add_edge(nodes[j], nodes[i], ());
            }
        }
        let order = toposort(&graph, None).map_err(|cycle| {
            GraphError::Cycle(cycle_path(specs, &index, graph[cycle.node_id()]))
        })?;
        let mut ids: Vec<Option<String>> = vec![None; specs.len()];
        let mut steps = Vec::with_capacity(specs.len());
        for node in order {
            let i = graph[node];
            let spec = &specs[i];
            let inputs: Vec<&str> = spec
                .needs
                .iter()
                .filter_map(|n| index.get(n.as_str()).and_then(|&j| ids[j].as_deref()))
                .collect();
            let id = step_id(spec, &inputs);
            ids[i] = Some(id.clone());
            steps.push(Step {
                spec: spec.clone(),
                id,
            });
        }
        let by_name = steps
            .iter()
            .enumerate()
            .map(|(i, s)| (s.spec.name.clone(), i))
            .collect();
        Ok(Plan { steps, by_name })
    }

    /// The step called `name`.
    #[must_use]
    pub fn step(&self, name: &str) -> Option<&Step> {
        self.by_name.get(name).and_then(|&i| self.steps.get(i))
    }
}

/// SHA-256 over the kind, the name, each `key=value` parameter and each input id.
fn step_id(spec: &StepSpec, inputs: &[&str]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(spec.kind.as_bytes());
    hasher.update([0]);
    hasher.update(spec.name.as_bytes());
    hasher.update([0]);
    for (key, value) in &spec.params {
        hasher.update(key.as_bytes());
        hasher.update([b'=']);
        hasher.update(value.as_bytes());
        hasher.update([0]);
    }
    let mut sorted: Vec<&str> = inputs.to_vec();
    sorted.sort_unstable();
    for input in sorted {
        hasher.update(input.as_bytes());
        hasher.update([0]);
    }
    crate::digest::hex(&hasher.finalize())
}

/// A cycle through `start`, following `needs`, as names.
fn cycle_path(specs: &[StepSpec], index: &HashMap<&str, usize>, start: usize) -> Vec<String> {
    let mut path = vec![start];
    let mut seen = vec![false; specs.len()];
    let mut at = start;
    loop {
        let next = specs[at]
            .needs
            .iter()
            .filter_map(|n| index.get(n.as_str()).copied())
            .find(|&j| j == start || (!seen[j] && reaches(specs, index, j, start)));
        match next {
            Some(j) if j == start => {
                path.push(start);
                break;
            }
            Some(j) => {
                seen[j] = true;
                path.push(j);
                at = j;
            }
            None => break,
        }
    }
    path.into_iter().map(|i| specs[i].name.clone()).collect()
}

/// Whether `from` needs `to`, directly or not.
fn reaches(specs: &[StepSpec], index: &HashMap<&str, usize>, from: usize, to: usize) -> bool {
    let mut stack = vec![from];
    let mut seen = vec![false; specs.len()];
    while let Some(i) = stack.pop() {
        if i == to {
            return true;
        }
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        stack.extend(
            specs[i]
                .needs
                .iter()
                .filter_map(|n| index.get(n.as_str()).copied()),
        );
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, needs: &[&str]) -> StepSpec {
        StepSpec {
            name: name.to_owned(),
            kind: "test",
            tool: None,
            args: Vec::new(),
            params: BTreeMap::new(),
            needs: needs.iter().map(|n| (*n).to_owned()).collect(),
            outputs: Vec::new(),
        }
    }

    #[test]
    fn orders_and_hashes() {
        let plan =
            Plan::new(&[spec("c", &["b"]), spec("a", &[]), spec("b", &["a"])]).expect("a plan");
        let names: Vec<&str> = plan.steps.iter().map(|s| s.spec.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert!(plan.steps.iter().all(|s| s.id.len() == 64));
    }

    #[test]
    fn a_changed_input_changes_everything_downstream_only() {
        let base = Plan::new(&[spec("a", &[]), spec("b", &["a"]), spec("c", &[])]).expect("a plan");
        let mut changed_a = spec("a", &[]);
        changed_a.params.insert("size".into(), "2".into());
        let changed = Plan::new(&[changed_a, spec("b", &["a"]), spec("c", &[])]).expect("a plan");
        let differs = |n: &str| base.step(n).map(|s| &s.id) != changed.step(n).map(|s| &s.id);
        assert!(differs("a") && differs("b") && !differs("c"));
    }

    #[test]
    fn cycles_are_reported_whole_and_gaps_by_name() {
        let cycle = Plan::new(&[spec("a", &["c"]), spec("b", &["a"]), spec("c", &["b"])])
            .expect_err("a cycle");
        let GraphError::Cycle(path) = cycle else {
            panic!("a cycle")
        };
        assert_eq!(path.len(), 4);
        assert_eq!(path.first(), path.last());
        let missing = Plan::new(&[spec("a", &["nothing"])]).expect_err("a gap");
        assert_eq!(
            missing,
            GraphError::Missing {
                step: "a".into(),
                needs: "nothing".into()
            }
        );
    }
}
