//! Sequence definitions and the checker that holds observed steps against them.

mod checker;
mod definition;
mod graph;

pub use checker::{Checker, MAX_PART_OCCURRENCES, Occurrence, Progress};
pub use definition::{Definition, Element, MAX_ANY_ORDER, MAX_GRAPH_NODES, MAX_REPEAT};

#[cfg(test)]
mod tests;
