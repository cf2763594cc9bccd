//! The JSON lines every command writes for station events: the contract of
//! `actrec check`, also used by `actrec run`.

use actrec_core::event::{Event, StepStatus, Verdict};
use serde::Serialize;

/// One event, as one JSON object.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record<'a> {
    Warning {
        t: f64,
        label: &'a str,
        p: f64,
    },
    Step {
        t: f64,
        part: u32,
        step: &'a str,
        status: StepStatus,
        #[serde(skip_serializing_if = "Option::is_none")]
        expected: Option<&'a [String]>,
    },
    Part {
        t: f64,
        part: u32,
        verdict: Verdict,
        missing: &'a [String],
        errors: u32,
    },
}

impl<'a> From<&'a Event> for Record<'a> {
    fn from(event: &'a Event) -> Self {
        match event {
            Event::Warning(w) => Record::Warning {
                t: w.t,
                label: &w.label,
                p: w.p,
            },
            Event::Step(s) => Record::Step {
                t: s.t,
                part: s.part,
                step: &s.step,
                status: s.status,
                expected: (s.status == StepStatus::Error).then_some(s.expected.as_slice()),
            },
            Event::Part(p) => Record::Part {
                t: p.t,
                part: p.part,
                verdict: p.verdict,
                missing: &p.missing,
                errors: p.errors,
            },
        }
    }
}
