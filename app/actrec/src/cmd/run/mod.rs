//! `actrec run`: the station engine.
//!
//! source → preprocess → infer (the model branch, its own thread: `model.rs`)
//! → decode steps → sequence (the main loop, here) → {outputs: overlay,
//! recordings, clips, stream, panel ring}. Loss and recovery are reported,
//! and the source can be switched at run time through the control socket
//! (`control.rs`). Events are written to stdout as JSON lines; logs go to
//! stderr.

mod audit;
mod export;
mod line;
mod model;
mod out;
mod panel;
mod station;
mod supervise;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use actrec_core::config::{Outputs, PreprocessOn, StationConfig, StreamOutput};
use actrec_core::inspect::Inspector;
use actrec_infer::Classifier;
use actrec_media::describe::{self, Fragments, FrameSizes, ModelFrames, OutputPlan};
use actrec_media::event::MediaEvent;
use actrec_media::ingest::{Ingest, IngestConfig};
use actrec_media::output::{ClipSettings, Output, OutputConfig};
use actrec_preprocess::Windower;
use crossbeam_channel::{bounded, select, tick};

use audit::AuditLog;
use line::LineOutputs;
use model::{ModelBranch, OnDevice, Predictions};
use out::{EventOut, JsonLines, Panel};
use panel::PanelInfo;
use station::{Setup, Sinks, Station};

use crate::Format;
use crate::files::{Failure, load_station, read_windows};

