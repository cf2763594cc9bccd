//! The engine's rules with fakes at every seam and a fake clock: no
//! GStreamer, no SQLite, no GPIO, no waiting.

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actrec_audit::record::{FaultState, JudgedWith, Record, SourceChange};
use actrec_core::config::StationConfig;
use actrec_core::decode::Window;
use actrec_core::inspect::Inspector;
use actrec_core::light::FaultKind;
use actrec_core::pin::{LOCKOUT_AFTER, LOCKOUT_SECONDS, PinHash};
use actrec_core::sequence::Definition;
use actrec_core::sync::lock;
use actrec_gpio::{Line, OutputLines};
use actrec_ipc::{ClientId, Command, Standing, ToClient, ToEngine};
use actrec_media::event::MediaEvent;
use actrec_media::output::StepMark;

use super::{BEHIND_CLEARS_AFTER, Engine, Inspection, ModelWatch, PanelInfo, Setup, Sinks};
use crate::audit_log::AuditLog;
use crate::clock::FakeClock;
use crate::deps::audit::FakeAudit;
use crate::deps::clients::FakeClients;
use crate::deps::events::{Collect, EventOut, PanelLink};
use crate::deps::lines::LineOutputs;
use crate::deps::mounts::FakeMounts;
use crate::deps::source::FakeSource;
use crate::deps::video::FakeVideo;
use crate::model_branch::Predicted;

const PIN: &str = "2468";

/// Output lines that remember every write, with how many verdicts the
/// audit had committed durably at that moment, and fail while told to.
struct RecordingLines {
    audit: FakeAudit,
    writes: Mutex<Vec<(Line, bool, usize)>>,
    failing: Mutex<bool>,
}

impl RecordingLines {
    fn committed_verdicts(&self) -> usize {
        self.audit
            .state()
            .rows
            .iter()
            .filter(|(record, durable)| matches!(record, Record::Part(_)) && *durable)
            .count()
    }
}

impl OutputLines for RecordingLines {
    fn backend(&self) -> &'static str {
        "sim"
    }
    fn has(&self, _line: Line) -> bool {
        true
    }
    fn set(&self, line: Line, on: bool) -> Result<(), actrec_gpio::Error> {
        if *lock(&self.failing) {
            return Err(actrec_gpio::Error::Io {
                path: PathBuf::from("/dev/gpiochip0"),
                source: std::io::Error::other("write failed (fake)"),
            });
        }
        let committed = self.committed_verdicts();
        lock(&self.writes).push((line, on, committed));
        Ok(())
    }
}

/// The model branch as the engine's ticks see it.
#[derive(Default)]
struct FakeModel {
    busy_for: Option<Duration>,
    skipped: u64,
}

impl ModelWatch for FakeModel {
    fn busy_for(&self) -> Option<Duration> {
        self.busy_for
    }
    fn windows_skipped(&self) -> u64 {
        self.skipped
    }
}

/// An engine wired to fakes, and the fakes.
struct Rig {
    engine: Engine,
    clock: Arc<FakeClock>,
    audit: FakeAudit,
    video: FakeVideo,
    lines: Arc<RecordingLines>,
    events: Collect,
    clients: FakeClients,
    source: FakeSource,
    model: FakeModel,
    /// Station time of the next window.
    t: f64,
}

fn config(pin: Option<&PinHash>) -> StationConfig {
    let operator = pin.map_or(String::new(), |hash| {
        format!("[operator]\nsupervisor_pin = \"{hash}\"\n")
    });
    let text = format!(
        r#"
[station]
id = "unit"
data_dir = "data"
source = "cam"

[sources.cam.test]
pattern = "ball"

[sources.other.test]
pattern = "snow"

[model]
dir = "model"
stall_seconds = 5

[decoder]
min_windows = 1
min_confidence = 0.5
idle_labels = ["idle"]

[sequence]
file = "sequence.toml"

[gpio]
backend = "sim"

[audit]
path = "audit.sqlite"
{operator}"#
    );
    StationConfig::parse("unit.toml", &text).expect("the unit test's config")
}

