//! The event contract against the bytes the engine wrote before it existed
//! (`json!` literals in `actrec run`'s `out.rs`, `report::Record` for
//! warnings, steps and parts, and the media layer's `MediaEvent`):
//!
//! - every kind as `actrec run` prints it and the socket carries it: through a
//!   `serde_json::Value`, keys sorted (`tests/fixtures/golden/events.jsonl`,
//!   which the panel's tests decode too);
//! - the inspector's kinds as `actrec check` writes them: keys in declaration
//!   order, as `docs/SEQUENCES.md` shows;
//! - every kind read back by the decoder the panel uses, from the golden
//!   line and from a socket frame.

use std::path::PathBuf;

use actrec_core::event::Event;
use actrec_ipc::event::{
    Branch, EngineEvent, FaultKind, Lamp, Lights, MediaEvent, PartSummary, StepEvent, StepStatus, Verdict, Warning,
};
use actrec_ipc::{Decoded, Progress, ToClient, read_frame, write_frame};
use serde_json::json;

const GOLDEN: &str = include_str!("../../../tests/fixtures/golden/events.jsonl");

/// One event of every kind, in the golden file's order.
fn samples() -> Vec<EngineEvent> {
    vec![
        EngineEvent::Warning(Warning {
            t: 9.0,
            label: "greased_disk".into(),
            p: 0.38,
        }),
        EngineEvent::Step(StepEvent {
            t: 3.5,
            part: 1,
            step: "riveted_start".into(),
            p: 0.912,
            status: StepStatus::Ok,
            expected: vec![],
        }),
        EngineEvent::Step(StepEvent {
            t: 64.0,
            part: 1,
            step: "spacer".into(),
            p: 0.874,
            status: StepStatus::Error,
            expected: vec!["install_lid".into()],
        }),
        EngineEvent::Part(PartSummary {
            t: 78.0,
            part: 1,
            verdict: Verdict::Reject,
            missing: vec!["install_lid".into(), "press_down".into()],
            errors: 2,
        }),
        EngineEvent::Fault {
            fault: FaultKind::NoVideo,
            active: true,
        },
        EngineEvent::Outage { seconds: 12.5 },
        EngineEvent::Committed { part: 1, row: 42 },
        EngineEvent::Lights {
            lights: Lights {
                green: Lamp::Off,
                amber: Lamp::Off,
                red: Lamp::Blink,
                buzzer: Lamp::Steady,
            },
        },
        EngineEvent::Stick {
            path: "/media/usb0".into(),
            present: true,
        },
        EngineEvent::ExportStarted {
            to: "/media/usb0".into(),
        },
        EngineEvent::ExportProgress {
            phase: "rows".into(),
            done: 10,
            total: 100,
        },
        EngineEvent::ExportDone {
            folder: "/media/usb0/actrec-line3-20260105T101500Z".into(),
            rows: 7,
            parts: 3,
            head: "9f2c4e1a".into(),
            safe_to_remove: true,
        },
        EngineEvent::ExportFailed {
            error: "no space left on device".into(),
        },
        EngineEvent::Acknowledged {
            reject_was_waiting: true,
        },
        EngineEvent::Refused {
            command: "acknowledge".into(),
            reason: "wrong PIN: 4 tries left".into(),
        },
        EngineEvent::SequenceSelected {
            sequence: "gear-housing-bad".into(),
        },
        EngineEvent::Stopped {
            frames: 1800,
            display_frames: 1790,
        },
        EngineEvent::Media(MediaEvent::SourceStarted {
            source: "demo".into(),
            pipeline: "filesrc location=demo.mp4 ! decodebin".into(),
        }),
        EngineEvent::Media(MediaEvent::SourceLost {
            source: "camera".into(),
            reason: "no frame for 2000 ms".into(),
        }),
        EngineEvent::Media(MediaEvent::SourceRestored {
            source: "camera".into(),
        }),
        EngineEvent::Media(MediaEvent::SourceError {
            source: "camera".into(),
            message: "connection refused".into(),
        }),
        EngineEvent::Media(MediaEvent::SourceEnded { source: "demo".into() }),
        EngineEvent::Media(MediaEvent::SourceSwitched {
            from: "demo".into(),
            to: "camera".into(),
        }),
        EngineEvent::Media(MediaEvent::FramesDropped {
            source: "camera".into(),
            branch: Branch::Display,
            count: 3,
            total: 12,
        }),
        EngineEvent::Media(MediaEvent::OutputError {
            message: "no desktop session".into(),
        }),
        EngineEvent::from(MediaEvent::ClipWritten {
            part: 2,
            path: "/var/lib/actrec/clips/part-2.mp4".into(),
        }),
        EngineEvent::from(MediaEvent::ClipFailed {
            part: 2,
            message: "disk full".into(),
        }),
    ]
}