#[derive(clap::Args)]
pub struct Args {
    /// The station config.
    #[arg(long, env = "ACTREC_CONFIG", default_value = "/etc/actrec/station.toml")]
    config: PathBuf,
    /// Start with this source instead of the one in the config.
    #[arg(long)]
    source: Option<String>,
    /// Serve the panel and `actrec ctl` on this Unix socket instead of the
    /// config's `[operator] socket`.
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Stop after this many seconds.
    #[arg(long)]
    seconds: Option<f64>,
    /// Stop when a file source ends.
    #[arg(long)]
    exit_on_end: bool,
    /// Replay step predictions (window JSON lines, as `actrec check` reads
    /// them) against the video by station time. Until the model runs inside
    /// the engine, this is how decisions reach the overlay, recordings and clips.
    #[arg(long, value_name = "FILE")]
    windows: Option<PathBuf>,
    /// Events on stdout: JSON lines, or an operator's readable log.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// Also write every window's prediction to FILE (JSON lines, as
    /// `actrec check --windows` and `actrec run --windows` read them).
    #[arg(long, value_name = "FILE")]
    predictions: Option<PathBuf>,
    /// For `actrec bench`: each window's stage times and decision latency,
    /// then the process's peak memory and CPU time, as JSON lines to FILE.
    #[arg(long, value_name = "FILE", hide = true)]
    timings: Option<PathBuf>,
    /// For `actrec bench`: stop after this many model frames.
    #[arg(long, value_name = "N", hide = true)]
    max_frames: Option<u64>,
    /// For `actrec bench`: decode and count frames, without the model.
    #[arg(long, hide = true)]
    no_model: bool,
}

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Media(#[from] actrec_media::MediaError),
    #[error("{path}: {message}")]
    Path { path: PathBuf, message: String },
    #[error("signals: {0}")]
    Signals(std::io::Error),
    #[error("{0}")]
    Model(#[from] actrec_infer::InferError),
    #[error("inference: {0}")]
    Inference(String),
    #[error("panel socket: {0}")]
    Ipc(#[from] actrec_ipc::IpcError),
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let station = load_station(&args.config)?;
    let config_dir = args.config.parent().unwrap_or(Path::new("."));
    let mut info = PanelInfo {
        model: format!("{} {}", station.manifest.name, station.manifest.version),
        backend: "none".into(),
        ..PanelInfo::default()
    };
    let predictions = match &args.windows {
        _ if args.no_model => Predictions::None,
        Some(path) => {
            info.backend = "replayed predictions".into();
            Predictions::Replay(read_windows(path)?.into())
        }
        None if station.manifest.file.is_some() => {
            let model_dir = station.config.model_dir(config_dir);
            let settings = station.config.inference(config_dir);
            let mut loaded =
                actrec_infer::load(&model_dir, &station.manifest, &settings).map_err(|e| Failure::Start(e.into()))?;
            let wanted_on_device = settings.tensorrt.preprocess == PreprocessOn::Gpu;
            let on_device = wanted_on_device && loaded.backend.device_windows().is_some();
            if wanted_on_device && !on_device {
                loaded.fell_back.push(format!(
                    "preprocessing on the GPU needs the TensorRT backend: {} gets windows made on the CPU",
                    loaded.backend.name()
                ));
            }
            for reason in &loaded.fell_back {
                tracing::warn!(backend = loaded.backend.name(), "inference falls back: {reason}");
            }
            info.backend = if on_device {
                format!("{}, windows made on the GPU", loaded.backend.name())
            } else {
                loaded.backend.name().to_owned()
            };
            info.backend_note = (!loaded.fell_back.is_empty()).then(|| loaded.fell_back.join("; "));
            tracing::info!(backend = %info.backend, model = %station.manifest.name, "inference ready");
            let classifier = Classifier::new(loaded.backend, station.manifest.labels.clone());
            if on_device {
                Predictions::OnDevice(OnDevice::new(classifier, &station.manifest.input))
            } else {
                Predictions::Live {
                    windower: Windower::new(&station.manifest.input),
                    classifier,
                }
            }
        }
        None => Predictions::None,
    };
    // Windows made on the device take whole frames; the CPU path the model's square.
    let model_frames = match predictions {
        Predictions::OnDevice(_) => ModelFrames::WholeNv12,
        _ => ModelFrames::Square,
    };
    let inspector = match predictions {
        Predictions::None => None,
        _ => Some(Inspector::new(station.config.decoder.clone(), &station.definition)),
    };
    let judged_with = audit::judged_with(&station, &args.config, config_dir).map_err(Failure::Start)?;
    let mut sequences = vec![(station.config.sequence_file(config_dir), station.definition.clone())];
    sequences.extend(station.alternatives.iter().cloned());
    let start = Start {
        model_size: station.manifest.input.size,
        model_frames,
        predictions,
        inspector,
        judged_with,
        sequences,
        info,
    };
    engine(args, &station.config, start).map_err(Failure::Start)
}

/// What the engine starts from, once the files are loaded and checked.
struct Start {
    model_size: u32,
    model_frames: ModelFrames,
    predictions: Predictions,
    inspector: Option<Inspector>,
    judged_with: actrec_audit::record::JudgedWith,
    sequences: Vec<(PathBuf, actrec_core::sequence::Definition)>,
    info: PanelInfo,
}

fn engine(args: &Args, config: &StationConfig, start: Start) -> Result<(), StartError> {
    let Start {
        model_size,
        model_frames,
        predictions,
        inspector,
        judged_with,
        sequences,
        mut info,
    } = start;
    actrec_media::init()?;
    let config_dir = args.config.parent().unwrap_or(Path::new("."));
    let profile = describe::pick_profile(config.media.profile, |name| {
        actrec_media::gst::ElementFactory::find(name).is_some()
    });
    let media = &config.media;
    let fragments = Fragments::new(profile, &media.overrides, media.bitrate_kbps, media.display_fps);
    let sizes = FrameSizes {
        model: model_size,
        model_frames,
        display_width: media.display_width,
        display_height: media.display_height,
        display_fps: media.display_fps,
    };
    tracing::info!(?profile, station = %config.station.id, "engine starting");

    let initial = args.source.clone().unwrap_or_else(|| config.station.source.clone());
    let sources = config
        .sources
        .keys()
        .filter_map(|name| Some((name.clone(), config.source(name, config_dir)?)))
        .collect();
    let (events_tx, events) = crossbeam_channel::unbounded();

    let data_dir = config.data_dir(config_dir);
    std::fs::create_dir_all(&data_dir).map_err(|err| StartError::Path {
        path: data_dir.clone(),
        message: format!("cannot create the data directory: {err}"),
    })?;
    let mut output_config = output_config(config, &data_dir, fragments.clone(), sizes)?;
    if output_config.plan.outputs.preview && !has_desktop() {
        // Without a desktop, video sinks may crash the process; the engine must not go down for a preview.
        output_config.plan.outputs.preview = false;
        let _ = events_tx.send(MediaEvent::OutputError {
            message: "preview: no desktop session (neither DISPLAY nor WAYLAND_DISPLAY is set); preview is off".into(),
        });
    }
    // The lines first: every line safe (red, relay held) before anything else can fail.
    let line = LineOutputs::open(&config.gpio, &data_dir)?;
    let audit = AuditLog::open(
        &config.audit_path(config_dir),
        actrec_audit::Settings::from_config(&config.audit),
        judged_with,
    )?;
    // Absolute, since the panel may run from another directory.
    info.video = output_config
        .plan
        .outputs
        .shm
        .as_ref()
        .map(|shm| std::path::absolute(&shm.path).unwrap_or_else(|_| shm.path.clone()));
    // Decisions only (no annotated output): no display branch to decode for.
    let display = output_config.plan.has_outputs();
    let mut output = Output::start(output_config, events_tx.clone())?;
    let ingest = Ingest::start(
        IngestConfig {
            sources,
            initial: initial.clone(),
            fragments,
            sizes,
            loss_timeout: Duration::from_millis(u64::from(media.loss_timeout_ms)),
            display,
        },
        events_tx,
    )?;
    output.feed(ingest.display.clone())?;
    let mut model =
        ModelBranch::start(ingest.frames.clone(), predictions, args.max_frames).map_err(|err| StartError::Path {
            path: "model thread".into(),
            message: err.to_string(),
        })?;

    let socket = args.socket.clone().or_else(|| config.socket(config_dir));
    let panel = socket
        .as_deref()
        .map(|path| actrec_ipc::Server::bind(path, actrec_ipc::ServerSettings::default()))
        .transpose()?
        .map(Panel::new);
    let commands = panel
        .as_ref()
        .map_or_else(crossbeam_channel::never, |p| p.server.commands.clone());

    let (signal_tx, signals) = bounded(1);
    let mut signal_iter =
        signal_hook::iterator::Signals::new([signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT])
            .map_err(StartError::Signals)?;
    std::thread::spawn(move || {
        if let Some(signal) = signal_iter.forever().next() {
            let _ = signal_tx.send(signal);
        }
    });

    supervise::ready(&format!("inspecting; source {initial}"));
    let deadline = args
        .seconds
        .map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    let ticks = tick(Duration::from_millis(200));
    let out = EventOut {
        format: args.format,
        colour: matches!(args.format, Format::Text)
            && std::io::IsTerminal::is_terminal(&std::io::stdout())
            && std::env::var_os("NO_COLOR").is_none(),
        panel,
    };
    let (export_tx, export_updates) = crossbeam_channel::unbounded();
    let mut station = Station::new(
        Setup {
            config: Arc::new(config.clone()),
            config_dir: config_dir.to_owned(),
            source: initial,
            frames: Arc::clone(&model.frames),
            inspector,
            sequences,
            info,
            export_updates: export_tx,
        },
        Sinks {
            output,
            line,
            audit,
            out,
            log: args.predictions.as_deref().map(JsonLines::create).transpose()?,
            timings: args.timings.as_deref().map(JsonLines::create).transpose()?,
        },
    );
    let mut stop_reason = String::from("stopped");
    loop {
        select! {
            recv(events) -> event => {
                let Ok(event) = event else { break };
                station.on_media_event(&event);
                if args.exit_on_end && matches!(event, MediaEvent::SourceEnded { .. }) {
                    break;
                }
            }
            recv(model.predictions) -> prediction => {
                // The branch has ended: the frame limit, or the ingest is gone.
                let Ok(prediction) = prediction else { break };
                station.on_prediction(prediction)?;
            }
            recv(export_updates) -> update => {
                if let Ok(update) = update {
                    station.on_export(update);
                }
            }
            recv(commands) -> command => {
                if let Ok(command) = command {
                    station.command(&ingest, command);
                }
            }
            recv(signals) -> signal => {
                let signal = signal.unwrap_or(0);
                tracing::info!(signal, "stopping on signal");
                stop_reason = format!("stopped by signal {signal}");
                break;
            }
            recv(ticks) -> _ => {
                station.tick(&model);
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
            }
        }
    }
    supervise::stopping();
    drop(ingest);
    for prediction in model.finish() {
        station.on_prediction(prediction)?;
    }
    station.finish();
    station.stopped(&stop_reason);
    let display_frames = station.output.shutdown();
    // Events of the last moments (a clip finished during shutdown) are still reported.
    for event in events.try_iter() {
        station.out.media(&event);
    }
    station.line.shutdown();
    let model_frames = station.frames.load(Ordering::Relaxed);
    station.out.stopped(model_frames, display_frames);
    if let Some(path) = &args.timings {
        report_usage(path, model_frames, display_frames)?;
    }
    Ok(())
}

/// The run's last timings line: frames, peak memory and CPU time, taken
/// after everything has shut down.
fn report_usage(path: &Path, model_frames: u64, display_frames: u64) -> Result<(), StartError> {
    let usage = crate::resources::own().map_err(|err| StartError::Path {
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

fn has_desktop() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()))
}

/// Resolves where each output writes, creating directories as needed.
fn output_config(
    config: &StationConfig,
    data_dir: &Path,
    fragments: Fragments,
    sizes: FrameSizes,
) -> Result<OutputConfig, StartError> {
    let mut outputs: Outputs = config.outputs.clone();
    if let Some(shm) = outputs.shm.as_mut() {
        shm.path = data_dir.join(&shm.path);
    }
    let ensure_dir = |dir: &Path| {
        std::fs::create_dir_all(dir).map_err(|err| StartError::Path {
            path: dir.to_owned(),
            message: format!("cannot create: {err}"),
        })
    };
    let mp4_location = match &outputs.mp4 {
        Some(mp4) => {
            let dir = data_dir.join(&mp4.dir);
            ensure_dir(&dir)?;
            Some(describe::mp4_location(&dir, &actrec_audit::Timestamp::now().compact()))
        }
        None => None,
    };
    if let Some(shm) = &outputs.shm
        && let Some(parent) = shm.path.parent()
    {
        ensure_dir(parent)?;
    }
    let clips = outputs.clips.as_ref().map(|c| ClipSettings {
        dir: data_dir.join(&c.dir),
        pre_roll: Duration::from_secs(u64::from(c.pre_roll_seconds)),
        max: Duration::from_secs(u64::from(c.max_seconds)),
    });
    let (rtsp, rtsp_feed_port) = match &outputs.stream {
        Some(StreamOutput::Rtsp { port, path }) => (
            Some((*port, path.clone())),
            Some(actrec_media::output::free_udp_port()?),
        ),
        _ => (None, None),
    };
    Ok(OutputConfig {
        plan: OutputPlan {
            outputs,
            mp4_location,
            rtsp_feed_port,
            clips: clips.is_some(),
        },
        fragments,
        sizes,
        clips,
        rtsp,
    })
}
