//! What the engine's main loop keeps and how it reacts: predictions go
//! through the decoder and checker, and their events, the media events and
//! the faults drive the overlay, the recordings and clips, the line outputs
//! (tower light, reject relay, heartbeat) and the event stream.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actrec_audit::record::{OperatorAction, SourceChange, StationEvent};

use actrec_core::config::{Mp4Split, StationConfig};
use actrec_core::event::{Event, StepStatus, Verdict};
use actrec_core::inspect::Inspector;
use actrec_core::light::FaultKind;
use actrec_media::event::MediaEvent;
use actrec_media::ingest::Ingest;
use actrec_media::output::{Annotation, Output, Standing};
use crossbeam_channel::Sender;

use super::StartError;
use super::audit::{AuditLog, PRUNE_EVERY};
use super::control::{ControlReply, ControlRequest};
use super::export::{self, ExportUpdate};
use super::line::{FaultChange, LineOutputs};
use super::model::{ModelBranch, Prediction};
use super::out::{EventOut, PredictionLog};
use super::supervise;

/// A frame taking this long in the model branch means inference stalled:
/// a window takes milliseconds.
pub const INFERENCE_STALL: Duration = Duration::from_secs(5);

/// How often the mount roots are looked at for USB sticks.
const STICK_POLL: Duration = Duration::from_secs(1);

/// Where the station's conclusions go.
pub struct Sinks {
    pub output: Output,
    pub line: LineOutputs,
    pub audit: AuditLog,
    pub out: EventOut,
    pub log: Option<PredictionLog>,
}

pub struct Station {
    config: Arc<StationConfig>,
    config_dir: PathBuf,
    pub source: String,
    /// Model frames taken from the ingest.
    pub frames: Arc<AtomicU64>,
    pub display_frames: u64,
    /// Each part gets its own recording.
    pub split_by_part: bool,
    pub inspector: Option<Inspector>,
    /// Windows below this top-1 probability are low-confidence warnings.
    pub min_confidence: f64,
    pub output: Output,
    pub line: LineOutputs,
    pub audit: AuditLog,
    last_prune: Instant,
    pub out: EventOut,
    pub log: Option<PredictionLog>,
    /// What the decisions say, burned into the video.
    annotation: Annotation,
    part: Option<u32>,
    /// Removable media mounted under the mount roots.
    sticks: Vec<PathBuf>,
    last_stick_poll: Option<Instant>,
    /// The medium an export is writing to.
    exporting: Option<PathBuf>,
    export_updates: Sender<ExportUpdate>,
}

impl Station {
    pub fn new(
        config: Arc<StationConfig>,
        config_dir: PathBuf,
        source: String,
        frames: Arc<AtomicU64>,
        inspector: Option<Inspector>,
        sinks: Sinks,
        export_updates: Sender<ExportUpdate>,
    ) -> Self {
        let mut annotation = Annotation::default();
        if let Some(inspector) = &inspector {
            annotation.expected_next = inspector.expected_next();
        }
        let Sinks {
            output,
            line,
            audit,
            out,
            log,
        } = sinks;
        let mut station = Self {
            source,
            frames,
            display_frames: 0,
            split_by_part: config.outputs.mp4.as_ref().is_some_and(|m| m.split == Mp4Split::Part),
            inspector,
            min_confidence: config.decoder.min_confidence,
            sticks: Vec::new(),
            last_stick_poll: None,
            exporting: None,
            export_updates,
            config,
            config_dir,
            output,
            line,
            audit,
            last_prune: Instant::now(),
            out,
            log,
            annotation,
            part: None,
        };
        let started = station.audit.station(StationEvent::Started, "engine started");
        station.audited(started.map(drop), "station start");
        // Not inspecting until the source delivers.
        station.fault(FaultKind::NoVideo, true, "waiting for the first frame");
        station
    }

    /// Audit-log writes that fail raise the audit fault; one that succeeds clears it.
    fn audited(&mut self, result: Result<(), actrec_audit::Error>, what: &str) {
        let failing = result.is_err();
        if let Err(err) = result {
            tracing::error!(%err, "audit log: cannot record the {what}");
        }
        if failing != self.line.has_fault(FaultKind::AuditWriteFailure)
            && let Some(change) = self.line.fault(FaultKind::AuditWriteFailure, failing)
        {
            let detail = format!("writing the {what}");
            let recorded = self.audit.fault(change.fault, change.active, &detail).map(drop);
            if let Err(err) = recorded {
                tracing::error!(%err, "audit log: cannot record the audit fault itself");
            }
            self.report_fault(&change);
        }
    }

    /// The engine stops: the last row of its run.
    pub fn stopped(&mut self, why: &str) {
        let stopped = self.audit.station(StationEvent::Stopped, why);
        self.audited(stopped.map(drop), "station stop");
    }

