//! The sequence checker: decides, step by step, whether a part is being built
//! as its definition says, and gives each closed part its verdict.
//!
//! It is an online alignment. The definition is multiplied out into a step
//! graph (see `graph.rs`); for every observed step occurrence the checker keeps,
//! for every graph state, the cheapest explanation of the part so far. An
//! explanation is built from three moves:
//!
//! - *match*: the occurrence is the step on an edge out of the state (free);
//! - *skip*: a step of the definition was never done (one for a required step,
//!   free for an optional one); skipped required steps are what goes *missing*;
//! - *insert*: the occurrence is not part of the sequence at all (one; an *error*).
//!
//! Ties go to fewer inserts, so a lone unexpected step that the definition
//! expects a little later is read as "the steps in between were skipped".
//! Because every explanation is kept, the checker re-synchronises by itself:
//! one extra step costs one error and the steps after it match again; one
//! skipped step goes missing once and the steps after it match again; two
//! swapped steps cost an error.
//!
//! Rules for step events (sent at once, never revised):
//! - a step is `error` when the cheapest explanation so far inserts it, or when
//!   that explanation holds more inserts than errors were already sent (the
//!   step revealed that an earlier one was out of place, as in a swap);
//!   `expected` then lists what would have been accepted instead;
//! - otherwise it is `ok`.
//!
//! Rules for parts:
//! - a part opens with the first occurrence while none is open;
//! - it closes when `final_step` is observed (verdict `pass` with no errors and
//!   nothing missing, else `reject`);
//! - it also closes, as `reject` with what it lacks, when the opening step
//!   appears while the part has already accepted a step;
//! - at the end of input an open part is reported as `incomplete`;
//! - `missing` comes from the cheapest explanation of the whole part; a step
//!   that was done but out of order counts as an error, not as missing.
//! - a part that runs past [`MAX_PART_OCCURRENCES`] is closed as `reject`, so
//!   that a station left running with a confused model keeps bounded memory.

use serde::{Deserialize, Serialize};

use super::definition::Definition;
use super::graph::Graph;
use crate::event::{Event, PartSummary, StepEvent, StepStatus, Verdict};

/// Occurrences one part may hold before it is force-closed.
pub const MAX_PART_OCCURRENCES: usize = 2000;

/// Where an open part stands in its sequence: the checker's answer, and the
/// `progress` of the panel's status snapshot (`actrec_ipc::Status`), whose
/// JSON is this type's serde form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Required steps done, and how many the sequence requires.
    pub done: u32,
    pub total: u32,
    /// In a repeated group: the round being done (from 1), of how many.
    pub repeat: Option<(u32, u32)>,
}

/// A step occurrence, as produced by the step decoder.
#[derive(Debug, Clone, PartialEq)]
pub struct Occurrence {
    pub t: f64,
    pub label: String,
    pub p: f64,
}

/// Explanation cost, compared by total first and then by inserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Cost {
    total: u32,
    inserts: u32,
}

const UNREACHABLE: Cost = Cost {
    total: u32::MAX,
    inserts: u32::MAX,
};

impl Cost {
    fn plus(self, total: u32, inserts: u32) -> Cost {
        Cost {
            total: self.total.saturating_add(total),
            inserts: self.inserts.saturating_add(inserts),
        }
    }
}

/// How a state's cheapest explanation was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Back {
    Start,
    Insert,
    Match(u32),
    Skip(u32),
}

/// Cheapest explanations after a number of occurrences.
#[derive(Debug, Clone)]
struct Layer {
    cost: Vec<Cost>,
    back: Vec<Back>,
}

#[derive(Debug)]
struct Part {
    number: u32,
    layers: Vec<Layer>,
    labels: Vec<String>,
    errors_sent: u32,
    accepted_any: bool,
}

/// Checks step occurrences against one sequence definition.
#[derive(Debug)]
pub struct Checker {
    graph: Graph,
    opening_step: String,
    final_step: String,
    last_part: u32,
    part: Option<Part>,
}

impl Checker {
    pub fn new(definition: &Definition) -> Self {
        Self {
            graph: Graph::build(definition),
            opening_step: definition.opening_step().to_owned(),
            final_step: definition.final_step.clone(),
            last_part: 0,
            part: None,
        }
    }