fn definition() -> Definition {
    Definition::parse(
        "sequence.toml",
        "name = \"unit\"\nfinal_step = \"close\"\nsteps = [\"base\", \"gear\", \"close\"]\n",
        None,
    )
    .expect("the unit test's sequence")
}

impl Rig {
    fn new() -> Self {
        Self::with_pin(None)
    }

    fn with_pin(pin: Option<&str>) -> Self {
        let hash = pin.map(|pin| PinHash::new(pin, b"0123456789abcdef", 10_000).expect("a PIN"));
        let config = config(hash.as_ref());
        let definition = definition();
        let clock = Arc::new(FakeClock::new());
        let audit = FakeAudit::default();
        let video = FakeVideo::default();
        let events = Collect::default();
        let clients = FakeClients::default();
        let lines = Arc::new(RecordingLines {
            audit: audit.clone(),
            writes: Mutex::default(),
            failing: Mutex::new(false),
        });
        let line = LineOutputs::with_lines(lines.clone(), &config.gpio, clock.clone()).expect("lines");
        let (export_updates, _) = crossbeam_channel::unbounded();
        let engine = Engine::new(
            Setup {
                inspection: Inspection {
                    inspector: Some(Inspector::new(config.decoder.clone(), &definition)),
                    config: Arc::new(config),
                    config_dir: PathBuf::from("."),
                    source: "cam".into(),
                    sequences: vec![(PathBuf::from("sequence.toml"), definition)],
                    info: PanelInfo::default(),
                },
                frames: Arc::new(AtomicU64::new(0)),
                export_updates,
                clock: clock.clone(),
            },
            Sinks {
                output: Box::new(video.clone()),
                line,
                audit: AuditLog::new(Box::new(audit.clone()), JudgedWith::default()),
                out: EventOut {
                    sinks: vec![Box::new(events.clone())],
                    panel: Some(PanelLink::new(Box::new(clients.clone()))),
                },
                mounts: Box::new(FakeMounts::default()),
                log: None,
                timings: None,
            },
        );
        Self {
            engine,
            clock,
            audit,
            video,
            lines,
            events,
            clients,
            source: FakeSource {
                known: vec!["cam".into(), "other".into()],
                switched: Arc::default(),
            },
            model: FakeModel::default(),
            t: 0.0,
        }
    }

    /// The source delivers: `no_video` clears.
    fn video_flows(&mut self) -> &mut Self {
        self.engine
            .on_media_event(&MediaEvent::SourceRestored { source: "cam".into() });
        self
    }

    fn windows(&mut self, labels: &[&str]) -> &mut Self {
        for label in labels {
            let window = Window {
                t: self.t,
                label: (*label).to_owned(),
                p: 0.9,
            };
            self.t += 1.0;
            self.engine
                .on_prediction(Ok(Predicted { window, timing: None }))
                .expect("a prediction");
        }
        self
    }

    fn tick(&mut self) {
        self.engine.tick(&self.model);
    }

    fn command(&mut self, command: ToEngine) -> Result<(), String> {
        self.engine.command(
            &self.source,
            Command {
                client: ClientId(7),
                role: "test".into(),
                command,
            },
        );
        let reply = self
            .clients
            .sent()
            .into_iter()
            .rev()
            .find_map(|(to, message)| match (to, message) {
                (Some(ClientId(7)), ToClient::Reply { ok, error }) => Some((ok, error)),
                _ => None,
            })
            .expect("a reply to the command");
        match reply {
            (true, _) => Ok(()),
            (false, error) => Err(error.unwrap_or_default()),
        }
    }

    /// The events of one kind, as their JSON.
    fn events_of(&self, kind: &str) -> Vec<serde_json::Value> {
        self.events
            .events()
            .iter()
            .filter(|e| e.kind() == kind)
            .map(|e| serde_json::to_value(e).expect("json"))
            .collect()
    }

