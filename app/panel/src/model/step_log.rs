//! The step log: a row per step and per closed part, newest first, and the
//! last closed part's summary.

use std::collections::VecDeque;
use std::fmt::Write as _;

use actrec_ipc::event::{EngineEvent, PartSummary, StepEvent, StepStatus};

use super::{Tone, VerdictLook, display_label, fold_labels, format_clock};

/// Rows the step log keeps; older ones scroll away.
pub const LOG_CAPACITY: usize = 200;

/// One row of the step log, as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRow {
    pub time: String,
    pub part: String,
    pub step: String,
    pub status: String,
    pub confidence: String,
    pub tone: Tone,
}

impl LogRow {
    fn step(event: &StepEvent) -> Self {
        let (status, tone) = match event.status {
            StepStatus::Ok => ("ok".to_owned(), Tone::Ok),
            StepStatus::Error if event.expected.is_empty() => ("WRONG".to_owned(), Tone::Error),
            StepStatus::Error => (format!("WRONG, expected {}", fold_labels(&event.expected)), Tone::Error),
        };
        Self {
            time: format_clock(event.t),
            part: event.part.to_string(),
            step: display_label(&event.step),
            status,
            confidence: format!("{:.0} %", (event.p * 100.0).clamp(0.0, 100.0)),
            tone,
        }
    }

    fn part(event: &PartSummary) -> Self {
        let mut status = event.verdict.word().to_owned();
        if !event.missing.is_empty() {
            let _ = write!(status, ": missing {}", fold_labels(&event.missing));
        }
        Self {
            time: format_clock(event.t),
            part: event.part.to_string(),
            step: "closed".to_owned(),
            status,
            confidence: String::new(),
            tone: event.verdict.tone(),
        }
    }
}

/// The step log: newest first, at most `capacity` rows, and the last closed
/// part's summary, shown apart from the rows until the next part closes.
#[derive(Debug, Clone)]
pub struct StepLog {
    rows: VecDeque<LogRow>,
    capacity: usize,
    last_part: Option<PartSummary>,
}

impl StepLog {
    pub fn new(capacity: usize) -> Self {
        Self {
            rows: VecDeque::new(),
            capacity: capacity.max(1),
            last_part: None,
        }
    }

    /// Takes an event; true when the log changed.
    pub fn apply(&mut self, event: &EngineEvent) -> bool {
        let row = match event {
            EngineEvent::Step(step) => LogRow::step(step),
            EngineEvent::Part(part) => {
                self.last_part = Some(part.clone());
                LogRow::part(part)
            }
            _ => return false,
        };
        self.rows.push_front(row);
        self.rows.truncate(self.capacity);
        true
    }

    /// Newest first.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = &LogRow> {
        self.rows.iter()
    }

    pub fn last_part(&self) -> Option<&PartSummary> {
        self.last_part.as_ref()
    }

    pub fn clear(&mut self) {
        self.rows.clear();
        self.last_part = None;
    }
}

#[cfg(test)]
mod tests {
    use actrec_ipc::event::{Verdict, Warning};

    use super::*;
    use crate::model::part_summary;
    use crate::model::test_events::{other, step};

    #[test]
    fn the_step_log_is_newest_first_capped_and_highlights_errors() {
        let mut log = StepLog::new(3);
        assert!(log.apply(&step(1.0, 1, "base", true)));
        assert!(!log.apply(&EngineEvent::Warning(Warning {
            t: 1.5,
            label: "x".into(),
            p: 0.2
        })));
        assert!(!log.apply(&other()));
        let mut wrong = StepEvent {
            t: 2.5,
            part: 1,
            step: "spacer_washer".into(),
            p: 0.934,
            status: StepStatus::Error,
            expected: vec!["greased_disk".into(), "nut".into()],
        };
        assert!(log.apply(&EngineEvent::Step(wrong.clone())));
        let rows: Vec<_> = log.rows().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0],
            &LogRow {
                time: "0:02.5".into(),
                part: "1".into(),
                step: "spacer washer".into(),
                status: "WRONG, expected greased disk, nut".into(),
                confidence: "93 %".into(),
                tone: Tone::Error,
            }
        );
        assert_eq!(rows[1].tone, Tone::Ok);
        assert_eq!(rows[1].status, "ok");
        wrong.expected.clear();
        log.apply(&EngineEvent::Step(wrong));
        assert_eq!(log.rows().next().map(|r| r.status.as_str()), Some("WRONG"));
        for i in 0..10 {
            log.apply(&step(10.0 + f64::from(i), 2, "nut", true));
        }
        assert_eq!(log.rows().len(), 3, "capped");
        assert_eq!(
            log.rows().next().map(|r| r.time.as_str()),
            Some("0:19.0"),
            "newest first"
        );
        log.clear();
        assert_eq!(log.rows().len(), 0);
    }

    #[test]
    fn a_closed_part_shows_what_it_missed() {
        let mut log = StepLog::new(LOG_CAPACITY);
        assert!(log.last_part().is_none());
        let part = PartSummary {
            t: 40.1,
            part: 4,
            verdict: Verdict::Reject,
            missing: vec!["spacer_washer".into(), "nut".into(), "spacer_washer".into()],
            errors: 1,
        };
        log.apply(&EngineEvent::Part(part.clone()));
        assert_eq!(log.last_part(), Some(&part));
        assert_eq!(
            part_summary(&part),
            "Part 4 REJECT: missing spacer washer ×2, nut; 1 wrong step"
        );
        let row = log.rows().next().expect("a row");
        assert_eq!(row.status, "REJECT: missing spacer washer ×2, nut");
        assert_eq!(row.tone, Tone::Reject);
        assert_eq!(row.step, "closed");

        let pass = PartSummary {
            t: 80.0,
            part: 5,
            verdict: Verdict::Pass,
            missing: vec![],
            errors: 0,
        };
        log.apply(&EngineEvent::Part(pass.clone()));
        assert_eq!(part_summary(&pass), "Part 5 PASS");
        assert_eq!(log.last_part().map(|p| p.part), Some(5), "the newest closed part");
        let incomplete = PartSummary {
            verdict: Verdict::Incomplete,
            errors: 3,
            ..pass
        };
        assert_eq!(part_summary(&incomplete), "Part 5 INCOMPLETE: 3 wrong steps");
        assert_eq!(Verdict::Incomplete.tone(), Tone::Warning);
    }
}