    /// A checker for another definition that goes on numbering parts after
    /// this one's, for a sequence change between parts.
    pub fn successor(&self, definition: &Definition) -> Self {
        Self {
            last_part: self.last_part,
            ..Self::new(definition)
        }
    }

    /// The number of the part now open, if any.
    pub fn open_part(&self) -> Option<u32> {
        self.part.as_ref().map(|p| p.number)
    }

    /// The steps the open part accepts next without an error (the opening step when no part is open).
    pub fn expected_next(&self) -> Vec<String> {
        match &self.part {
            Some(part) => acceptable_labels(&self.graph, &part.layers[part.layers.len() - 1]),
            None => vec![self.opening_step.clone()],
        }
    }

    /// Where the open part stands, by its cheapest explanation so far.
    pub fn progress(&self) -> Option<Progress> {
        let part = self.part.as_ref()?;
        let node = cheapest(&part.layers[part.layers.len() - 1]);
        Some(Progress {
            done: self.graph.done[node],
            total: self.graph.done[self.graph.accept()],
            // The graph counts rounds complete; the operator reads the round under way,
            // which stays at the last once every round is complete.
            repeat: self.graph.rounds[node].map(|(complete, all)| ((complete + 1).min(all), all)),
        })
    }

    /// Checks one occurrence; returns the events it causes, in order.
    pub fn observe(&mut self, occurrence: &Occurrence) -> Vec<Event> {
        let mut events = Vec::new();
        let must_close = self.part.as_ref().is_some_and(|part| {
            (occurrence.label == self.opening_step && part.accepted_any) || part.labels.len() >= MAX_PART_OCCURRENCES
        });
        if must_close {
            events.extend(self.close(occurrence.t, Verdict::Reject).map(Event::Part));
        }
        if self.part.is_none() {
            self.last_part += 1;
        }
        let number = self.last_part;
        let graph = &self.graph;
        let part = self.part.get_or_insert_with(|| Part {
            number,
            layers: vec![initial_layer(graph)],
            labels: Vec::new(),
            errors_sent: 0,
            accepted_any: false,
        });
        let is_final = occurrence.label == self.final_step;
        events.push(Event::Step(check_step(graph, part, occurrence, is_final)));
        if is_final {
            events.extend(self.close(occurrence.t, Verdict::Pass).map(Event::Part));
        }
        events
    }

    /// Ends the input: an open part is reported as incomplete.
    pub fn finish(&mut self, t: f64) -> Option<PartSummary> {
        self.close(t, Verdict::Incomplete)
    }

    /// Closes the open part. `Pass` means "pass if nothing is wrong".
    fn close(&mut self, t: f64, verdict: Verdict) -> Option<PartSummary> {
        let part = self.part.take()?;
        let (mut missing, inserted) = explain(&self.graph, &part);
        for label in &inserted {
            // Done, but out of order: already an error, so not also missing.
            if let Some(i) = missing.iter().position(|m| m == label) {
                missing.remove(i);
            }
        }
        let errors = part.errors_sent.max(u32::try_from(inserted.len()).unwrap_or(u32::MAX));
        let verdict = match verdict {
            Verdict::Pass if errors == 0 && missing.is_empty() => Verdict::Pass,
            Verdict::Pass => Verdict::Reject,
            other => other,
        };
        Some(PartSummary {
            t,
            part: part.number,
            verdict,
            missing,
            errors,
        })
    }
}

fn initial_layer(graph: &Graph) -> Layer {
    let n = graph.node_count;
    let mut layer = Layer {
        cost: vec![UNREACHABLE; n],
        back: vec![Back::Start; n],
    };
    layer.cost[0] = Cost { total: 0, inserts: 0 };
    close_skips(graph, &mut layer);
    layer
}

