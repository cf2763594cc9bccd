//! What the station concludes: warnings, checked steps and closed parts.
//!
//! These are the events every consumer sees in the same order: `actrec check`
//! prints them, and the live engine sends them to the actuators, the audit log,
//! the video overlay and the panel.

use serde::Serialize;

/// A window whose top-1 probability was below `min_confidence`.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub t: f64,
    pub label: String,
    pub p: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Ok,
    Error,
}

/// One step occurrence, matched against the part's sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct StepEvent {
    /// Time of the first window of the occurrence, in seconds of stream time.
    pub t: f64,
    pub part: u32,
    pub step: String,
    /// Mean confidence of the windows that made up the occurrence.
    pub p: f64,
    pub status: StepStatus,
    /// On an error: the steps that would have been accepted instead.
    pub expected: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Reject,
    /// The input ended while the part was still open.
    Incomplete,
}

/// A closed part.
#[derive(Debug, Clone, PartialEq)]
pub struct PartSummary {
    pub t: f64,
    pub part: u32,
    pub verdict: Verdict,
    /// Every expected step occurrence never done, in sequence order, repeats counted.
    pub missing: Vec<String>,
    pub errors: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Warning(Warning),
    Step(StepEvent),
    Part(PartSummary),
}
