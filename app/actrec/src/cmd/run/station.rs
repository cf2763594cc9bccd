//! What the engine's main loop keeps and how it reacts: predictions go
//! through the decoder and checker, and their events, the media events and
//! the faults drive the overlay, the recordings and clips, the line outputs
//! (tower light, reject relay, heartbeat) and the event stream.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actrec_audit::record::{OperatorAction, SourceChange, StationEvent};
use actrec_core::pin::{Attempt, Lockout, PinHash};
use actrec_core::sequence::Definition;
use actrec_ipc::{ClientId, Command, ExportState, Status, ToClient, ToEngine};

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
use super::export::{self, ExportUpdate};
use super::line::{FaultChange, LineOutputs};
use super::model::{ModelBranch, Predicted, Prediction};
use super::out::{EventOut, JsonLines, progress_parts};
use super::panel::{PanelInfo, Rates, STATUS_EVERY, Shown};
use super::supervise;

/// `model_behind` clears once no window has been left out for this long.
const BEHIND_CLEARS_AFTER: Duration = Duration::from_secs(5);

/// How often the mount roots are looked at for USB sticks.
const STICK_POLL: Duration = Duration::from_secs(1);

/// Where the station's conclusions go.
pub struct Sinks {
    pub output: Output,
    pub line: LineOutputs,
    pub audit: AuditLog,
    pub out: EventOut,
    pub log: Option<JsonLines>,
    /// Each window's stage times and decision latency (`--timings`).
    pub timings: Option<JsonLines>,
}

/// What the station starts with, besides its sinks.
pub struct Setup {
    pub config: Arc<StationConfig>,
    pub config_dir: PathBuf,
    pub source: String,
    /// Model frames taken from the ingest.
    pub frames: Arc<AtomicU64>,
    pub inspector: Option<Inspector>,
    /// Every selectable sequence with its file; the one in use first.
    pub sequences: Vec<(PathBuf, Definition)>,
    pub info: PanelInfo,
    pub export_updates: Sender<ExportUpdate>,
}

pub struct Station {
    config: Arc<StationConfig>,
    config_dir: PathBuf,
    pub source: String,
    /// Model frames taken from the ingest.
    pub frames: Arc<AtomicU64>,
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
    pub log: Option<JsonLines>,
    timings: Option<JsonLines>,
    /// What the decisions say, burned into the video.
    annotation: Annotation,
    part: Option<u32>,
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
    rates: Rates,
    last_status: Option<(Instant, Status)>,
}

