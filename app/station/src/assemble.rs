//! The real [`Deps`] from a loaded station: GStreamer's ingest and
//! outputs, the model on its backend, the GPIO lines, the SQLite audit log,
//! the Unix socket for the panel, the kernel's mount table, the host's clock.
//! The lines come first: every line safe (red, relay held) before anything
//! else can fail.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actrec_core::config::{Outputs, PreprocessOn, StationConfig, StreamOutput};
use actrec_core::inspect::Inspector;
use actrec_infer::Classifier;
use actrec_media::describe::{self, Fragments, FrameSizes, ModelFrames, OutputPlan};
use actrec_media::event::MediaEvent;
use actrec_media::ingest::{Ingest, IngestConfig};
use actrec_media::output::{ClipSettings, Output, OutputConfig};
use actrec_preprocess::Windower;

use crate::audit_log::{self, AuditLog};
use crate::clock::{Clock, SystemClock};
use crate::deps::clients::Clients;
use crate::deps::events::{EventSink, Stdout};
use crate::deps::lines::LineOutputs;
use crate::deps::mounts::ProcMounts;
use crate::engine::{Inspection, PanelInfo};
use crate::load::{LoadedStation, read_windows};
use crate::model_branch::{ModelBranch, OnDevice, Predictions};
use crate::{Deps, Options, Predictor, Socket, StationError};

/// The predictor the options and the config ask for, and what the panel
/// says of it.
fn predictor(station: &LoadedStation, options: &Options) -> Result<(Predictions, PanelInfo), StationError> {
    let config_dir = &station.config_dir;
    let mut info = PanelInfo {
        model: format!("{} {}", station.manifest.name, station.manifest.version),
        backend: "none".into(),
        ..PanelInfo::default()
    };
    let predictions = match &options.predictor {
        Predictor::DecodeOnly => Predictions::None,
        Predictor::Replay(path) => {
            info.backend = "replayed predictions".into();
            let windows = read_windows(path).map_err(|problems| StationError::Path {
                path: path.clone(),
                message: problems.to_string(),
            })?;
            Predictions::Replay(windows.into())
        }
        Predictor::Model if station.manifest.file.is_some() => {
            let model_dir = station.config.model_dir(config_dir);
            let settings = station.config.inference(config_dir);
            let mut loaded = actrec_infer::load(&model_dir, &station.manifest, &settings)?;
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
        Predictor::Model => Predictions::None,
    };
    Ok((predictions, info))
}

/// The station's real parts, started, with `extra` event sinks beside
/// stdout (`options.stdout`).
pub fn deps(station: &LoadedStation, options: &Options, extra: Vec<Box<dyn EventSink>>) -> Result<Deps, StationError> {
    let (predictions, mut info) = predictor(station, options)?;
    // Windows made on the device take whole frames; the CPU path the model's square.
    let model_frames = match predictions {
        Predictions::OnDevice(_) => ModelFrames::WholeNv12,
        _ => ModelFrames::Square,
    };
    let inspector = match predictions {
        Predictions::None => None,
        _ => Some(Inspector::new(station.config.decoder.clone(), &station.definition)),
    };
    let config = &station.config;
    let config_dir = station.config_dir.as_path();
    let judged_with = audit_log::judged_with(station)?;
    let mut sequences = vec![(config.sequence_file(config_dir), station.definition.clone())];
    sequences.extend(station.alternatives.iter().cloned());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);

    actrec_media::init()?;
    let profile = describe::pick_profile(config.media.profile, |name| {
        actrec_media::gst::ElementFactory::find(name).is_some()
    });
    let media = &config.media;
    let fragments = Fragments::new(profile, &media.overrides, media.bitrate_kbps, media.display_fps);
    let sizes = FrameSizes {
        model: station.manifest.input.size,
        model_frames,
        display_width: media.display_width,
        display_height: media.display_height,
        display_fps: media.display_fps,
    };
    tracing::info!(?profile, station = %config.station.id, "engine starting");

    let initial = options.source.clone().unwrap_or_else(|| config.station.source.clone());
    let sources = config
        .sources
        .keys()
        .filter_map(|name| Some((name.clone(), config.source(name, config_dir)?)))
        .collect();
    let (events_tx, media_events) = crossbeam_channel::unbounded();

    let data_dir = config.data_dir(config_dir);
    std::fs::create_dir_all(&data_dir).map_err(|err| StationError::Path {
        path: data_dir.clone(),
        message: format!("cannot create the data directory: {err}"),
    })?;
    let mut output_config = output_config(config, &data_dir, fragments.clone(), sizes)?;
    if output_config.plan.outputs.preview && !crate::host::has_desktop() {
        // Without a desktop, video sinks may crash the process; the engine must not go down for a preview.
        output_config.plan.outputs.preview = false;
        let _ = events_tx.send(MediaEvent::OutputError {
            message: "preview: no desktop session (neither DISPLAY nor WAYLAND_DISPLAY is set); preview is off".into(),
        });
    }
    // The lines first: every line safe (red, relay held) before anything else can fail.
    let lines = LineOutputs::open(&config.gpio, &data_dir, Arc::clone(&clock))?;
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
    let mut video = Output::start(output_config, events_tx.clone())?;
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
    video.feed(ingest.display.clone())?;
    let model = ModelBranch::start(ingest.frames.clone(), predictions, options.max_frames).map_err(|err| {
        StationError::Path {
            path: "model thread".into(),
            message: err.to_string(),
        }
    })?;

    let socket = match &options.socket {
        Socket::Configured => config.socket(config_dir),
        Socket::At(path) => Some(path.clone()),
        Socket::None => None,
    };
    let clients = socket
        .as_deref()
        .map(|path| actrec_ipc::Server::bind(path, actrec_ipc::ServerSettings::default()))
        .transpose()?
        .map(|server| {
            let commands = server.commands.clone();
            (Box::new(server) as Box<dyn Clients>, commands)
        });
    let mut events: Vec<Box<dyn EventSink>> = Vec::new();
    events.extend(
        options
            .stdout
            .map(|format| Box::new(Stdout::new(format)) as Box<dyn EventSink>),
    );
    events.extend(extra);
    Ok(Deps {
        inspection: Inspection {
            config: Arc::new(config.clone()),
            config_dir: config_dir.to_owned(),
            source: initial,
            inspector,
            sequences,
            info,
        },
        media_events,
        source: Box::new(ingest),
        model,
        video: Box::new(video),
        lines,
        audit,
        events,
        clients,
        mounts: Box::new(ProcMounts),
        clock,
    })
}

/// Resolves where each output writes, creating directories as needed.
fn output_config(
    config: &StationConfig,
    data_dir: &Path,
    fragments: Fragments,
    sizes: FrameSizes,
) -> Result<OutputConfig, StationError> {
    let mut outputs: Outputs = config.outputs.clone();
    if let Some(shm) = outputs.shm.as_mut() {
        shm.path = data_dir.join(&shm.path);
    }
    let ensure_dir = |dir: &Path| {
        std::fs::create_dir_all(dir).map_err(|err| StationError::Path {
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
