//! The panel's own state, apart from Slint: the step log, the cycle-time
//! chart, the export's progress, the indicator and the texts the screen
//! shows. Pure (no window, no socket), so it is tested on its own.
//!
//! The engine's events come in as the contract's
//! [`EngineEvent`](actrec_ipc::EngineEvent), decoded by the controller with
//! [`EngineEvent::parse`](actrec_ipc::EngineEvent::parse); the panel keeps
//! no copy of their types.
//!
//! One job per file:
//! - `step_log`: [`StepLog`], a row per step and closed part;
//! - `cycle_chart`: [`CycleChart`], the last parts' cycle times;
//! - `export_tracker`: [`ExportTracker`], the export button and its strip;
//! - `indicator`: [`indicator`], the big status block;
//! - `sequence_progress`: [`progress`], the next steps and steps done;
//! - `texts`: how labels, clocks, uptimes, closed parts and the info page read;
//! - `tone`: [`Tone`], the colours, and [`VerdictLook`], how a verdict is shown.

mod cycle_chart;
mod export_tracker;
mod indicator;
mod sequence_progress;
mod step_log;
#[cfg(test)]
mod test_events;
mod texts;
mod tone;

pub use cycle_chart::{Bar, CHART_PARTS, CycleChart, PALETTE, Segment};
pub use export_tracker::{ExportPhase, ExportTracker, ExportView};
pub use indicator::{Indicator, indicator};
pub use sequence_progress::{ProgressView, progress};
pub use step_log::{LOG_CAPACITY, LogRow, StepLog};
pub use texts::{display_label, fold_labels, format_clock, format_uptime, info_rows, part_summary};
pub use tone::{Tone, VerdictLook};

#[cfg(test)]
mod tests {
    //! The engine's events through the panel's decoder.

    use actrec_ipc::Decoded;
    use actrec_ipc::event::{EngineEvent, FaultKind, MediaEvent, PartSummary, StepEvent, StepStatus, Verdict, Warning};
    use serde_json::json;

    use super::*;

    #[test]
    fn events_of_every_kind_are_parsed() {
        let cases = [
            (
                json!({"kind":"step","t":12.3,"part":4,"step":"spacer","p":0.93,"status":"error","expected":["greased_disk"]}),
                EngineEvent::Step(StepEvent {
                    t: 12.3,
                    part: 4,
                    step: "spacer".into(),
                    p: 0.93,
                    status: StepStatus::Error,
                    expected: vec!["greased_disk".into()],
                }),
            ),
            (
                json!({"kind":"step","t":1.0,"part":1,"step":"base","p":0.5,"status":"ok"}),
                EngineEvent::Step(StepEvent {
                    t: 1.0,
                    part: 1,
                    step: "base".into(),
                    p: 0.5,
                    status: StepStatus::Ok,
                    expected: vec![],
                }),
            ),
            (
                json!({"kind":"part","t":40.1,"part":4,"verdict":"reject","missing":["spacer_washer"],"errors":1}),
                EngineEvent::Part(PartSummary {
                    t: 40.1,
                    part: 4,
                    verdict: Verdict::Reject,
                    missing: vec!["spacer_washer".into()],
                    errors: 1,
                }),
            ),
            (
                json!({"kind":"warning","t":3.0,"label":"nut","p":0.41}),
                EngineEvent::Warning(Warning {
                    t: 3.0,
                    label: "nut".into(),
                    p: 0.41,
                }),
            ),
            (
                json!({"kind":"fault","fault":"no_video","active":true}),
                EngineEvent::Fault {
                    fault: FaultKind::NoVideo,
                    active: true,
                },
            ),
            (
                // Fields a newer engine adds are passed by.
                json!({"kind":"acknowledged","reject_was_waiting":true,"part":4,"by":"pin"}),
                EngineEvent::Acknowledged {
                    reject_was_waiting: true,
                },
            ),
            (
                json!({"kind":"export_started","to":"/media/usb0"}),
                EngineEvent::ExportStarted {
                    to: "/media/usb0".into(),
                },
            ),
            (
                json!({"kind":"export_progress","phase":"rows","done":10,"total":100}),
                EngineEvent::ExportProgress {
                    phase: "rows".into(),
                    done: 10,
                    total: 100,
                },
            ),
            (
                json!({"kind":"export_done","folder":"/media/usb0/actrec-1","rows":7,"parts":2,"head":"9f2c","safe_to_remove":true}),
                EngineEvent::ExportDone {
                    folder: "/media/usb0/actrec-1".into(),
                    rows: 7,
                    parts: 2,
                    head: "9f2c".into(),
                    safe_to_remove: true,
                },
            ),
            (
                json!({"kind":"export_failed","error":"disk full"}),
                EngineEvent::ExportFailed {
                    error: "disk full".into(),
                },
            ),
            (
                json!({"kind":"source_switched","from":"cam1","to":"cam2"}),
                EngineEvent::Media(MediaEvent::SourceSwitched {
                    from: "cam1".into(),
                    to: "cam2".into(),
                }),
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(
                EngineEvent::parse(&value).expect("parses"),
                Decoded::Event(expected),
                "{value}"
            );
        }
        // Kinds a later engine adds.
        let value = json!({"kind":"something_new","x":[1,2]});
        assert_eq!(
            EngineEvent::parse(&value).expect("parses"),
            Decoded::Unknown {
                kind: "something_new".into()
            },
            "{value}"
        );
    }

    #[test]
    fn a_malformed_event_is_an_error_naming_its_kind() {
        let err = EngineEvent::parse(&json!({"kind":"step","t":1.0,"step":"base"})).expect_err("no part");
        assert_eq!(err.kind, "step");
        assert!(err.to_string().contains("part"), "{err}");
        let err = EngineEvent::parse(&json!({"t":1.0})).expect_err("no kind");
        assert_eq!(err.kind, "");
        assert!(EngineEvent::parse(&json!("text")).is_err());
        assert!(
            EngineEvent::parse(&json!({"kind":"step","t":"soon","part":1,"step":"a","p":1,"status":"ok"})).is_err()
        );
    }

    /// One line of each kind, as the engine writes it (the contract's golden file).
    const GOLDEN: &str = include_str!("../../../../tests/fixtures/golden/events.jsonl");

    #[test]
    fn every_kind_the_engine_writes_decodes_and_reaches_the_model() {
        let mut kinds = Vec::new();
        let mut log = StepLog::new(LOG_CAPACITY);
        let mut chart = CycleChart::new(CHART_PARTS);
        let mut export = ExportTracker::default();
        let (mut logged, mut exported) = (Vec::new(), Vec::new());
        for line in GOLDEN.lines() {
            let value: serde_json::Value = serde_json::from_str(line).expect("JSON");
            let event = match EngineEvent::parse(&value) {
                Ok(Decoded::Event(event)) => event,
                other => panic!("{line}: {other:?}"),
            };
            kinds.push(event.kind());
            if log.apply(&event) {
                logged.push(event.kind());
            }
            chart.apply(&event);
            if export.apply_event(&event) {
                exported.push(event.kind());
            }
        }
        for kind in EngineEvent::kinds() {
            assert!(kinds.contains(&kind), "the golden file lacks {kind}");
        }
        logged.dedup();
        exported.dedup();
        assert_eq!(logged, ["step", "part"]);
        assert_eq!(
            exported,
            ["export_started", "export_progress", "export_done", "export_failed"]
        );
    }
}