impl Station {
    pub fn new(setup: Setup, sinks: Sinks) -> Self {
        let Setup {
            config,
            config_dir,
            source,
            frames,
            inspector,
            sequences,
            info,
            export_updates,
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
            log,
            timings,
        } = sinks;
        let mut station = Self {
            source,
            frames,
            split_by_part: config.outputs.mp4.as_ref().is_some_and(|m| m.split == Mp4Split::Part),
            inspector,
            min_confidence: config.decoder.min_confidence,
            sticks: Vec::new(),
            last_stick_poll: None,
            windows_skipped: (0, Instant::now()),
            export_updates,
            export: None,
            sequence: sequences.first().map(|(_, d)| d.name.clone()).unwrap_or_default(),
            sequences,
            pin: config.operator.pin(),
            lockout: Lockout::default(),
            started: Instant::now(),
            info,
            shown: Shown::default(),
            fault_detail: String::new(),
            rates: Rates::new(),
            last_status: None,
            config,
            config_dir,
            output,
            line,
            audit,
            last_prune: Instant::now(),
            out,
            log,
            timings,
            annotation,
            part: None,
        };
        match station.audit.outage() {
            Ok(Some(seconds)) => {
                tracing::warn!(
                    seconds,
                    "the engine's previous run was cut off: the outage is in the audit log"
                );
                station.out.outage(seconds);
            }
            Ok(None) => {}
            Err(err) => station.audited(Err(err), "outage of the previous run"),
        }
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
        let received = Instant::now();
        let Predicted { window, timing } = prediction.map_err(StartError::Inference)?;
        if let Some(log) = self.log.as_mut() {
            log.window(&window)?;
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
        if let (Some(timings), Some(timing)) = (self.timings.as_mut(), timing) {
            // The verdict is out and the lines written: this is the decision latency.
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            timings.write(&serde_json::json!({
                "t": window.t,
                "preprocess_ms": ms(timing.preprocess),
                "inference_ms": ms(timing.inference),
                "decision_ms": ms(received.elapsed()),
                "latency_ms": ms(timing.last_frame_at.elapsed()),
            }))?;
        }
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
            // Started is not yet video: the fault clears at the first frame (restored).
            MediaEvent::SourceStarted { source, .. } => (None, Some((source, SourceChange::Selected, None, ""))),
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
                supervise::status(&format!(
                    "NO VIDEO: switched to source {to}, waiting for its first frame"
                ));
                (
                    Some(true),
                    Some((to, SourceChange::Selected, Some(from.clone()), "switched")),
                )
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
                MediaEvent::SourceSwitched { .. } => "waiting for the first frame".into(),
                _ => String::new(),
            };
            self.fault(FaultKind::NoVideo, active, &detail);
        }
        self.output.annotate(&self.annotation());
    }

    /// Periodic work on the main loop's ticks: the inference watch, pruning.
    pub fn tick(&mut self, model: &ModelBranch) {
        self.watch_inference(model);
        self.watch_windows(model);
        if self.last_prune.elapsed() >= PRUNE_EVERY {
            self.last_prune = Instant::now();
            self.audit.prune();
        }
        if self.last_stick_poll.is_none_or(|t| t.elapsed() >= STICK_POLL) {
            self.last_stick_poll = Some(Instant::now());
            self.poll_sticks();
        }
        self.rates
            .update(self.frames.load(Ordering::Relaxed), self.output.frames_fed());
        self.publish_status();
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
        if let Some(busy) = self
            .export
            .as_ref()
            .filter(|e| matches!(e.state, ExportState::Running { .. }))
        {
            return Err(format!("an export to {} is running", busy.to.display()));
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
        self.export = Some(actrec_ipc::Export {
            to: target.clone(),
            state: ExportState::Running {
                phase: "starting".into(),
                done: 0,
                total: 0,
            },
        });
        self.out.export_started(&target);
        Ok(target)
    }

    pub fn on_export(&mut self, update: ExportUpdate) {
        match update {
            ExportUpdate::Progress(progress) => {
                let (phase, done, total) = progress_parts(&progress);
                self.set_export_state(ExportState::Running {
                    phase: phase.into(),
                    done,
                    total,
                });
                self.out.export_progress(&progress);
            }
            ExportUpdate::Done(result) => match result {
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
                    self.set_export_state(ExportState::Done {
                        folder: exported.dir.clone(),
                        rows: exported.rows,
                    });
                    self.out.export_done(&exported);
                }
                Err(message) => {
                    tracing::error!("{message}");
                    self.set_export_state(ExportState::Failed { error: message.clone() });
                    self.out.export_failed(&message);
                }
            },
        }
    }

    fn set_export_state(&mut self, state: ExportState) {
        if let Some(export) = self.export.as_mut() {
            export.state = state;
        }
    }

    /// Checks the model branch for a stall.
    fn watch_inference(&mut self, model: &ModelBranch) {
        let busy = model.busy_for();
        // A window takes milliseconds on station hardware; `[model] stall_seconds` is the limit.
        let limit = Duration::from_secs(u64::from(self.config.model.stall_seconds));
        let stalled = busy.is_some_and(|busy| busy >= limit);
        if stalled != self.line.has_fault(FaultKind::InferenceStalled) {
            let detail = busy.map(|b| format!("one frame in the model branch for {:.1} s", b.as_secs_f64()));
            self.fault(FaultKind::InferenceStalled, stalled, &detail.unwrap_or_default());
        }
    }

    /// Windows left out (frames dropped by a live source because the model
    /// branch falls behind) mean steps may go unseen: a fault, not a guess.
    fn watch_windows(&mut self, model: &ModelBranch) {
        let skipped = model.windows_skipped();
        let behind = self.line.has_fault(FaultKind::ModelBehind);
        if skipped > self.windows_skipped.0 {
            let new = skipped - self.windows_skipped.0;
            self.windows_skipped = (skipped, Instant::now());
            tracing::warn!(source = %self.source, skipped = new, total = skipped, "windows left out: frames missing");
            if !behind {
                let detail = format!(
                    "{new} window(s) left out, frames missing: the model falls behind source {}",
                    self.source
                );
                self.fault(FaultKind::ModelBehind, true, &detail);
            }
        } else if behind && self.windows_skipped.1.elapsed() >= BEHIND_CLEARS_AFTER {
            self.fault(FaultKind::ModelBehind, false, "");
        }
    }

    fn fault(&mut self, kind: FaultKind, active: bool, detail: &str) {
        if let Some(change) = self.line.fault(kind, active) {
            if active {
                self.fault_detail = detail.to_owned();
            }
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
        self.shown = self.shown.after(event, self.line.reject_waiting());
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
        } else if self.line.has_fault(FaultKind::ModelBehind) {
            annotation.verdict = Some(("FAULT: model behind the camera".to_owned(), Standing::Fault));
        }
        annotation
    }

    /// A command from a panel or tool; the reply goes back to its sender.
    pub fn command(&mut self, ingest: &Ingest, command: Command) {
        let Command { client, role, command } = command;
        let name = command_name(&command);
        // Never the command itself: it may hold a PIN.
        tracing::info!(client = client.0, role = %role, command = name, "command");
        let result = match command {
            ToEngine::SwitchSource { source } => ingest.switch_source(&source).map_err(|err| err.to_string()),
            ToEngine::Acknowledge { pin } => self.acknowledge(&pin),
            ToEngine::Export { to } => self.start_export(to).map(drop),
            ToEngine::SelectSequence { name } => self.select_sequence(&name),
            ToEngine::Sync => {
                self.sync(client);
                Ok(())
            }
        };
        if let Err(reason) = &result {
            self.out.refused(name, reason);
        }
        self.reply(client, result);
        self.publish_status();
    }

    fn reply(&self, client: ClientId, result: Result<(), String>) {
        if let Some(panel) = &self.out.panel {
            panel.server.send_to(
                client,
                ToClient::Reply {
                    ok: result.is_ok(),
                    error: result.err(),
                },
            );
        }
    }

    /// The status and the recent parts' events, for a client that just came.
    fn sync(&mut self, client: ClientId) {
        let status = self.status();
        if let Some(panel) = &self.out.panel {
            panel.server.send_to(
                client,
                ToClient::Status {
                    status: Box::new(status),
                },
            );
            for event in panel.recent() {
                panel.server.send_to(client, ToClient::Event { event });
            }
        }
    }

    /// A supervisor's acknowledgement, checked against the PIN's hash; wrong
    /// PINs are audited and, after a few, lock the pad for a while.
    fn acknowledge(&mut self, pin: &str) -> Result<(), String> {
        if let Some(hash) = &self.pin {
            let now = self.started.elapsed().as_secs_f64();
            let attempt = self.lockout.attempt(now, || hash.verify(pin));
            if attempt != Attempt::Accepted {
                let recorded = self.audit.operator(OperatorAction::WrongPin).map(drop);
                self.audited(recorded, "wrong PIN");
            }
            match attempt {
                Attempt::Accepted => {}
                Attempt::Wrong { tries_left } => {
                    return Err(format!(
                        "wrong PIN ({tries_left} {} left before the pad locks)",
                        if tries_left == 1 { "try" } else { "tries" }
                    ));
                }
                Attempt::Locked { seconds } => {
                    return Err(format!("too many wrong PINs: try again in {:.0} s", seconds.ceil()));
                }
            }
        }
        let waiting = self.line.acknowledge();
        self.report_lights();
        let recorded = self
            .audit
            .operator(OperatorAction::Acknowledge { part: None })
            .map(drop);
        self.audited(recorded, "acknowledgement");
        self.out.acknowledged(waiting);
        if self.shown.standing == actrec_ipc::Standing::Reject {
            self.shown.detail = format!("{} (acknowledged)", self.shown.detail);
        }
        Ok(())
    }

    /// Checks parts against another configured sequence, between parts.
    fn select_sequence(&mut self, name: &str) -> Result<(), String> {
        let Some((file, definition)) = self.sequences.iter().find(|(_, d)| d.name == name) else {
            let names: Vec<&str> = self.sequences.iter().map(|(_, d)| d.name.as_str()).collect();
            return Err(format!(
                "sequence `{name}`: not configured (configured: {})",
                names.join(", ")
            ));
        };
        if name == self.sequence {
            return Ok(());
        }
        let artifact = super::audit::sequence_artifact(definition, file).map_err(|err| err.to_string())?;
        if let Some(inspector) = self.inspector.as_mut() {
            inspector
                .select_sequence(definition)
                .map_err(|open| format!("part #{open} is open: select the sequence when it closes"))?;
            self.annotation.expected_next = inspector.expected_next();
        }
        let recorded = self
            .audit
            .operator(OperatorAction::SelectSequence {
                from: self.sequence.clone(),
                to: name.to_owned(),
            })
            .map(drop);
        self.audited(recorded, "sequence selection");
        self.audit.set_sequence(artifact);
        tracing::info!(sequence = name, "sequence selected");
        self.sequence = name.to_owned();
        self.out.sequence_selected(name);
        self.output.annotate(&self.annotation());
        Ok(())
    }

    /// The station as the panel shows it.
    pub fn status(&self) -> Status {
        let (standing, headline, detail) = if self.line.has_fault(FaultKind::NoVideo) {
            (
                actrec_ipc::Standing::NoVideo,
                "NO VIDEO".to_owned(),
                self.fault_detail.clone(),
            )
        } else if let Some(fault) = self.line.faults().next() {
            (
                actrec_ipc::Standing::Fault,
                format!("FAULT: {}", fault.as_str().replace('_', " ")),
                self.fault_detail.clone(),
            )
        } else {
            let shown = self.shown.clone();
            (shown.standing, shown.headline, shown.detail)
        };
        let mut status = Status {
            station: self.config.station.id.clone(),
            software: env!("CARGO_PKG_VERSION").to_owned(),
            model: self.info.model.clone(),
            backend: self.info.backend.clone(),
            backend_note: self.info.backend_note.clone(),
            sequence: self.sequence.clone(),
            sequences: self.sequences.iter().map(|(_, d)| d.name.clone()).collect(),
            source: self.source.clone(),
            sources: self.config.sources.keys().cloned().collect(),
            standing,
            headline,
            detail,
            part: self.inspector.as_ref().and_then(Inspector::open_part),
            expected_next: self
                .inspector
                .as_ref()
                .map(Inspector::expected_next)
                .unwrap_or_default(),
            progress: self
                .inspector
                .as_ref()
                .and_then(Inspector::progress)
                .map(|p| actrec_ipc::Progress {
                    done: p.done,
                    total: p.total,
                    // The round being done, counted from 1, until the group is complete.
                    repeat: p.rounds.map(|(done, all)| ((done + 1).min(all), all)),
                }),
            faults: self.line.faults().map(|f| f.as_str().to_owned()).collect(),
            reject_waiting: self.line.reject_waiting(),
            sticks: self.sticks.clone(),
            export: self.export.clone(),
            video: self.info.video.clone(),
            uptime_seconds: self.started.elapsed().as_secs_f64().round(),
            ..Status::default()
        };
        self.rates.fill(&mut status);
        status
    }

    /// Sends the status to every panel if it changed, or once a second.
    fn publish_status(&mut self) {
        let Some(panel) = &self.out.panel else { return };
        let status = self.status();
        let due = self
            .last_status
            .as_ref()
            .is_none_or(|(at, last)| at.elapsed() >= STATUS_EVERY || !same_state(last, &status));
        if due {
            panel.server.publish(&ToClient::Status {
                status: Box::new(status.clone()),
            });
            self.last_status = Some((Instant::now(), status));
        }
    }
}

/// Equal but for the figures that move all the time.
fn same_state(a: &Status, b: &Status) -> bool {
    let calm = |s: &Status| Status {
        fps: 0.0,
        display_fps: 0.0,
        cpu_percent: 0.0,
        memory_mb: 0.0,
        gpu: None,
        uptime_seconds: 0.0,
        ..s.clone()
    };
    calm(a) == calm(b)
}

fn command_name(command: &ToEngine) -> &'static str {
    match command {
        ToEngine::SwitchSource { .. } => "switch source",
        ToEngine::Acknowledge { .. } => "acknowledge",
        ToEngine::Export { .. } => "export",
        ToEngine::SelectSequence { .. } => "select sequence",
        ToEngine::Sync => "sync",
    }
}