    /// A window's prediction goes through the decoder and checker.
    pub fn on_prediction(&mut self, prediction: Prediction) -> Result<(), StartError> {
        let window = prediction.map_err(StartError::Inference)?;
        if let Some(log) = self.log.as_mut() {
            log.write(&window)?;
        }
        self.line.window(window.p < self.min_confidence);
        self.report_lights();
        let events = match self.inspector.as_mut() {
            Some(inspector) => inspector.push(&window),
            None => Vec::new(),
        };
        for event in &events {
            self.on_station_event(event);
        }
        if let Some(inspector) = &self.inspector {
            self.annotation.expected_next = inspector.expected_next();
        }
        self.output.annotate(&self.annotation());
        Ok(())
    }

    /// The end of the input: a part still open is reported incomplete.
    pub fn finish(&mut self) {
        let events = self.inspector.as_mut().map(Inspector::finish).unwrap_or_default();
        for event in &events {
            self.on_station_event(event);
        }
    }

    pub fn on_media_event(&mut self, event: &MediaEvent) {
        self.out.media(event);
        let (no_video, record) = match event {
            MediaEvent::SourceStarted { source, .. } => (Some(false), Some((source, SourceChange::Selected, None, ""))),
            MediaEvent::SourceLost { source, reason } => {
                supervise::status(&format!("NO VIDEO: source {source} lost ({reason})"));
                (Some(true), Some((source, SourceChange::Lost, None, reason.as_str())))
            }
            MediaEvent::SourceRestored { source } => {
                supervise::status(&format!("inspecting; source {source}"));
                (Some(false), Some((source, SourceChange::Recovered, None, "")))
            }
            MediaEvent::SourceSwitched { from, to } => {
                self.source = to.clone();
                supervise::status(&format!("inspecting; source {to}"));
                (None, Some((to, SourceChange::Selected, Some(from.clone()), "switched")))
            }
            MediaEvent::SourceEnded { source } => {
                supervise::status(&format!("NO VIDEO: source {source} ended"));
                (Some(true), Some((source, SourceChange::Lost, None, "the file ended")))
            }
            _ => (None, None),
        };
        if let Some((source, change, previous, detail)) = record {
            let recorded = self.audit.source(source, change, previous, detail).map(drop);
            self.audited(recorded, "source change");
        }
        if let Some(active) = no_video {
            let detail = match event {
                MediaEvent::SourceLost { reason, .. } => reason.clone(),
                _ => String::new(),
            };
            self.fault(FaultKind::NoVideo, active, &detail);
        }
        self.output.annotate(&self.annotation());
    }

    /// Periodic work on the main loop's ticks: the inference watch, pruning.
    pub fn tick(&mut self, model: &ModelBranch) {
        self.watch_inference(model);
        if self.last_prune.elapsed() >= PRUNE_EVERY {
            self.last_prune = Instant::now();
            self.audit.prune();
        }
        if self.last_stick_poll.is_none_or(|t| t.elapsed() >= STICK_POLL) {
            self.last_stick_poll = Some(Instant::now());
            self.poll_sticks();
        }
    }

    fn poll_sticks(&mut self) {
        let now = crate::usb::removable_mounts(&self.config.audit.mount_roots);
        for gone in self.sticks.iter().filter(|p| !now.contains(p)) {
            tracing::info!(stick = %gone.display(), "removable medium gone");
            self.out.stick(gone, false);
        }
        for new in now.iter().filter(|p| !self.sticks.contains(p)) {
            tracing::info!(stick = %new.display(), "removable medium mounted");
            self.out.stick(new, true);
        }
        self.sticks = now;
    }

    /// Starts an export to `to`, or to the one stick mounted.
    fn start_export(&mut self, to: Option<PathBuf>) -> Result<PathBuf, String> {
        if let Some(busy) = &self.exporting {
            return Err(format!("an export to {} is running", busy.display()));
        }
        self.poll_sticks();
        let target = match (to, self.sticks.as_slice()) {
            (Some(to), _) => to,
            (None, [one]) => one.clone(),
            (None, []) => return Err("no USB stick is mounted".into()),
            (None, _) => return Err("several USB sticks are mounted: say which (`to`)".into()),
        };
        export::start(
            Arc::clone(&self.config),
            self.config_dir.clone(),
            target.clone(),
            self.export_updates.clone(),
        )
        .map_err(|err| format!("cannot start the export: {err}"))?;
        self.exporting = Some(target.clone());
        self.out.export_started(&target);
        Ok(target)
    }

