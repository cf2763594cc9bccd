//! What the station concludes: warnings, checked steps and closed parts.
//!
//! These are the events every consumer sees in the same order: `actrec check`
//! prints them, and the live engine sends them to the actuators, the audit log,
//! the video overlay and the panel.
//!
//! Their serde form is the wire form of `actrec-ipc`'s `EngineEvent`, so
//! that the engine, `actrec check` and the panel share one type per concept.

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

/// A window whose top-1 probability was below `min_confidence`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    pub t: f64,
    pub label: String,
    pub p: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Ok,
    Error,
}

/// One step occurrence, matched against the part's sequence.
///
/// Serialised by hand: `expected` is written on an error only (even when
/// empty), as `actrec check` has always written it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StepEvent {
    /// Time of the first window of the occurrence, in seconds of stream time.
    pub t: f64,
    pub part: u32,
    pub step: String,
    /// Mean confidence of the windows that made up the occurrence.
    pub p: f64,
    pub status: StepStatus,
    /// On an error: the steps that would have been accepted instead.
    #[serde(default)]
    pub expected: Vec<String>,
}

impl Serialize for StepEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let on_error = self.status == StepStatus::Error;
        let mut out = serializer.serialize_struct("StepEvent", 5 + usize::from(on_error))?;
        out.serialize_field("t", &self.t)?;
        out.serialize_field("part", &self.part)?;
        out.serialize_field("step", &self.step)?;
        out.serialize_field("p", &self.p)?;
        out.serialize_field("status", &self.status)?;
        if on_error {
            out.serialize_field("expected", &self.expected)?;
        } else {
            out.skip_field("expected")?;
        }
        out.end()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Reject,
    /// The input ended while the part was still open.
    Incomplete,
}

/// A closed part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