    fn fault_rows(&self, kind: FaultKind) -> Vec<FaultState> {
        self.audit
            .state()
            .rows
            .iter()
            .filter_map(|(record, _)| match record {
                Record::Fault(f) if f.fault == kind => Some(f.state),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn the_engine_starts_without_video_and_inspects_from_the_first_frame() {
    let mut rig = Rig::new();
    assert!(rig.engine.line.has_fault(FaultKind::NoVideo));
    assert_eq!(rig.engine.status().standing, Standing::NoVideo);
    rig.video_flows();
    assert!(!rig.engine.line.has_fault(FaultKind::NoVideo));
    assert_eq!(
        rig.fault_rows(FaultKind::NoVideo),
        [FaultState::Raised, FaultState::Cleared]
    );
    assert_eq!(rig.engine.status().standing, Standing::Idle);
}

#[test]
fn a_source_lost_and_restored_is_a_fault_for_as_long_as_it_lasts() {
    let mut rig = Rig::new();
    rig.video_flows();
    rig.engine.on_media_event(&MediaEvent::SourceLost {
        source: "cam".into(),
        reason: "no frame for 2000 ms".into(),
    });
    let status = rig.engine.status();
    assert_eq!(
        (status.standing, status.detail.as_str()),
        (Standing::NoVideo, "no frame for 2000 ms")
    );
    assert_eq!(
        rig.video.state().annotation.verdict.as_ref().map(|v| v.0.as_str()),
        Some("NO VIDEO")
    );
    rig.engine
        .on_media_event(&MediaEvent::SourceRestored { source: "cam".into() });
    assert!(!rig.engine.line.has_fault(FaultKind::NoVideo));
    let changes: Vec<SourceChange> = rig
        .audit
        .state()
        .rows
        .iter()
        .filter_map(|(record, _)| match record {
            Record::Source(s) => Some(s.change),
            _ => None,
        })
        .collect();
    assert_eq!(
        changes,
        [SourceChange::Recovered, SourceChange::Lost, SourceChange::Recovered]
    );
    let faults: Vec<bool> = rig.events_of("fault").iter().map(|e| e["active"] == true).collect();
    assert_eq!(faults, [true, false, true, false]);
}

#[test]
fn a_rejected_part_is_committed_before_the_relay_line_changes() {
    let mut rig = Rig::new();
    rig.video_flows();
    lock(&rig.lines.writes).clear();
    // The gear is left out.
    rig.windows(&["idle", "base", "base", "close", "close", "idle", "idle"]);
    let parts = rig.events_of("part");
    assert_eq!(parts.len(), 1, "{parts:?}");
    assert_eq!(parts[0]["verdict"], "reject");
    assert_eq!(parts[0]["missing"], serde_json::json!(["gear"]));
    let relay: Vec<(bool, usize)> = lock(&rig.lines.writes)
        .iter()
        .filter(|(line, _, _)| *line == Line::Reject)
        .map(|(_, on, committed)| (*on, *committed))
        .collect();
    assert_eq!(relay, [(true, 1)], "the relay fired once, with the verdict committed");
    assert!(rig.engine.line.reject_waiting());
    assert_eq!(rig.video.state().clips, [1]);
    // The clip's end card: the verdict, what is missing, the strip.
    let annotation = rig.video.state().annotation.clone();
    assert_eq!(annotation.verdict.map(|v| v.0), Some("REJECT #1".to_owned()));
    assert_eq!(annotation.missing, ["gear"]);
    let strip: Vec<(&str, StepMark)> = annotation.strip.iter().map(|(s, m)| (s.as_str(), *m)).collect();
    assert_eq!(
        strip,
        [
            ("base", StepMark::Done),
            ("gear", StepMark::Missing),
            ("close", StepMark::Done)
        ]
    );
    let committed = rig.events_of("committed");
    assert_eq!(committed.len(), 1);
    assert_eq!(committed[0]["part"], 1);
}

#[test]
fn a_passed_part_leaves_the_relay_alone() {
    let mut rig = Rig::new();
    rig.video_flows();
    lock(&rig.lines.writes).clear();
    rig.windows(&["idle", "base", "gear", "close", "idle"]);
    let parts = rig.events_of("part");
    assert_eq!(parts.len(), 1, "{parts:?}");
    assert_eq!(parts[0]["verdict"], "pass");
    assert!(lock(&rig.lines.writes).iter().all(|(line, _, _)| *line != Line::Reject));
    assert!(!rig.engine.line.reject_waiting());
    assert_eq!(rig.engine.status().standing, Standing::Pass);
}

#[test]
fn an_audit_write_that_fails_raises_the_fault_and_the_part_is_still_rejected() {
    let mut rig = Rig::new();
    rig.video_flows();
    rig.audit.state().failing = true;
    rig.windows(&["idle", "base", "close", "idle"]);
    assert!(rig.engine.line.has_fault(FaultKind::AuditWriteFailure));
    assert_eq!(rig.engine.status().standing, Standing::Fault);
    assert!(
        rig.events_of("fault")
            .iter()
            .any(|e| e["fault"] == "audit_write_failure" && e["active"] == true)
    );
    // The line still rejects the part whose verdict could not be written.
    assert!(rig.engine.line.reject_waiting());
    assert!(
        lock(&rig.lines.writes)
            .iter()
            .any(|(line, on, _)| *line == Line::Reject && *on)
    );
    // The disk has room again: the next write clears the fault.
    rig.audit.state().failing = false;
    rig.windows(&["base"]);
    assert!(!rig.engine.line.has_fault(FaultKind::AuditWriteFailure));
    assert_eq!(
        rig.fault_rows(FaultKind::AuditWriteFailure),
        [FaultState::Cleared],
        "the raise could not be written; the clearing is"
    );
}

#[test]
fn a_gpio_write_that_fails_does_not_stop_the_decisions() {
    // Today a failed line write is logged only (issue 18 makes it a fault);
    // the verdict is still committed and reported.
    let mut rig = Rig::new();
    rig.video_flows();
    lock(&rig.lines.writes).clear();
    *lock(&rig.lines.failing) = true;
    rig.windows(&["idle", "base", "close", "idle"]);
    let parts = rig.events_of("part");
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0]["verdict"], "reject");
    assert_eq!(
        rig.audit
            .state()
            .rows
            .iter()
            .filter(|(r, durable)| matches!(r, Record::Part(_)) && *durable)
            .count(),
        1
    );
    assert!(lock(&rig.lines.writes).is_empty());
}

#[test]
fn model_behind_is_raised_at_once_and_clears_after_a_quiet_spell() {
    let mut rig = Rig::new();
    rig.video_flows();
    rig.model.skipped = 2;
    rig.tick();
    assert!(rig.engine.line.has_fault(FaultKind::ModelBehind));
    rig.clock.advance(BEHIND_CLEARS_AFTER - Duration::from_millis(1));
    rig.tick();
    assert!(
        rig.engine.line.has_fault(FaultKind::ModelBehind),
        "not yet quiet long enough"
    );
    // Another window left out starts the quiet spell again.
    rig.model.skipped = 3;
    rig.tick();
    rig.clock.advance(BEHIND_CLEARS_AFTER - Duration::from_millis(1));
    rig.tick();
    assert!(rig.engine.line.has_fault(FaultKind::ModelBehind));
    rig.clock.advance(Duration::from_millis(1));
    rig.tick();
    assert!(!rig.engine.line.has_fault(FaultKind::ModelBehind));
    assert_eq!(
        rig.fault_rows(FaultKind::ModelBehind),
        [FaultState::Raised, FaultState::Cleared]
    );
}

#[test]
fn inference_stalled_follows_the_model_branch_against_stall_seconds() {
    let mut rig = Rig::new();
    rig.video_flows();
    rig.model.busy_for = Some(Duration::from_millis(4_999));
    rig.tick();
    assert!(!rig.engine.line.has_fault(FaultKind::InferenceStalled));
    rig.model.busy_for = Some(Duration::from_secs(5));
    rig.tick();
    assert!(rig.engine.line.has_fault(FaultKind::InferenceStalled));
    assert_eq!(rig.engine.status().headline, "FAULT: inference stalled");
    rig.model.busy_for = None;
    rig.tick();
    assert!(!rig.engine.line.has_fault(FaultKind::InferenceStalled));
}

#[test]
fn wrong_pins_lock_the_pad_until_the_lockout_has_passed() {
    let mut rig = Rig::with_pin(Some(PIN));
    rig.video_flows();
    rig.windows(&["idle", "base", "close", "idle"]);
    assert!(rig.engine.line.reject_waiting());
    for tries_left in (1..LOCKOUT_AFTER).rev() {
        let refused = rig.command(ToEngine::Acknowledge { pin: "0000".into() });
        let plural = if tries_left == 1 { "try" } else { "tries" };
        assert_eq!(
            refused,
            Err(format!("wrong PIN ({tries_left} {plural} left before the pad locks)"))
        );
    }
    let locked = rig.command(ToEngine::Acknowledge { pin: "0000".into() });
    assert_eq!(
        locked,
        Err(format!("too many wrong PINs: try again in {LOCKOUT_SECONDS:.0} s"))
    );
    // The right PIN is refused unchecked while the pad is locked.
    rig.clock.advance(Duration::from_secs_f64(LOCKOUT_SECONDS - 1.0));
    assert_eq!(
        rig.command(ToEngine::Acknowledge { pin: PIN.into() }),
        Err("too many wrong PINs: try again in 1 s".into())
    );
    assert!(rig.engine.line.reject_waiting());
    rig.clock.advance(Duration::from_secs(1));
    assert_eq!(rig.command(ToEngine::Acknowledge { pin: PIN.into() }), Ok(()));
    assert!(!rig.engine.line.reject_waiting());
    let wrong_pins = rig
        .audit
        .state()
        .rows
        .iter()
        .filter(|(r, _)| matches!(r, Record::Operator(o) if o.action == actrec_audit::record::OperatorAction::WrongPin))
        .count();
    assert_eq!(wrong_pins as u32, LOCKOUT_AFTER + 1);
    assert_eq!(rig.events_of("refused").len() as u32, LOCKOUT_AFTER + 1);
}

#[test]
fn a_source_switch_goes_to_the_source_and_an_unknown_one_is_refused() {
    let mut rig = Rig::new();
    assert_eq!(rig.command(ToEngine::SwitchSource { source: "other".into() }), Ok(()));
    assert_eq!(*lock(&rig.source.switched), ["other"]);
    assert_eq!(
        rig.command(ToEngine::SwitchSource { source: "nope".into() }),
        Err("no source `nope` is configured".into())
    );
}

#[test]
fn the_status_goes_out_on_a_change_and_at_least_once_a_second() {
    let mut rig = Rig::new();
    let statuses = |rig: &Rig| {
        rig.clients
            .sent()
            .iter()
            .filter(|(to, m)| to.is_none() && matches!(m, ToClient::Status { .. }))
            .count()
    };
    rig.tick();
    let first = statuses(&rig);
    assert!(first >= 1);
    rig.tick();
    assert_eq!(statuses(&rig), first, "nothing changed, and no second passed");
    rig.clock.advance(super::STATUS_EVERY);
    rig.tick();
    assert_eq!(statuses(&rig), first + 1);
    rig.video_flows();
    rig.tick();
    assert_eq!(statuses(&rig), first + 2, "no video → idle is a change");
}

#[test]
fn the_uptime_is_counted_by_the_engine_clock() {
    let rig = Rig::new();
    rig.clock.advance(Duration::from_secs(90));
    assert_eq!(rig.engine.status().uptime_seconds, 90.0);
}