/// Matches one occurrence into the open part and decides its status.
fn check_step(graph: &Graph, part: &mut Part, occurrence: &Occurrence, is_final: bool) -> StepEvent {
    // A part always holds its initial layer, so there is a previous one.
    let prev = &part.layers[part.layers.len() - 1];
    let next = advance(graph, prev, graph.label_id(&occurrence.label));
    // The final step closes the part, so judge it where the part ends.
    let target = if is_final { graph.accept() } else { cheapest(&next) };
    let inserted = matches!(role(graph, &next, target), Back::Insert);
    let status = if inserted || next.cost[target].inserts > part.errors_sent {
        StepStatus::Error
    } else {
        StepStatus::Ok
    };
    let expected = match status {
        StepStatus::Error => acceptable_labels(graph, prev),
        StepStatus::Ok => Vec::new(),
    };
    match status {
        StepStatus::Error => part.errors_sent += 1,
        StepStatus::Ok => part.accepted_any = true,
    }
    part.layers.push(next);
    part.labels.push(occurrence.label.clone());
    StepEvent {
        t: occurrence.t,
        part: part.number,
        step: occurrence.label.clone(),
        p: occurrence.p,
        status,
        expected,
    }
}

/// The layer after one more occurrence (`label` is `None` for a step the definition lacks).
fn advance(graph: &Graph, prev: &Layer, label: Option<usize>) -> Layer {
    let mut layer = Layer {
        cost: prev.cost.iter().map(|c| c.plus(1, 1)).collect(),
        back: vec![Back::Insert; graph.node_count],
    };
    if let Some(label) = label {
        for (i, edge) in graph.edges.iter().enumerate().filter(|(_, e)| e.label == label) {
            let cost = prev.cost[edge.from];
            if cost < layer.cost[edge.to] {
                layer.cost[edge.to] = cost;
                layer.back[edge.to] = Back::Match(edge_index(i));
            }
        }
    }
    close_skips(graph, &mut layer);
    layer
}

/// Relaxes skip moves; edges are sorted by source and point forward, so one pass suffices.
fn close_skips(graph: &Graph, layer: &mut Layer) {
    for (i, edge) in graph.edges.iter().enumerate() {
        let cost = layer.cost[edge.from].plus(u32::from(edge.required), 0);
        if cost < layer.cost[edge.to] {
            layer.cost[edge.to] = cost;
            layer.back[edge.to] = Back::Skip(edge_index(i));
        }
    }
}

fn edge_index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// The state with the cheapest explanation; ties go to the furthest state.
fn cheapest(layer: &Layer) -> usize {
    let mut best = 0;
    for (node, cost) in layer.cost.iter().enumerate() {
        if *cost <= layer.cost[best] {
            best = node;
        }
    }
    best
}

/// What the latest occurrence did in the explanation ending at `node`.
fn role(graph: &Graph, layer: &Layer, mut node: usize) -> Back {
    loop {
        match layer.back[node] {
            Back::Skip(edge) => node = graph.edges[edge as usize].from,
            other => return other,
        }
    }
}

/// Steps acceptable at no cost from the cheapest states of `layer`, in graph order.
fn acceptable_labels(graph: &Graph, layer: &Layer) -> Vec<String> {
    let best = layer.cost.iter().min().copied().unwrap_or(UNREACHABLE);
    let mut out: Vec<String> = Vec::new();
    for edge in graph.edges.iter().filter(|e| layer.cost[e.from] == best) {
        let label = &graph.labels[edge.label];
        if !out.contains(label) {
            out.push(label.clone());
        }
    }
    out
}

/// Walks the cheapest explanation of the whole part back from its end:
/// returns (required steps skipped, in sequence order; occurrences inserted).
fn explain(graph: &Graph, part: &Part) -> (Vec<String>, Vec<String>) {
    let mut missing = Vec::new();
    let mut inserted = Vec::new();
    let mut step = part.layers.len() - 1;
    let mut node = graph.accept();
    loop {
        match part.layers[step].back[node] {
            Back::Start => break,
            Back::Skip(edge) => {
                let edge = graph.edges[edge as usize];
                if edge.required {
                    missing.push(graph.labels[edge.label].clone());
                }
                node = edge.from;
            }
            Back::Match(edge) => {
                node = graph.edges[edge as usize].from;
                step -= 1;
            }
            Back::Insert => {
                inserted.push(part.labels[step - 1].clone());
                step -= 1;
            }
        }
    }
    missing.reverse();
    inserted.reverse();
    (missing, inserted)
}