    pub fn on_export(&mut self, update: ExportUpdate) {
        match update {
            ExportUpdate::Progress(progress) => self.out.export_progress(&progress),
            ExportUpdate::Done(result) => {
                self.exporting = None;
                match result {
                    Ok(exported) => {
                        let recorded = self
                            .audit
                            .operator(OperatorAction::Export {
                                to: exported.dir.display().to_string(),
                                from: exported.from.rfc3339(),
                                until: exported.until.rfc3339(),
                                rows: exported.rows,
                                head_hash: exported.head.hash.clone(),
                            })
                            .map(drop);
                        self.audited(recorded, "export");
                        tracing::info!(folder = %exported.dir.display(), rows = exported.rows, "export done: safe to remove");
                        self.out.export_done(&exported);
                    }
                    Err(message) => {
                        tracing::error!("{message}");
                        self.out.export_failed(&message);
                    }
                }
            }
        }
    }

    /// Checks the model branch for a stall.
    fn watch_inference(&mut self, model: &ModelBranch) {
        let busy = model.busy_for();
        let stalled = busy.is_some_and(|busy| busy >= INFERENCE_STALL);
        if stalled != self.line.has_fault(FaultKind::InferenceStalled) {
            let detail = busy.map(|b| format!("one frame in the model branch for {:.1} s", b.as_secs_f64()));
            self.fault(FaultKind::InferenceStalled, stalled, &detail.unwrap_or_default());
        }
    }

    fn fault(&mut self, kind: FaultKind, active: bool, detail: &str) {
        if let Some(change) = self.line.fault(kind, active) {
            let recorded = self.audit.fault(kind, active, detail).map(drop);
            self.audited(recorded, "fault");
            self.report_fault(&change);
        }
    }

    fn report_lights(&mut self) {
        if let Some(lights) = self.line.lights_changed() {
            self.out.lights(&lights);
        }
    }

    fn report_fault(&mut self, change: &FaultChange) {
        self.out.fault(change);
        self.report_lights();
        self.output.annotate(&self.annotation());
    }

    /// Station events drive the overlay, the recording splits, the clips and the line outputs.
    fn on_station_event(&mut self, event: &Event) {
        match event {
            Event::Warning(w) => self.annotation.label = Some((w.label.clone(), w.p)),
            Event::Step(step) => {
                if self.part != Some(step.part) {
                    self.part = Some(step.part);
                    self.output.part_started(step.part);
                }
                self.annotation.label = Some((step.step.clone(), step.p));
                self.annotation.step = Some((step.step.clone(), step.status == StepStatus::Ok));
                self.annotation.part = Some(step.part);
            }
            Event::Part(part) => {
                let (text, standing) = match part.verdict {
                    Verdict::Pass => ("PASS", Standing::Pass),
                    Verdict::Reject => ("REJECT", Standing::Reject),
                    Verdict::Incomplete => ("INCOMPLETE", Standing::Warning),
                };
                self.annotation.verdict = Some((format!("{text} #{}", part.part), standing));
                if self.split_by_part {
                    self.output.split_recording();
                }
                let clip = if part.verdict == Verdict::Reject {
                    self.output.save_clip(part.part)
                } else {
                    None
                };
                if let Some(path) = &clip {
                    tracing::info!(part = part.part, clip = %path.display(), "saving evidence clip");
                }
                self.part = None;
                self.out.station(event);
                // Committed (fsync) before the relay fires.
                let committed = self.audit.event(event, None, clip.as_deref());
                if let Ok(Some(row)) = &committed {
                    self.out.committed(part.part, row.0);
                }
                self.audited(committed.map(drop), "part verdict");
                self.line.event(event);
                self.report_lights();
                return;
            }
        }
        self.out.station(event);
        let recorded = self.audit.event(event, self.part, None).map(drop);
        self.audited(recorded, "step event");
        self.line.event(event);
        self.report_lights();
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
        }
        annotation
    }

    pub fn control(&mut self, ingest: &Ingest, request: ControlRequest) -> ControlReply {
        let reply = |ok: bool, error: Option<String>| ControlReply {
            ok,
            error,
            source: None,
            frames: None,
        };
        match request {
            ControlRequest::SwitchSource { source } => match ingest.switch_source(&source) {
                Ok(()) => reply(true, None),
                Err(err) => reply(false, Some(err.to_string())),
            },
            ControlRequest::Acknowledge => {
                let waiting = self.line.acknowledge();
                self.report_lights();
                let recorded = self
                    .audit
                    .operator(OperatorAction::Acknowledge { part: None })
                    .map(drop);
                self.audited(recorded, "acknowledgement");
                self.out.acknowledged(waiting);
                reply(true, None)
            }
            ControlRequest::Export { to } => match self.start_export(to) {
                Ok(_) => reply(true, None),
                Err(err) => reply(false, Some(err)),
            },
            ControlRequest::Status => ControlReply {
                ok: true,
                error: None,
                source: Some(self.source.clone()),
                frames: Some(self.frames.load(Ordering::Relaxed)),
            },
        }
    }
}
