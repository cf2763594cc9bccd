//! The engine loop: one thread that owns the [`Engine`] and waits on its
//! inputs, in the style of mini-redis's `server::run`.
//!
//! Threads and channels, camera to relay:
//!
//! ```text
//!  GStreamer streaming threads (ingest)
//!     ├─ model frames ──(bounded)──▶ model thread (model_branch: windows → predictor)
//!     │                                   └─ predictions ──(bounded 64)──┐
//!     ├─ display frames ──▶ output feeder thread (overlay, mp4, clips,    │
//!     │                      RTSP, panel ring)                           │
//!     └─ media events ──(unbounded)──────────────────────────────────────┤
//!  IPC server threads (one per client) ── commands ──────────────────────┤
//!  export thread ── export updates ──────────────────────────────────────┤
//!  ticks (200 ms) ───────────────────────────────────────────────────────┤
//!  the caller ── shutdown ───────────────────────────────────────────────┤
//!                                                                        ▼
//!                    engine loop (this thread): Engine ─▶ audit (SQLite), line outputs
//!                    (GPIO, with its ticker thread), events (stdout, panel), overlay
//! ```
//!
//! The loop never blocks on a client or an output: the IPC server drops a
//! slow client's oldest messages, the outputs take annotations without
//! waiting. Lock order: the engine holds no lock across a call into a seam;
//! the only locks are inside seams (the actuators' mutex, shared with the
//! line ticker thread; the model branch's busy mark), each taken alone.
//!
//! At stop: the ingest is dropped first, so the model branch ends after the
//! frames it has; its last predictions are judged; an open part is closed
//! incomplete; the stop is audited; the outputs finish their files; the
//! lines go safe.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use actrec_ipc::Command;
use actrec_media::event::MediaEvent;
use crossbeam_channel::{Receiver, select, tick};

use crate::audit_log::AuditLog;
use crate::clock::Clock;
use crate::deps::clients::Clients;
use crate::deps::events::{EventOut, EventSink, PanelLink};
use crate::deps::lines::LineOutputs;
use crate::deps::mounts::Mounts;
use crate::deps::source::SourceControl;
use crate::deps::video::VideoOutputs;
use crate::engine::{Engine, Inspection, Setup, Sinks};
use crate::json_lines::JsonLines;
use crate::model_branch::ModelBranch;
use crate::options::Options;
use crate::{StationError, supervise};

/// How often the engine looks at its watches, the sticks and the status.
const TICK: Duration = Duration::from_millis(200);

/// Everything the engine touches, made by the caller: [`crate::assemble`]
/// makes the real ones from a station's config.
pub struct Deps {
    pub inspection: Inspection,
    /// The source's news.
    pub media_events: Receiver<MediaEvent>,
    /// The frame source; dropped at stop, which ends the model branch.
    pub source: Box<dyn SourceControl>,
    /// The predictor on its thread.
    pub model: ModelBranch,
    pub video: Box<dyn VideoOutputs>,
    pub lines: LineOutputs,
    pub audit: AuditLog,
    pub events: Vec<Box<dyn EventSink>>,
    /// The panel and tools, and their commands.
    pub clients: Option<(Box<dyn Clients>, Receiver<Command>)>,
    pub mounts: Box<dyn Mounts>,
    pub clock: Arc<dyn Clock>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// "stopped", or the reason the caller gave on `shutdown`.
    pub stop_reason: String,
    pub model_frames: u64,
    pub display_frames: u64,
}

/// Runs the station until `shutdown` says why it stops (or is dropped),
/// the input ends, or `options` say so.
pub fn run(deps: Deps, options: &Options, shutdown: Receiver<String>) -> Result<Summary, StationError> {
    let Deps {
        inspection,
        media_events,
        source,
        mut model,
        video,
        lines,
        audit,
        events,
        clients,
        mounts,
        clock,
    } = deps;
    let (clients, commands) = match clients {
        Some((clients, commands)) => (Some(PanelLink::new(clients)), commands),
        None => (None, crossbeam_channel::never()),
    };
    let (export_tx, export_updates) = crossbeam_channel::unbounded();
    let initial = inspection.source.clone();
    let mut engine = Engine::new(
        Setup {
            inspection,
            frames: Arc::clone(&model.frames),
            export_updates: export_tx,
            clock: Arc::clone(&clock),
        },
        Sinks {
            output: video,
            line: lines,
            audit,
            out: EventOut {
                sinks: events,
                panel: clients,
            },
            mounts,
            log: options.predictions.as_deref().map(JsonLines::create).transpose()?,
            timings: options.timings.as_deref().map(JsonLines::create).transpose()?,
        },
    );
    supervise::ready(&format!("inspecting; source {initial}"));
    let deadline = options
        .seconds
        .map(|s| clock.now() + Duration::from_secs_f64(s.max(0.0)));
    let ticks = tick(TICK);
    let mut stop_reason = String::from("stopped");
    loop {
        select! {
            recv(media_events) -> event => {
                let Ok(event) = event else { break };
                engine.on_media_event(&event);
                if options.exit_on_end && matches!(event, MediaEvent::SourceEnded { .. }) {
                    break;
                }
            }
            recv(model.predictions) -> prediction => {
                // The branch has ended: the frame limit, or the ingest is gone.
                let Ok(prediction) = prediction else { break };
                engine.on_prediction(prediction)?;
            }
            recv(export_updates) -> update => {
                if let Ok(update) = update {
                    engine.on_export(update);
                }
            }
            recv(commands) -> command => {
                if let Ok(command) = command {
                    engine.command(&*source, command);
                }
            }
            recv(shutdown) -> reason => {
                stop_reason = reason.unwrap_or_else(|_| "stopped: its caller went away".into());
                tracing::info!(reason = %stop_reason, "stopping");
                break;
            }
            recv(ticks) -> _ => {
                engine.tick(&model);
                if deadline.is_some_and(|d| clock.now() >= d) {
                    break;
                }
            }
        }
    }
    supervise::stopping();
    drop(source);
    for prediction in model.finish() {
        engine.on_prediction(prediction)?;
    }
    engine.finish();
    engine.stopped(&stop_reason);
    let display_frames = engine.shutdown_outputs();
    // Events of the last moments (a clip finished during shutdown) are still reported.
    for event in media_events.try_iter() {
        engine.out.media(&event);
    }
    engine.line.shutdown();
    let model_frames = engine.frames.load(Ordering::Relaxed);
    engine.out.stopped(model_frames, display_frames);
    if let Some(path) = &options.timings {
        report_usage(path, model_frames, display_frames)?;
    }
    Ok(Summary {
        stop_reason,
        model_frames,
        display_frames,
    })
}

/// The run's last timings line: frames, peak memory and CPU time, taken
/// after everything has shut down.
fn report_usage(path: &std::path::Path, model_frames: u64, display_frames: u64) -> Result<(), StationError> {
    let usage = crate::host::own().map_err(|err| StationError::Path {
        path: "/proc/self".into(),
        message: err.to_string(),
    })?;
    let mut file = JsonLines::append(path)?;
    file.write(&serde_json::json!({
        "model_frames": model_frames,
        "display_frames": display_frames,
        "peak_rss_kb": usage.peak_rss_kb,
        "cpu_seconds": usage.cpu_seconds,
    }))
}
