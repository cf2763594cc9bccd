//! The engine's state and how it reacts, one job per file:
//!
//! - `decisions.rs`: predictions through the decoder and checker; station
//!   events to the overlay, the recordings, the clips, the audit log and
//!   the line (the verdict committed before the relay changes);
//! - `sources.rs`: the source's news (started, lost, restored, ended);
//! - `faults.rs`: faults raised and cleared (no video, inference stalled,
//!   model behind, audit write failure) and the periodic watches;
//! - `commands.rs`: an operator's commands (acknowledge with the PIN,
//!   switch source, select sequence, export, sync);
//! - `export.rs`: USB sticks and the export thread;
//! - `status.rs`: the status snapshot the panel shows.
//!
//! Everything the engine touches comes in as a seam of [`crate::deps`],
//! and every time it reads comes from its [`Clock`], so that each rule is
//! tested with fakes (`tests.rs`).

mod commands;
mod decisions;
mod export;
mod faults;
mod sources;
mod status;
mod strip;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use actrec_audit::record::StationEvent;
use actrec_core::config::{Mp4Split, StationConfig};
use actrec_core::inspect::Inspector;
use actrec_core::light::FaultKind;
use actrec_core::pin::{Lockout, PinHash};
use actrec_core::sequence::Definition;
use actrec_ipc::Status;
use actrec_media::output::{Annotation, Standing};
use crossbeam_channel::Sender;

use crate::audit_log::AuditLog;
use crate::clock::Clock;
use crate::deps::events::EventOut;
use crate::deps::lines::LineOutputs;
use crate::deps::mounts::Mounts;
use crate::deps::video::{FakeVideo, VideoOutputs};
use crate::json_lines::JsonLines;

pub use export::ExportUpdate;
pub use status::{PanelInfo, STATUS_EVERY, Shown};

/// `model_behind` clears once no window has been left out for this long.
pub const BEHIND_CLEARS_AFTER: Duration = Duration::from_secs(5);

/// How often the mount roots are looked at for USB sticks.
const STICK_POLL: Duration = Duration::from_secs(1);

/// How often old audit rows are pruned, beyond the start.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// What the engine watches of the model branch on its ticks.
pub trait ModelWatch {
    /// How long the branch has been on one frame, if it is on one.
    fn busy_for(&self) -> Option<Duration>;
    /// Windows left out so far because frames were missing from them.
    fn windows_skipped(&self) -> u64;
}

/// Where the engine's conclusions go.
pub struct Sinks {
    pub output: Box<dyn VideoOutputs>,
    pub line: LineOutputs,
    pub audit: AuditLog,
    pub out: EventOut,
    pub mounts: Box<dyn Mounts>,
    /// Every window's prediction (`Options::predictions`).
    pub log: Option<JsonLines>,
    /// Each window's stage times and decision latency (`Options::timings`).
    pub timings: Option<JsonLines>,
}

/// What is inspected, and how: the station's config, the source it starts
/// with, the decoder and checker, the sequences an operator may select.
pub struct Inspection {
    pub config: Arc<StationConfig>,
    /// The folder of the config file: its relative paths start here.
    pub config_dir: PathBuf,
    /// The source the station starts with.
    pub source: String,
    /// The decoder and checker; `None` where no predictions come (decode only).
    pub inspector: Option<Inspector>,
    /// Every selectable sequence with its file; the one in use first.
    pub sequences: Vec<(PathBuf, Definition)>,
    pub info: PanelInfo,
}

/// What the engine starts with, besides its sinks.
pub struct Setup {
    pub inspection: Inspection,
    /// Model frames taken from the ingest.
    pub frames: Arc<AtomicU64>,
    pub export_updates: Sender<ExportUpdate>,
    pub clock: Arc<dyn Clock>,
}

/// The engine's state between events.
pub struct Engine {
    config: Arc<StationConfig>,
    config_dir: PathBuf,
    clock: Arc<dyn Clock>,
    pub source: String,
    /// Model frames taken from the ingest.
    pub frames: Arc<AtomicU64>,
    /// Each part gets its own recording.
    split_by_part: bool,
    inspector: Option<Inspector>,
    /// Windows below this top-1 probability are low-confidence warnings.
    min_confidence: f64,
    pub output: Box<dyn VideoOutputs>,
    pub line: LineOutputs,
    audit: AuditLog,
    last_prune: Instant,
    pub out: EventOut,
    mounts: Box<dyn Mounts>,
    log: Option<JsonLines>,
    timings: Option<JsonLines>,
    /// What the decisions say, burned into the video.
    annotation: Annotation,
    part: Option<u32>,
    /// The steps the open part has accepted, in order (the video's strip).
    part_steps: Vec<String>,
    /// Removable media mounted under the mount roots.
    sticks: Vec<PathBuf>,
    last_stick_poll: Option<Instant>,
    /// Windows the model branch has left out, and when that last grew.
    windows_skipped: (u64, Instant),
    export_updates: Sender<ExportUpdate>,
    /// The last export (running while its state says so), as the panel shows it.
    export: Option<actrec_ipc::Export>,
    sequences: Vec<(PathBuf, Definition)>,
    sequence: String,
    pin: Option<PinHash>,
    lockout: Lockout,
    started: Instant,
    info: PanelInfo,
    shown: Shown,
    /// The cause of the latest fault, for the indicator.
    fault_detail: String,
    rates: status::Rates,
    last_status: Option<(Instant, Status)>,
}