fn golden() -> Vec<(EngineEvent, &'static str)> {
    let lines: Vec<&str> = GOLDEN.lines().collect();
    let samples = samples();
    assert_eq!(samples.len(), lines.len(), "one sample per golden line");
    samples.into_iter().zip(lines).collect()
}

#[test]
fn every_kind_is_written_as_the_engine_wrote_it() {
    for (event, line) in golden() {
        let value = serde_json::to_value(&event).expect("serialises");
        assert_eq!(value.to_string(), line, "{}", event.kind());
        assert_eq!(value["kind"], event.kind());
        // On the socket: the same bytes inside the frame.
        let mut frame = Vec::new();
        write_frame(&mut frame, &ToClient::event(&event).expect("an event message")).expect("a frame");
        let body = std::str::from_utf8(&frame[4..]).expect("UTF-8");
        assert_eq!(body, format!(r#"{{"type":"event","event":{line}}}"#));
    }
}

#[test]
fn the_golden_file_holds_every_kind_once_at_least() {
    let kinds: Vec<&str> = samples().iter().map(EngineEvent::kind).collect();
    for kind in EngineEvent::kinds() {
        assert!(kinds.contains(&kind), "no sample of {kind}");
    }
    for kind in &kinds {
        assert!(EngineEvent::kinds().any(|k| k == *kind), "{kind} is not in kinds()");
    }
}

/// The `json!` literals `actrec run` wrote for its own events, copied from
/// `out.rs` as it was before the contract.
#[test]
fn the_engines_own_events_equal_its_old_literals() {
    let lights = Lights {
        green: Lamp::Off,
        amber: Lamp::Off,
        red: Lamp::Blink,
        buzzer: Lamp::Steady,
    };
    let path = PathBuf::from("/media/usb0");
    let (fault, active, seconds, part, row) = ("no_video", true, 12.5, 1u32, 42i64);
    let (phase, done, total) = ("rows", 10u64, 100u64);
    let (message, waiting, command, reason, name) = (
        "no space left on device",
        true,
        "acknowledge",
        "wrong PIN: 4 tries left",
        "gear-housing-bad",
    );
    let (frames, display_frames) = (1800u64, 1790u64);
    let literals = [
        json!({"kind": "fault", "fault": fault, "active": active}),
        json!({"kind": "outage", "seconds": seconds}),
        json!({"kind": "committed", "part": part, "row": row}),
        json!({"kind": "lights", "lights": lights}),
        json!({"kind": "stick", "path": path, "present": true}),
        json!({"kind": "export_started", "to": path}),
        json!({"kind": "export_progress", "phase": phase, "done": done, "total": total}),
        json!({
            "kind": "export_done",
            "folder": PathBuf::from("/media/usb0/actrec-line3-20260105T101500Z"),
            "rows": 7u64,
            "parts": 3u64,
            "head": "9f2c4e1a".to_owned(),
            "safe_to_remove": true,
        }),
        json!({"kind": "export_failed", "error": message}),
        json!({"kind": "acknowledged", "reject_was_waiting": waiting}),
        json!({"kind": "refused", "command": command, "reason": reason}),
        json!({"kind": "sequence_selected", "sequence": name}),
        json!({"kind": "stopped", "frames": frames, "display_frames": display_frames}),
    ];
    let ours: Vec<_> = samples()
        .into_iter()
        .filter(|e| !matches!(e, EngineEvent::Warning(_) | EngineEvent::Step(_) | EngineEvent::Part(_)))
        .filter(|e| !matches!(e, EngineEvent::Media(_)))
        .collect();
    assert_eq!(ours.len(), literals.len());
    for (event, literal) in ours.iter().zip(literals) {
        assert_eq!(serde_json::to_value(event).expect("serialises"), literal);
    }
}

/// `actrec check`'s lines (`report::Record`, written with `to_string`):
/// `kind` first, a step's `p` rounded to 3 decimals, `expected` on an
/// error only, even when empty.
#[test]
fn the_inspectors_events_are_what_actrec_check_writes() {
    let step = |p: f64, status: StepStatus, expected: &[&str]| {
        Event::Step(StepEvent {
            t: 64.0,
            part: 1,
            step: "spacer".into(),
            p,
            status,
            expected: expected.iter().map(|s| (*s).to_owned()).collect(),
        })
    };
    let check = |event: &Event| serde_json::to_string(&EngineEvent::from(event)).expect("serialises");
    let cases = [
        (
            Event::Warning(Warning {
                t: 9.0,
                label: "greased_disk".into(),
                p: 0.38,
            }),
            r#"{"kind":"warning","t":9.0,"label":"greased_disk","p":0.38}"#,
        ),
        (
            step(0.87404, StepStatus::Error, &["install_lid"]),
            r#"{"kind":"step","t":64.0,"part":1,"step":"spacer","p":0.874,"status":"error","expected":["install_lid"]}"#,
        ),
        (
            step(0.9126, StepStatus::Ok, &["install_lid"]),
            r#"{"kind":"step","t":64.0,"part":1,"step":"spacer","p":0.913,"status":"ok"}"#,
        ),
        (
            step(0.5, StepStatus::Error, &[]),
            r#"{"kind":"step","t":64.0,"part":1,"step":"spacer","p":0.5,"status":"error","expected":[]}"#,
        ),
        (
            Event::Part(PartSummary {
                t: 78.0,
                part: 1,
                verdict: Verdict::Reject,
                missing: vec!["install_lid".into(), "press_down".into()],
                errors: 2,
            }),
            r#"{"kind":"part","t":78.0,"part":1,"verdict":"reject","missing":["install_lid","press_down"],"errors":2}"#,
        ),
        (
            Event::Part(PartSummary {
                t: 12.0,
                part: 2,
                verdict: Verdict::Pass,
                missing: vec![],
                errors: 0,
            }),
            r#"{"kind":"part","t":12.0,"part":2,"verdict":"pass","missing":[],"errors":0}"#,
        ),
    ];
    for (event, line) in cases {
        assert_eq!(check(&event), line);
    }
    // What is not written is not kept: an ok step's `expected` is dropped.
    let EngineEvent::Step(ok) = EngineEvent::from(&step(0.9126, StepStatus::Ok, &["install_lid"])) else {
        panic!("a step");
    };
    assert!(ok.expected.is_empty());
}

#[test]
fn every_kind_round_trips_through_the_panels_decoder() {
    for (event, line) in golden() {
        let value: serde_json::Value = serde_json::from_str(line).expect("JSON");
        assert_eq!(
            EngineEvent::parse(&value).expect("decodes"),
            Decoded::Event(event.clone()),
            "{line}"
        );
        assert_eq!(serde_json::from_str::<EngineEvent>(line).expect("deserialises"), event);
        // Through a socket frame, as the panel gets it.
        let mut frame = Vec::new();
        write_frame(&mut frame, &ToClient::event(&event).expect("an event message")).expect("a frame");
        let ToClient::Event { event: value } = read_frame(&mut frame.as_slice()).expect("read back") else {
            panic!("an event message");
        };
        assert_eq!(EngineEvent::parse(&value).expect("decodes"), Decoded::Event(event));
    }
}

#[test]
fn the_decoder_passes_new_kinds_by_and_names_the_kind_it_cannot_read() {
    let new = json!({"kind": "tool_changed", "tool": "press"});
    assert_eq!(
        EngineEvent::parse(&new).expect("tolerated"),
        Decoded::Unknown {
            kind: "tool_changed".into()
        }
    );
    // serde's own reading is strict.
    let err = serde_json::from_value::<EngineEvent>(new).expect_err("unknown");
    assert!(err.to_string().contains("tool_changed"), "{err}");
    // A field a newer engine adds is ignored.
    let more = json!({"kind": "committed", "part": 1, "row": 2, "fsync_ms": 3});
    assert_eq!(
        EngineEvent::parse(&more).expect("decodes"),
        Decoded::Event(EngineEvent::Committed { part: 1, row: 2 })
    );

    for (value, kind, field) in [
        (json!({"kind": "fault", "fault": "no_video"}), "fault", "active"),
        (
            json!({"kind": "fault", "fault": "fire", "active": true}),
            "fault",
            "fire",
        ),
        (
            json!({"kind": "source_lost", "source": "camera"}),
            "source_lost",
            "reason",
        ),
        (json!({"kind": "step", "t": 1.0, "step": "base"}), "step", "part"),
    ] {
        let err = EngineEvent::parse(&value).expect_err("malformed");
        assert_eq!(err.kind, kind);
        assert!(err.to_string().contains(kind), "{err}");
        assert!(err.to_string().contains(field), "{err}");
    }
    for value in [json!({"t": 1.0}), json!({"kind": 3}), json!("text")] {
        assert_eq!(EngineEvent::parse(&value).expect_err("no kind").kind, "");
    }
}

#[test]
fn a_fault_is_named_as_the_tower_and_the_audit_log_name_it() {
    for fault in FaultKind::ALL {
        let value = serde_json::to_value(EngineEvent::Fault { fault, active: false }).expect("serialises");
        assert_eq!(value["fault"], fault.as_str());
    }
}

#[test]
fn the_status_progress_reads_as_before() {
    let progress = Progress {
        done: 3,
        total: 7,
        repeat: Some((2, 4)),
    };
    let text = serde_json::to_string(&progress).expect("serialises");
    assert_eq!(text, r#"{"done":3,"total":7,"repeat":[2,4]}"#);
    assert_eq!(serde_json::from_str::<Progress>(&text).expect("reads"), progress);
    let outside = Progress {
        repeat: None,
        ..progress
    };
    assert_eq!(
        serde_json::to_string(&outside).expect("serialises"),
        r#"{"done":3,"total":7,"repeat":null}"#
    );
}
