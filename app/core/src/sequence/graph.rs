//! The step graph: a definition multiplied out into states and labelled edges.
//!
//! Node 0 is the start of a part and the last node is "final step done". Every
//! edge goes from a lower to a higher node, so visiting nodes in index order is
//! a topological order; the checker relies on that.

use super::definition::{Definition, Element};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Edge {
    pub from: usize,
    pub to: usize,
    pub label: usize,
    /// Leaving out a required step costs one; an optional step costs nothing.
    pub required: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Graph {
    pub node_count: usize,
    /// Sorted by `from`.
    pub edges: Vec<Edge>,
    /// Interned labels; `Edge::label` indexes this.
    pub labels: Vec<String>,
    /// Per node: required steps done on any path from the start (every path
    /// to a node holds the same required steps).
    pub done: Vec<u32>,
    /// Per node: in the innermost repeated group, the rounds complete and the rounds in all.
    pub rounds: Vec<Option<(u32, u32)>>,
}

impl Graph {
    pub fn build(definition: &Definition) -> Self {
        let mut graph = Graph {
            node_count: 1,
            edges: Vec::new(),
            labels: definition.labels(),
            done: vec![0],
            rounds: vec![None],
        };
        graph.add_elements(&definition.steps, 0, None);
        graph.edges.sort_by_key(|e| e.from);
        graph
    }

    pub fn accept(&self) -> usize {
        self.node_count - 1
    }

    pub fn label_id(&self, label: &str) -> Option<usize> {
        self.labels.iter().position(|l| l == label)
    }

    fn new_node(&mut self, rounds: Option<(u32, u32)>) -> usize {
        self.node_count += 1;
        self.done.push(0);
        self.rounds.push(rounds);
        self.node_count - 1
    }

    fn edge(&mut self, from: usize, to: usize, label: &str, required: bool) {
        self.done[to] = self.done[from] + u32::from(required);
        let label = self.label_id(label).unwrap_or_else(|| {
            self.labels.push(label.to_owned());
            self.labels.len() - 1
        });
        self.edges.push(Edge {
            from,
            to,
            label,
            required,
        });
    }

    /// Adds the elements after `start` and returns the node where they end.
    /// `rounds` is the enclosing repeated group's progress, for new nodes.
    fn add_elements(&mut self, elements: &[Element], start: usize, rounds: Option<(u32, u32)>) -> usize {
        elements.iter().fold(start, |at, element| match element {
            Element::Step(name) => {
                let next = self.new_node(rounds);
                self.edge(at, next, name, true);
                next
            }
            Element::Optional(names) => names.iter().fold(at, |at, name| {
                let next = self.new_node(rounds);
                self.edge(at, next, name, false);
                next
            }),
            Element::Repeat { count, steps } => (0..*count).fold(at, |at, round| {
                let end = self.add_elements(steps, at, Some((round, *count)));
                self.rounds[end] = Some((round + 1, *count));
                end
            }),
            Element::AnyOrder(names) => self.add_any_order(names, at, rounds),
        })
    }

    /// One node per subset of `names` already done; mask order is topological.
    fn add_any_order(&mut self, names: &[String], start: usize, rounds: Option<(u32, u32)>) -> usize {
        let full = (1usize << names.len()) - 1;
        let base = self.node_count;
        for _ in 0..full {
            self.new_node(rounds);
        }
        let node = |mask: usize| if mask == 0 { start } else { base + mask - 1 };
        for mask in 0..full {
            for (i, name) in names.iter().enumerate() {
                if mask & (1 << i) == 0 {
                    self.edge(node(mask), node(mask | (1 << i)), name, true);
                }
            }
        }
        node(full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_always_point_forward() {
        let def = Definition {
            name: "t".into(),
            final_step: "end".into(),
            steps: vec![
                Element::Step("start".into()),
                Element::Repeat {
                    count: 2,
                    steps: vec![Element::AnyOrder(vec!["a".into(), "b".into(), "c".into()])],
                },
                Element::Optional(vec!["x".into(), "y".into()]),
                Element::Step("end".into()),
            ],
        };
        let graph = Graph::build(&def);
        // start(1) + 2 × any_order of 3 (7 each) + 2 optional + end(1), plus node 0.
        assert_eq!(graph.node_count, 1 + 1 + 14 + 2 + 1);
        assert!(graph.edges.iter().all(|e| e.from < e.to));
        assert_eq!(graph.edges.iter().filter(|e| !e.required).count(), 2);
        assert_eq!(graph.edges.last().map(|e| e.to), Some(graph.accept()));
        // Optional steps do not count: start, 2 × 3, end.
        assert_eq!(graph.done[graph.accept()], 8);
        assert_eq!(graph.rounds[1], None);
        assert_eq!(graph.rounds[2], Some((0, 2)));
        assert_eq!(graph.rounds[1 + 7], Some((1, 2)));
        assert_eq!(graph.rounds[1 + 14], Some((2, 2)));
    }
}