impl Engine {
    /// The engine at start: the previous run's outage and this start are
    /// audited, and `no_video` holds until the first frame.
    pub fn new(setup: Setup, sinks: Sinks) -> Self {
        let Setup {
            inspection:
                Inspection {
                    config,
                    config_dir,
                    source,
                    inspector,
                    sequences,
                    info,
                },
            frames,
            export_updates,
            clock,
        } = setup;
        let mut annotation = Annotation::default();
        if let Some(inspector) = &inspector {
            annotation.expected_next = inspector.expected_next();
        }
        let Sinks {
            output,
            line,
            audit,
            out,
            mounts,
            log,
            timings,
        } = sinks;
        let now = clock.now();
        let mut engine = Self {
            source,
            frames,
            split_by_part: config.outputs.mp4.as_ref().is_some_and(|m| m.split == Mp4Split::Part),
            inspector,
            min_confidence: config.decoder.min_confidence,
            sticks: Vec::new(),
            last_stick_poll: None,
            windows_skipped: (0, now),
            export_updates,
            export: None,
            sequence: sequences.first().map(|(_, d)| d.name.clone()).unwrap_or_default(),
            sequences,
            pin: config.operator.pin(),
            lockout: Lockout::default(),
            started: now,
            info,
            shown: Shown::default(),
            fault_detail: String::new(),
            rates: status::Rates::new(),
            last_status: None,
            config,
            config_dir,
            clock,
            output,
            line,
            audit,
            last_prune: now,
            out,
            mounts,
            log,
            timings,
            annotation,
            part: None,
            part_steps: Vec::new(),
        };
        engine.annotation.strip = engine.strip(None);
        match engine.audit.outage() {
            Ok(Some(seconds)) => {
                tracing::warn!(
                    seconds,
                    "the engine's previous run was cut off: the outage is in the audit log"
                );
                engine.out.outage(seconds);
            }
            Ok(None) => {}
            Err(err) => engine.audited(Err(err), "outage of the previous run"),
        }
        let started = engine.audit.station(StationEvent::Started, "engine started");
        engine.audited(started.map(drop), "station start");
        // Not inspecting until the source delivers.
        engine.fault(FaultKind::NoVideo, true, WAITING_FOR_FIRST_FRAME);
        engine
    }

    /// The engine stops: the last row of its run.
    pub fn stopped(&mut self, why: &str) {
        let stopped = self.audit.station(StationEvent::Stopped, why);
        self.audited(stopped.map(drop), "station stop");
    }

    pub fn annotation(&self) -> Annotation {
        let mut annotation = Annotation {
            source: self.source.clone(),
            ..self.annotation.clone()
        };
        if self.line.has_fault(FaultKind::NoVideo) {
            annotation.verdict = Some(("NO VIDEO".to_owned(), Standing::Fault));
        } else if self.line.has_fault(FaultKind::InferenceStalled) {
            annotation.verdict = Some(("FAULT: inference stalled".to_owned(), Standing::Fault));
        } else if self.line.has_fault(FaultKind::ModelBehind) {
            annotation.verdict = Some(("FAULT: model behind the camera".to_owned(), Standing::Fault));
        }
        annotation
    }

    /// The sequence in use as a strip of steps for the video.
    fn strip(&self, closed: Option<&actrec_core::event::PartSummary>) -> Vec<(String, actrec_media::output::StepMark)> {
        self.sequences
            .iter()
            .find(|(_, d)| d.name == self.sequence)
            .map(|(_, definition)| strip::strip(definition, &self.part_steps, closed))
            .unwrap_or_default()
    }

    /// Finishes the video outputs' files; returns the display frames fed.
    pub fn shutdown_outputs(&mut self) -> u64 {
        std::mem::replace(&mut self.output, Box::new(FakeVideo::default())).shutdown()
    }
}

/// The `no_video` detail while a source has not yet delivered.
const WAITING_FOR_FIRST_FRAME: &str = "waiting for the first frame";
