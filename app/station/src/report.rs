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
        /// The step's confidence: the mean top-1 probability of its windows.
        p: f64,
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
                p: round3(s.p),
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

fn round3(p: f64) -> f64 {
    (p * 1000.0).round() / 1000.0
}

const GREEN: &str = "\x1b[1;32m";
const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const RESET: &str = "\x1b[0m";

/// One operator's log line: time, part, step, status, detail.
pub fn text(event: &Event, colour: bool) -> String {
    let paint = |code: &str, text: &str| {
        if colour {
            format!("{code}{text}{RESET}")
        } else {
            text.to_owned()
        }
    };
    match event {
        Event::Warning(w) => format!(
            "{}  {:<7} {:<16} {} p={:.2}  low confidence",
            clock(w.t),
            "",
            w.label,
            paint(YELLOW, "warning"),
            w.p
        ),
        Event::Step(s) => {
            let status = match s.status {
                StepStatus::Ok => "ok     ".to_owned(),
                StepStatus::Error => paint(RED, "ERROR  "),
            };
            let detail = match s.status {
                StepStatus::Ok => String::new(),
                StepStatus::Error => format!("expected {}", s.expected.join(" or ")),
            };
            format!(
                "{}  part {:<2} {:<16} {} p={:.2}  {}",
                clock(s.t),
                s.part,
                s.step,
                status,
                s.p,
                detail
            )
            .trim_end()
            .to_owned()
        }
        Event::Part(p) => {
            let verdict = match p.verdict {
                Verdict::Pass => paint(GREEN, "PASS"),
                Verdict::Reject => paint(RED, "REJECT"),
                Verdict::Incomplete => paint(YELLOW, "INCOMPLETE"),
            };
            let mut line = format!("{}  part {:<2} {verdict}", clock(p.t), p.part);
            if !p.missing.is_empty() {
                line.push_str(&format!("  missing: {}", p.missing.join(", ")));
            }
            if p.errors > 0 {
                line.push_str(&format!("  errors: {}", p.errors));
            }
            line
        }
    }
}

/// Stream time as hh:mm:ss.t.
fn clock(t: f64) -> String {
    let tenths = (t * 10.0).round() as u64;
    let seconds = tenths / 10;
    format!(
        "{:02}:{:02}:{:02}.{}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        tenths % 10
    )
}

#[cfg(test)]
mod tests {
    use super::clock;

    #[test]
    fn clock_shows_tenths() {
        assert_eq!(clock(0.0), "00:00:00.0");
        assert_eq!(clock(61.25), "00:01:01.3");
        assert_eq!(clock(3725.0), "01:02:05.0");
    }
}
