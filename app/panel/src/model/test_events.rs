//! Events for the model's tests.

use actrec_ipc::event::{EngineEvent, MediaEvent, PartSummary, StepEvent, StepStatus, Verdict};

pub fn step(t: f64, part: u32, name: &str, ok: bool) -> EngineEvent {
    EngineEvent::Step(StepEvent {
        t,
        part,
        step: name.to_owned(),
        p: 0.9,
        status: if ok { StepStatus::Ok } else { StepStatus::Error },
        expected: Vec::new(),
    })
}

pub fn closed(t: f64, part: u32, verdict: Verdict, missing: &[&str]) -> EngineEvent {
    EngineEvent::Part(PartSummary {
        t,
        part,
        verdict,
        missing: missing.iter().map(|s| (*s).to_owned()).collect(),
        errors: 0,
    })
}

/// An event that neither the log, the chart nor the export tracker takes.
pub fn other() -> EngineEvent {
    EngineEvent::Media(MediaEvent::SourceRestored {
        source: "camera-1".into(),
    })
}
