//! The station config (`config/station.toml`): the one file a plant engineer edits.
//!
//! Every section is loaded on its own, so a typo in one section does not hide
//! problems in another, and is then validated; every problem is reported with
//! file, line, column and field. Relative paths are resolved against the
//! config file's directory (`station.data_dir` too), except the audit database
//! and recordings, which live under `station.data_dir`.
//!
//! Checks that need other files (the model's labels, the sequence definition)
//! are made by the caller, which reads those files; see `actrec check-config`.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::decode::DecoderSettings;
use crate::diag::{Problems, Report, TomlDoc};
use crate::label::{Vocabulary, label_problem};

const SECTIONS: &[&str] = &[
    "station", "sources", "media", "model", "decoder", "sequence", "outputs", "gpio", "audit", "operator",
];

#[derive(Debug, Clone, PartialEq)]
pub struct StationConfig {
    pub station: Station,
    pub sources: BTreeMap<String, Source>,
    pub media: Media,
    pub model: ModelRef,
    pub decoder: DecoderSettings,
    pub sequence: SequenceRef,
    pub outputs: Outputs,
    pub gpio: Gpio,
    pub audit: Audit,
    pub operator: Operator,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Station {
    /// Names the station in the audit log and on exports.
    pub id: String,
    /// Where the audit database, recordings and engine caches live.
    pub data_dir: PathBuf,
    /// Name of the source (a key of `[sources]`) used at start.
    pub source: String,
}

/// A video source, switchable at run time among those configured. Written as
/// a table named by its kind, e.g. `[sources.line_cam.rtp]`, so that a wrong
/// field is reported with its full path.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Source {
    /// A video file in any container GStreamer can decode.
    File {
        path: PathBuf,
        #[serde(default, rename = "loop")]
        looping: bool,
        /// `realtime` plays at the file's frame rate, like a camera; `fast`
        /// decodes as fast as the station can take frames (tests, benchmarks).
        #[serde(default)]
        pace: Pace,
    },
    /// H.264 over RTP/UDP, as IP cameras send it.
    Rtp {
        port: u16,
        #[serde(default)]
        multicast: Option<IpAddr>,
        #[serde(default)]
        caps: Option<String>,
    },
    Rtsp {
        url: String,
        #[serde(default = "default_latency_ms")]
        latency_ms: u32,
    },
    /// A USB camera.
    V4l2 {
        device: PathBuf,
        #[serde(default)]
        format: V4l2Format,
        width: u32,
        height: u32,
        framerate: u32,
    },
    /// The Jetson CSI camera through `nvarguscamerasrc`.
    Csi {
        #[serde(default)]
        sensor_id: u32,
        width: u32,
        height: u32,
        framerate: u32,
    },
    /// GStreamer's `videotestsrc`, for tests.
    Test {
        #[serde(default = "default_pattern")]
        pattern: String,
    },
    /// A raw GStreamer description for an unusual camera. It must end in
    /// decoded video (`video/x-raw`); the station adds crop, scale and outputs.
    Pipeline { description: String, live: bool },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pace {
    #[default]
    Realtime,
    Fast,
}

/// The `[media]` section: how video is decoded, shown and encoded.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Media {
    /// `generic` (software elements), `jetson` (NVMM, nvv4l2 codecs) or `auto`.
    #[serde(default)]
    pub profile: ProfileChoice,
    /// Resolution of the annotated video (panel, recordings, stream).
    #[serde(default = "default_display_width")]
    pub display_width: u32,
    #[serde(default = "default_display_height")]
    pub display_height: u32,
    /// Frame rate of the annotated video.
    #[serde(default = "default_display_fps")]
    pub display_fps: u32,
    /// H.264 bit rate of recordings, stream and evidence clips.
    #[serde(default = "default_bitrate_kbps")]
    pub bitrate_kbps: u32,
    /// A live source with no frame for this long is reported lost.
    #[serde(default = "default_loss_timeout_ms")]
    pub loss_timeout_ms: u32,
    /// Raw descriptions that replace one fragment of every pipeline.
    #[serde(default)]
    pub overrides: MediaOverrides,
}

fn default_display_width() -> u32 {
    1280
}
fn default_display_height() -> u32 {
    720
}
fn default_display_fps() -> u32 {
    30
}
fn default_bitrate_kbps() -> u32 {
    4000
}
fn default_loss_timeout_ms() -> u32 {
    500
}

impl Default for Media {
    fn default() -> Self {
        Self {
            profile: ProfileChoice::default(),
            display_width: default_display_width(),
            display_height: default_display_height(),
            display_fps: default_display_fps(),
            bitrate_kbps: default_bitrate_kbps(),
            loss_timeout_ms: default_loss_timeout_ms(),
            overrides: MediaOverrides::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileChoice {
    #[default]
    Auto,
    Generic,
    Jetson,
}

/// Each replaces the profile's own fragment, e.g. `decoder = "avdec_h264 max-threads=2"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaOverrides {
    /// H.264 decoder, for RTP and RTSP sources.
    pub decoder: Option<String>,
    /// Colour conversion to system memory.
    pub convert: Option<String>,
    /// Scaler.
    pub scale: Option<String>,
    /// H.264 encoder for the annotated video.
    pub encoder: Option<String>,
}

fn default_latency_ms() -> u32 {
    200
}
fn default_pattern() -> String {
    "smpte".into()
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum V4l2Format {
    #[default]
    Mjpeg,
    Raw,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelRef {
    /// Directory holding `manifest.toml` and the network.
    pub dir: PathBuf,
    /// Which runtime runs the network. Default `auto`.
    #[serde(default)]
    pub backend: ModelBackend,
    /// CPU threads for inference. Default 1: on a 2-core station the other
    /// core decodes video.
    #[serde(default = "default_threads")]
    pub threads: u32,
    /// `libonnxruntime.so.1.*` for the `onnxruntime` backend; default
    /// `$ORT_DYLIB_PATH`, else the loader's search path.
    #[serde(default)]
    pub onnxruntime_library: Option<PathBuf>,
    /// Seconds one frame may spend in the model branch before the engine
    /// raises `inference_stalled`. Default 5: a window takes milliseconds on
    /// a station's hardware. Keep it below systemd's `WatchdogSec`.
    #[serde(default = "default_stall_seconds")]
    pub stall_seconds: u32,
    /// The `tensorrt` backend (Jetson): `[model.tensorrt]`.
    #[serde(default)]
    pub tensorrt: TensorRtRef,
}

/// `[model.tensorrt]`: how the station finds TensorRT and which engine it
/// builds (`actrec build-engine`) and runs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorRtRef {
    /// The shim library (`app/infer/trt-shim`); default `libactrec_trt.so.2`
    /// on the loader's search path.
    #[serde(default = "default_shim")]
    pub shim: PathBuf,
    /// The engine's precision. Default `fp16`; `int8` needs a GPU with fast
    /// INT8 (not the Nano) and a calibration cache.
    #[serde(default)]
    pub precision: Precision,
    /// Where built engines are kept; default `engines` in `station.data_dir`
    /// (relative paths are too).
    #[serde(default)]
    pub engines_dir: Option<PathBuf>,
    /// Where windows are made when TensorRT runs: `cpu` (the default: the
    /// pipeline crops and scales, the CPU packs) or `gpu` (whole NV12
    /// frames go to the shim's device ring and its kernel makes each
    /// window in the engine's inputs; docs/GPU.md).
    #[serde(default)]
    pub preprocess: PreprocessOn,
}

/// Where a window's crop, resize, normalisation and packing run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreprocessOn {
    #[default]
    Cpu,
    Gpu,
}

impl Default for TensorRtRef {
    fn default() -> Self {
        Self {
            shim: default_shim(),
            precision: Precision::default(),
            engines_dir: None,
            preprocess: PreprocessOn::default(),
        }
    }
}

fn default_shim() -> PathBuf {
    "libactrec_trt.so.2".into()
}

/// Precision of a TensorRT engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    Fp32,
    #[default]
    Fp16,
    Int8,
}

impl Precision {
    pub fn name(self) -> &'static str {
        match self {
            Precision::Fp32 => "fp32",
            Precision::Fp16 => "fp16",
            Precision::Int8 => "int8",
        }
    }
}

fn default_threads() -> u32 {
    1
}

fn default_stall_seconds() -> u32 {
    5
}

/// The runtimes a station can run its network on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelBackend {
    /// The fastest that loads: TensorRT, else ONNX Runtime, else tract; the
    /// engine says why it fell back.
    #[default]
    Auto,
    /// TensorRT through the shim, on an engine `actrec build-engine` built.
    Tensorrt,
    /// tract: pure Rust, always built.
    Tract,
    /// ONNX Runtime, opened at run time (cargo feature `onnxruntime`).
    Onnxruntime,
}

/// What an inference backend needs besides the model, with paths resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct InferenceSettings {
    pub backend: ModelBackend,
    pub threads: u32,
    pub onnxruntime_library: Option<PathBuf>,
    pub tensorrt: TensorRtSettings,
}

/// The `tensorrt` backend's settings, with paths resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorRtSettings {
    pub shim: PathBuf,
    /// Where built engines are kept: `station.data_dir`/engines.
    pub engines_dir: PathBuf,
    pub precision: Precision,
    pub preprocess: PreprocessOn,
}

impl Default for InferenceSettings {
    fn default() -> Self {
        Self {
            backend: ModelBackend::Auto,
            threads: default_threads(),
            onnxruntime_library: None,
            tensorrt: TensorRtSettings {
                shim: default_shim(),
                engines_dir: "engines".into(),
                precision: Precision::default(),
                preprocess: PreprocessOn::default(),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequenceRef {
    /// The sequence definition checked at start.
    pub file: PathBuf,
    /// Other sequences the operator may select on the panel, between parts.
    #[serde(default)]
    pub alternatives: Vec<PathBuf>,
}

/// The `[operator]` section: how the panel and tools reach the engine.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operator {
    /// The engine's Unix socket for the panel (`actrec-ipc`); relative to
    /// this file. Absent: no panel can connect.
    #[serde(default)]
    pub socket: Option<PathBuf>,
    /// The supervisor PIN that acknowledges a reject, as a hash made by
    /// `actrec hash-pin`. Absent: acknowledging needs no PIN.
    #[serde(default)]
    pub supervisor_pin: Option<String>,
}

impl Operator {
    pub fn pin(&self) -> Option<crate::pin::PinHash> {
        self.supervisor_pin
            .as_deref()
            .and_then(|text| crate::pin::PinHash::parse(text).ok())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outputs {
    /// Annotated video to mp4 files; absent means no recording.
    #[serde(default)]
    pub mp4: Option<Mp4Output>,
    /// Annotated video to the network; absent means none.
    #[serde(default)]
    pub stream: Option<StreamOutput>,
    /// Annotated video to shared memory for the panel; absent means none.
    #[serde(default)]
    pub shm: Option<ShmOutput>,
    /// A preview window on a desktop.
    #[serde(default)]
    pub preview: bool,
    /// A clip of every rejected part; absent means none.
    #[serde(default)]
    pub clips: Option<ClipOutput>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClipOutput {
    /// Relative to `station.data_dir`.
    pub dir: PathBuf,
    /// Video kept from before the part's first step.
    #[serde(default = "default_pre_roll")]
    pub pre_roll_seconds: u32,
    /// Longest clip; a longer part keeps its last `max_seconds`.
    #[serde(default = "default_clip_max")]
    pub max_seconds: u32,
}

fn default_pre_roll() -> u32 {
    5
}
fn default_clip_max() -> u32 {
    180
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mp4Output {
    /// Relative to `station.data_dir`.
    pub dir: PathBuf,
    /// New file per part, or every `segment_seconds`.
    pub split: Mp4Split,
    #[serde(default)]
    pub segment_seconds: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mp4Split {
    Part,
    Time,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum StreamOutput {
    Rtp { host: IpAddr, port: u16 },
    Rtsp { port: u16, path: String },
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShmOutput {
    /// The ring file; relative to `station.data_dir`. Put it on tmpfs (`/run`).
    pub path: PathBuf,
}

/// The `[gpio]` section: the tower light, the reject relay and the heartbeat.
/// The wiring that makes these fail-safe is in `docs/WIRING.md`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gpio {
    pub backend: GpioBackend,
    /// Root of the sysfs GPIO tree, for the `sysfs` backend.
    #[serde(default = "default_sysfs_root")]
    pub sysfs_root: PathBuf,
    /// What the reject relay does on a rejected part. Default `latch`.
    #[serde(default)]
    pub reject_mode: RejectMode,
    /// Length of the reject pulse, with `reject_mode = "pulse"` only; default
    /// [`Gpio::DEFAULT_PULSE_MS`].
    #[serde(default)]
    pub pulse_ms: Option<u32>,
    /// Full period (on and off) of a blinking lamp or an intermittent buzzer.
    #[serde(default = "default_blink_ms")]
    pub blink_ms: u32,
    /// For the `sim` backend: the file that records every line change (JSON
    /// lines), relative to `station.data_dir`. Rewritten at each start.
    #[serde(default = "default_sim_file")]
    pub sim_file: PathBuf,
    #[serde(default)]
    pub lines: GpioLines,
}

impl Gpio {
    /// The reject pulse when `pulse_ms` is not given.
    pub const DEFAULT_PULSE_MS: u32 = 500;

    /// The reject pulse length in milliseconds: `None` in latch mode.
    pub fn reject_pulse_ms(&self) -> Option<u32> {
        match self.reject_mode {
            RejectMode::Pulse => Some(self.pulse_ms.unwrap_or(Self::DEFAULT_PULSE_MS)),
            RejectMode::Latch => None,
        }
    }

    /// The sim backend's record, resolved against the (resolved) data directory.
    pub fn sim_file_in(&self, data_dir: &Path) -> PathBuf {
        data_dir.join(&self.sim_file)
    }
}

fn default_sysfs_root() -> PathBuf {
    PathBuf::from("/sys/class/gpio")
}
fn default_blink_ms() -> u32 {
    1000
}
fn default_sim_file() -> PathBuf {
    PathBuf::from("gpio-sim.jsonl")
}

/// What the reject relay does on a rejected part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectMode {
    /// Held until a supervisor acknowledges the reject (stops the line).
    #[default]
    Latch,
    /// Held for `pulse_ms` per rejected part (a diverter gate).
    Pulse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GpioBackend {
    /// The GPIO character device (`/dev/gpiochipN`).
    Cdev,
    /// `/sys/class/gpio`, for older L4T.
    Sysfs,
    /// No hardware: states are recorded for the panel and tests.
    Sim,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpioLines {
    pub green: Option<GpioLine>,
    pub amber: Option<GpioLine>,
    pub red: Option<GpioLine>,
    pub buzzer: Option<GpioLine>,
    pub reject: Option<GpioLine>,
    pub heartbeat: Option<GpioLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpioLine {
    /// Chip label, e.g. `tegra-gpio` (Nano) or `tegra194-gpio` (AGX Xavier).
    pub chip: String,
    pub offset: u32,
    #[serde(default)]
    pub active_low: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audit {
    /// SQLite file; relative to `station.data_dir`.
    pub path: PathBuf,
    /// Retention by size: the oldest rows beyond this many MiB of database
    /// are pruned (an anchor row keeps the chain verifiable). Default 1024.
    #[serde(default = "default_audit_max_megabytes")]
    pub max_megabytes: u32,
    /// Retention by age: rows older than this many days are pruned too.
    /// Absent: rows are kept whatever their age, within `max_megabytes`.
    #[serde(default)]
    pub max_days: Option<u32>,
    /// Where removable media (USB sticks) are mounted, for exports.
    #[serde(default = "default_mount_roots")]
    pub mount_roots: Vec<PathBuf>,
}

fn default_audit_max_megabytes() -> u32 {
    1024
}
fn default_mount_roots() -> Vec<PathBuf> {
    vec![PathBuf::from("/run/media"), PathBuf::from("/media")]
}

fn validate_audit(audit: &Audit, report: &mut Report<'_, '_>) {
    if audit.path.as_os_str().is_empty() {
        report.at("audit.path", "path is empty");
    }
    if !(1..=1_048_576).contains(&audit.max_megabytes) {
        report.at(
            "audit.max_megabytes",
            format!("max_megabytes = {} must be from 1 to 1048576", audit.max_megabytes),
        );
    }
    if let Some(days) = audit.max_days
        && !(1..=36_500).contains(&days)
    {
        report.at(
            "audit.max_days",
            format!("max_days = {days} must be from 1 to 36500; leave it out to keep rows whatever their age"),
        );
    }
    for (i, root) in audit.mount_roots.iter().enumerate() {
        let field = format!("audit.mount_roots[{i}]");
        if !root.is_absolute() || root.parent().is_none() {
            report.at(
                field,
                format!("mount root `{}` must be an absolute path below /", root.display()),
            );
        } else if audit.mount_roots[..i].contains(root) {
            report.at(field, format!("mount root `{}` is listed twice", root.display()));
        }
    }
}

impl Source {
    /// The kind, as written in the config.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::File { .. } => "file",
            Source::Rtp { .. } => "rtp",
            Source::Rtsp { .. } => "rtsp",
            Source::V4l2 { .. } => "v4l2",
            Source::Csi { .. } => "csi",
            Source::Test { .. } => "test",
            Source::Pipeline { .. } => "pipeline",
        }
    }
}

impl StationConfig {
    /// Parses and validates a station config. `origin` names the file in problems.
    pub fn parse(origin: &str, text: &str) -> Result<Self, Problems> {
        let doc = TomlDoc::parse(origin, text)?;
        let mut report = doc.report();
        report.deny_unknown_top_level(SECTIONS);
        let station = report.required::<Station>("station");
        let sources = report.required::<BTreeMap<String, Source>>("sources");
        let media = report.optional::<Media>("media").map(Option::unwrap_or_default);
        let model = report.required::<ModelRef>("model");
        let decoder = report
            .optional::<DecoderSettings>("decoder")
            .map(Option::unwrap_or_default);
        let sequence = report.required::<SequenceRef>("sequence");
        let outputs = report.optional::<Outputs>("outputs").map(Option::unwrap_or_default);
        let gpio = report.required::<Gpio>("gpio");
        let audit = report.required::<Audit>("audit");
        let operator = report.optional::<Operator>("operator").map(Option::unwrap_or_default);

        // Sections that loaded are checked even when others did not, so one
        // run shows every problem.
        if let Some(station) = &station {
            validate_station(station, sources.as_ref(), &mut report);
        }
        if let Some(sources) = &sources {
            validate_sources(sources, &mut report);
        }
        if let Some(media) = &media {
            validate_media(media, &mut report);
        }
        if let Some(decoder) = &decoder {
            for (field, message) in decoder.problems() {
                report.at(format!("decoder.{field}"), message);
            }
        }
        if let Some(model) = &model {
            if model.dir.as_os_str().is_empty() {
                report.at("model.dir", "dir is empty");
            }
            if !(1..=64).contains(&model.threads) {
                report.at(
                    "model.threads",
                    format!("threads = {} must be from 1 to 64", model.threads),
                );
            }
            if !(1..=600).contains(&model.stall_seconds) {
                report.at(
                    "model.stall_seconds",
                    format!("stall_seconds = {} must be from 1 to 600", model.stall_seconds),
                );
            }
            if model
                .onnxruntime_library
                .as_ref()
                .is_some_and(|p| p.as_os_str().is_empty())
            {
                report.at("model.onnxruntime_library", "onnxruntime_library is empty");
            }
            if model.tensorrt.shim.as_os_str().is_empty() {
                report.at("model.tensorrt.shim", "shim is empty");
            }
        }
        if let Some(sequence) = &sequence {
            if sequence.file.as_os_str().is_empty() {
                report.at("sequence.file", "file is empty");
            }
            for (i, file) in sequence.alternatives.iter().enumerate() {
                if file.as_os_str().is_empty() {
                    report.at(format!("sequence.alternatives[{i}]"), "file is empty");
                } else if *file == sequence.file || sequence.alternatives[..i].contains(file) {
                    report.at(
                        format!("sequence.alternatives[{i}]"),
                        format!("`{}` is listed twice", file.display()),
                    );
                }
            }
        }
        if let Some(operator) = &operator {
            if operator.socket.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
                report.at("operator.socket", "socket is empty");
            }
            if let Some(Err(err)) = operator.supervisor_pin.as_deref().map(crate::pin::PinHash::parse) {
                report.at("operator.supervisor_pin", err.to_string());
            }
        }
        if let Some(outputs) = &outputs {
            validate_outputs(outputs, &mut report);
        }
        if let Some(gpio) = &gpio {
            validate_gpio(gpio, &mut report);
        }
        if let Some(audit) = &audit {
            validate_audit(audit, &mut report);
        }

        let config = match (
            station, sources, media, model, decoder, sequence, outputs, gpio, audit, operator,
        ) {
            (
                Some(station),
                Some(sources),
                Some(media),
                Some(model),
                Some(decoder),
                Some(sequence),
                Some(outputs),
                Some(gpio),
                Some(audit),
                Some(operator),
            ) => Some(StationConfig {
                station,
                sources,
                media,
                model,
                decoder,
                sequence,
                outputs,
                gpio,
                audit,
                operator,
            }),
            _ => None,
        };
        report.finish(config)
    }

    /// Checks the idle labels against the configured model's labels. Takes the
    /// config's own text again so that each problem is located in it.
    pub fn check_vocabulary(&self, origin: &str, text: &str, model_labels: &[String]) -> Result<(), Problems> {
        let doc = TomlDoc::parse(origin, text)?;
        let mut report = doc.report();
        for (i, label) in self.decoder.idle_labels.iter().enumerate() {
            if !model_labels.contains(label) {
                report.at(
                    format!("decoder.idle_labels[{i}]"),
                    format!(
                        "idle label `{label}` is not a label of the model (labels: {})",
                        model_labels.join(", ")
                    ),
                );
            }
        }
        report.finish(Some(()))
    }

    /// The station's vocabulary once the model's labels are known.
    pub fn vocabulary<'a>(&'a self, model_labels: &'a [String]) -> Vocabulary<'a> {
        Vocabulary {
            labels: model_labels,
            idle: &self.decoder.idle_labels,
        }
    }

    /// The model directory, resolved against the config file's directory.
    pub fn model_dir(&self, config_dir: &Path) -> PathBuf {
        config_dir.join(&self.model.dir)
    }

    /// How to run the network, with paths resolved against the config file's directory.
    pub fn inference(&self, config_dir: &Path) -> InferenceSettings {
        InferenceSettings {
            backend: self.model.backend,
            threads: self.model.threads,
            onnxruntime_library: self.model.onnxruntime_library.as_ref().map(|p| config_dir.join(p)),
            tensorrt: TensorRtSettings {
                // A bare name is for the loader to search; a path is relative
                // to the config file.
                shim: if self.model.tensorrt.shim.components().count() > 1 {
                    config_dir.join(&self.model.tensorrt.shim)
                } else {
                    self.model.tensorrt.shim.clone()
                },
                engines_dir: self.data_dir(config_dir).join(
                    self.model
                        .tensorrt
                        .engines_dir
                        .as_deref()
                        .unwrap_or(Path::new("engines")),
                ),
                precision: self.model.tensorrt.precision,
                preprocess: self.model.tensorrt.preprocess,
            },
        }
    }

    /// The sequence definition file, resolved against the config file's directory.
    pub fn sequence_file(&self, config_dir: &Path) -> PathBuf {
        config_dir.join(&self.sequence.file)
    }

    /// Every selectable sequence file, the one used at start first, resolved
    /// against the config file's directory.
    pub fn sequence_files(&self, config_dir: &Path) -> Vec<PathBuf> {
        std::iter::once(&self.sequence.file)
            .chain(&self.sequence.alternatives)
            .map(|file| config_dir.join(file))
            .collect()
    }

    /// The engine's socket for the panel, resolved against the config file's directory.
    pub fn socket(&self, config_dir: &Path) -> Option<PathBuf> {
        self.operator.socket.as_ref().map(|p| config_dir.join(p))
    }

    /// A configured source with its file path (if any) resolved against the
    /// config file's directory.
    pub fn source(&self, name: &str, config_dir: &Path) -> Option<Source> {
        let mut source = self.sources.get(name)?.clone();
        if let Source::File { path, .. } = &mut source {
            *path = config_dir.join(&*path);
        }
        Some(source)
    }

    /// The data directory, resolved against the config file's directory.
    pub fn data_dir(&self, config_dir: &Path) -> PathBuf {
        config_dir.join(&self.station.data_dir)
    }

    /// The audit database, resolved against the data directory.
    pub fn audit_path(&self, config_dir: &Path) -> PathBuf {
        self.data_dir(config_dir).join(&self.audit.path)
    }

    /// Where evidence clips are kept (the data directory when clips are off).
    pub fn clips_dir(&self, config_dir: &Path) -> PathBuf {
        let data_dir = self.data_dir(config_dir);
        match &self.outputs.clips {
            Some(clips) => data_dir.join(&clips.dir),
            None => data_dir,
        }
    }
}

fn validate_station(station: &Station, sources: Option<&BTreeMap<String, Source>>, report: &mut Report<'_, '_>) {
    let id = &station.id;
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        report.at(
            "station.id",
            format!("id `{id}` must be 1 to 64 letters, digits, `-` or `_`"),
        );
    }
    if station.data_dir.as_os_str().is_empty() {
        report.at("station.data_dir", "data_dir is empty");
    }
    if let Some(sources) = sources
        && !sources.is_empty()
        && !sources.contains_key(&station.source)
    {
        report.at(
            "station.source",
            format!(
                "source `{}` is not configured; [sources] has: {}",
                station.source,
                sources.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        );
    }
}

fn validate_sources(sources: &BTreeMap<String, Source>, report: &mut Report<'_, '_>) {
    if sources.is_empty() {
        report.at("sources", "configure at least one source");
    }
    for (name, source) in sources {
        if let Some(problem) = label_problem(name) {
            report.at(format!("sources.{name}"), format!("source name: {problem}"));
        }
        validate_source(source, &format!("sources.{name}"), report);
    }
}

fn validate_outputs(outputs: &Outputs, report: &mut Report<'_, '_>) {
    if let Some(clips) = &outputs.clips {
        if clips.dir.as_os_str().is_empty() {
            report.at("outputs.clips.dir", "dir is empty");
        }
        if clips.max_seconds == 0 || clips.max_seconds > 3600 {
            report.at("outputs.clips.max_seconds", "max_seconds must be from 1 to 3600");
        }
        if clips.pre_roll_seconds >= clips.max_seconds {
            report.at(
                "outputs.clips.pre_roll_seconds",
                "pre_roll_seconds must be less than max_seconds",
            );
        }
    }
    if let Some(mp4) = &outputs.mp4 {
        match (mp4.split, mp4.segment_seconds) {
            (Mp4Split::Time, None | Some(0)) => {
                report.at(
                    "outputs.mp4.segment_seconds",
                    "split = \"time\" needs segment_seconds of 1 or more",
                );
            }
            (Mp4Split::Part, Some(_)) => {
                report.at(
                    "outputs.mp4.segment_seconds",
                    "segment_seconds only applies with split = \"time\"",
                );
            }
            _ => {}
        }
    }
    match &outputs.stream {
        Some(StreamOutput::Rtp { port: 0, .. } | StreamOutput::Rtsp { port: 0, .. }) => {
            let kind = if matches!(outputs.stream, Some(StreamOutput::Rtp { .. })) {
                "rtp"
            } else {
                "rtsp"
            };
            report.at(format!("outputs.stream.{kind}.port"), "port must be from 1 to 65535");
        }
        Some(StreamOutput::Rtsp { path, .. }) if !path.starts_with('/') => {
            report.at("outputs.stream.rtsp.path", format!("path `{path}` must start with `/`"));
        }
        _ => {}
    }
}

fn validate_gpio(gpio: &Gpio, report: &mut Report<'_, '_>) {
    let lines = &gpio.lines;
    let named = [
        ("green", &lines.green),
        ("amber", &lines.amber),
        ("red", &lines.red),
        ("buzzer", &lines.buzzer),
        ("reject", &lines.reject),
        ("heartbeat", &lines.heartbeat),
    ];
    if gpio.backend != GpioBackend::Sim {
        for (name, line) in &named[..5] {
            if line.is_none() && *name != "buzzer" {
                report.at(
                    "gpio.lines",
                    format!("the `{name}` line is required with a hardware backend (fail-safe needs all of green, amber, red and reject)"),
                );
            }
        }
    }
    match (gpio.reject_mode, gpio.pulse_ms) {
        (RejectMode::Latch, Some(_)) => {
            report.at("gpio.pulse_ms", "pulse_ms only applies with reject_mode = \"pulse\"");
        }
        (RejectMode::Pulse, Some(ms)) if !(50..=10_000).contains(&ms) => {
            report.at("gpio.pulse_ms", format!("pulse_ms = {ms} must be from 50 to 10000"));
        }
        _ => {}
    }
    if !(200..=5000).contains(&gpio.blink_ms) {
        report.at(
            "gpio.blink_ms",
            format!("blink_ms = {} must be from 200 to 5000", gpio.blink_ms),
        );
    }
    if gpio.sim_file.as_os_str().is_empty() {
        report.at("gpio.sim_file", "sim_file is empty");
    }
    if gpio.backend == GpioBackend::Sysfs && gpio.sysfs_root.as_os_str().is_empty() {
        report.at("gpio.sysfs_root", "sysfs_root is empty");
    }
    let mut seen: Vec<(&str, &GpioLine)> = Vec::new();
    for (name, line) in named {
        let Some(line) = line else { continue };
        if line.chip.trim().is_empty() {
            report.at(format!("gpio.lines.{name}.chip"), "chip is empty");
        }
        if let Some((other, _)) = seen
            .iter()
            .find(|(_, l)| l.chip == line.chip && l.offset == line.offset)
        {
            report.at(
                format!("gpio.lines.{name}"),
                format!("{} line {} is already used by `{other}`", line.chip, line.offset),
            );
        }
        seen.push((name, line));
    }
}

fn validate_media(media: &Media, report: &mut Report<'_, '_>) {
    for (field, value, range) in [
        ("display_width", media.display_width, 64..=3840),
        ("display_height", media.display_height, 64..=2160),
        ("display_fps", media.display_fps, 1..=120),
        ("bitrate_kbps", media.bitrate_kbps, 100..=100_000),
        ("loss_timeout_ms", media.loss_timeout_ms, 100..=900),
    ] {
        if !range.contains(&value) {
            report.at(
                format!("media.{field}"),
                format!("{field} = {value} must be from {} to {}", range.start(), range.end()),
            );
        }
    }
    if media.display_width % 2 == 1 || media.display_height % 2 == 1 {
        report.at(
            "media.display_width",
            "display width and height must be even (4:2:0 video)",
        );
    }
    let overrides = [
        ("decoder", &media.overrides.decoder),
        ("convert", &media.overrides.convert),
        ("scale", &media.overrides.scale),
        ("encoder", &media.overrides.encoder),
    ];
    for (field, value) in overrides {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            report.at(
                format!("media.overrides.{field}"),
                "an override must not be empty; remove it instead",
            );
        }
    }
}

fn validate_source(source: &Source, path: &str, report: &mut Report<'_, '_>) {
    let kind = source.kind();
    let check_size = |report: &mut Report<'_, '_>, width: u32, height: u32, framerate: u32| {
        if width == 0 || height == 0 {
            report.at(
                format!("{path}.{kind}.width"),
                "width and height must be greater than 0",
            );
        }
        if framerate == 0 {
            report.at(format!("{path}.{kind}.framerate"), "framerate must be greater than 0");
        }
    };
    match source {
        Source::Pipeline { description, .. } if description.trim().is_empty() => {
            report.at(format!("{path}.{kind}.description"), "description is empty");
        }
        Source::File { path: file, .. } if file.as_os_str().is_empty() => {
            report.at(format!("{path}.{kind}.path"), "path is empty");
        }
        Source::Rtp { port, multicast, .. } => {
            if *port == 0 {
                report.at(format!("{path}.{kind}.port"), "port must be from 1 to 65535");
            }
            if let Some(group) = multicast
                && !group.is_multicast()
            {
                report.at(
                    format!("{path}.{kind}.multicast"),
                    format!("{group} is not a multicast address"),
                );
            }
        }
        Source::Rtsp { url, .. } if !(url.starts_with("rtsp://") || url.starts_with("rtsps://")) => {
            report.at(
                format!("{path}.{kind}.url"),
                format!("url `{url}` must start with rtsp:// or rtsps://"),
            );
        }
        Source::V4l2 {
            device,
            width,
            height,
            framerate,
            ..
        } => {
            if !device.starts_with("/dev/") {
                report.at(
                    format!("{path}.{kind}.device"),
                    format!("device `{}` must be under /dev/", device.display()),
                );
            }
            check_size(report, *width, *height, *framerate);
        }
        Source::Csi {
            sensor_id,
            width,
            height,
            framerate,
        } => {
            if *sensor_id > 7 {
                report.at(
                    format!("{path}.{kind}.sensor_id"),
                    format!("sensor_id = {sensor_id} must be from 0 to 7"),
                );
            }
            check_size(report, *width, *height, *framerate);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[station]
id = "line-3"
data_dir = "/var/lib/actrec"
source = "demo"

[sources.demo.file]
path = "demo.mp4"
loop = true

[sources.cam.rtp]
port = 5000
multicast = "239.1.1.1"

[model]
dir = "models/demo"

[decoder]
min_confidence = 0.6
idle_labels = ["idle"]

[sequence]
file = "sequences/gear-housing.toml"

[outputs]
shm = { path = "/run/actrec/video" }

[gpio]
backend = "sim"

[audit]
path = "audit.sqlite"
"#;

    fn problems(text: &str) -> Vec<String> {
        StationConfig::parse("station.toml", text)
            .expect_err("should be rejected")
            .iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn operator_and_sequence_alternatives_are_checked_where_written() {
        let bad = GOOD.replace(
            "file = \"sequences/gear-housing.toml\"",
            "file = \"sequences/gear-housing.toml\"\nalternatives = [\"sequences/gear-housing.toml\"]",
        ) + "\n[operator]\nsocket = \"/run/actrec/engine.sock\"\nsupervisor_pin = \"1234\"\n";
        let found = problems(&bad);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].contains("sequence.alternatives[0]: `sequences/gear-housing.toml` is listed twice"),
            "{found:?}"
        );
        assert!(
            found[1].contains("operator.supervisor_pin: not a PIN hash") && found[1].contains("actrec hash-pin"),
            "{found:?}"
        );
        let config = StationConfig::parse("station.toml", GOOD).expect("good");
        assert_eq!(config.operator, Operator::default());
        assert_eq!(config.socket(Path::new("/etc/actrec")), None);
    }

    #[test]
    fn parses_a_good_config() {
        let config = StationConfig::parse("station.toml", GOOD).expect("valid");
        assert_eq!(config.station.id, "line-3");
        assert_eq!(
            config.sources["demo"],
            Source::File {
                path: "demo.mp4".into(),
                looping: true,
                pace: Pace::Realtime
            }
        );
        assert_eq!(config.media, Media::default());
        assert_eq!(config.decoder.min_confidence, 0.6);
        assert_eq!(config.decoder.min_windows, 1);
        assert_eq!(
            config.audit_path(Path::new("/etc/actrec")),
            PathBuf::from("/var/lib/actrec/audit.sqlite")
        );
        assert_eq!(
            config.model_dir(Path::new("/etc/actrec")),
            PathBuf::from("/etc/actrec/models/demo")
        );
    }

    #[test]
    fn reports_problems_in_every_section() {
        let bad = GOOD
            .replace("source = \"demo\"", "source = \"dmeo\"")
            .replace("port = 5000", "port = 0")
            .replace("239.1.1.1", "10.0.0.1")
            .replace("min_confidence = 0.6", "min_confidence = 1.6")
            .replace("[audit]\npath", "[audit]\npaht");
        assert_eq!(
            problems(&bad),
            vec![
                "station.toml:32:1: audit.paht: unknown field `paht`, expected one of `path`, `max_megabytes`, `max_days`, `mount_roots`",
                "station.toml:5:10: station.source: source `dmeo` is not configured; [sources] has: cam, demo",
                "station.toml:12:8: sources.cam.rtp.port: port must be from 1 to 65535",
                "station.toml:13:13: sources.cam.rtp.multicast: 10.0.0.1 is not a multicast address",
                "station.toml:19:18: decoder.min_confidence: min_confidence = 1.6 must be greater than 0 and at most 1",
            ]
        );
    }

    #[test]
    fn the_stall_limit_defaults_to_five_seconds_and_is_bounded() {
        let config = StationConfig::parse("station.toml", GOOD).expect("valid");
        assert_eq!(config.model.stall_seconds, 5);
        let slow = GOOD.replace("[model]\n", "[model]\nstall_seconds = 60\n");
        let config = StationConfig::parse("station.toml", &slow).expect("valid");
        assert_eq!(config.model.stall_seconds, 60);
        let bad = GOOD.replace("[model]\n", "[model]\nstall_seconds = 0\n");
        let found = problems(&bad);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].ends_with("model.stall_seconds: stall_seconds = 0 must be from 1 to 600"),
            "{found:?}"
        );
    }

    #[test]
    fn tensorrt_settings_default_resolve_and_are_checked() {
        let config = StationConfig::parse("/etc/actrec/station.toml", GOOD).expect("valid");
        let tensorrt = config.inference(Path::new("/etc/actrec")).tensorrt;
        // A bare library name is left to the loader; engines live in the data directory.
        assert_eq!(tensorrt.shim, PathBuf::from("libactrec_trt.so.2"));
        assert_eq!(tensorrt.precision, Precision::Fp16);
        assert_eq!(
            tensorrt.engines_dir,
            Path::new("/etc/actrec").join(&config.station.data_dir).join("engines")
        );
        let named = GOOD.replace(
            "dir = \"models/demo\"\n",
            "dir = \"models/demo\"\n\n[model.tensorrt]\nshim = \"lib/libactrec_trt.so.2\"\nprecision = \"int8\"\nengines_dir = \"/opt/engines\"\npreprocess = \"gpu\"\n",
        );
        let config = StationConfig::parse("station.toml", &named).expect("valid");
        let tensorrt = config.inference(Path::new("/etc/actrec")).tensorrt;
        assert_eq!(tensorrt.shim, PathBuf::from("/etc/actrec/lib/libactrec_trt.so.2"));
        assert_eq!(tensorrt.precision, Precision::Int8);
        assert_eq!(tensorrt.engines_dir, PathBuf::from("/opt/engines"));
        assert_eq!(tensorrt.preprocess, PreprocessOn::Gpu);
        let bad = GOOD.replace(
            "dir = \"models/demo\"\n",
            "dir = \"models/demo\"\n\n[model.tensorrt]\nprecision = \"int4\"\n",
        );
        let found = problems(&bad);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .contains("model.tensorrt.precision: unknown variant `int4`, expected one of `fp32`, `fp16`, `int8`"),
            "{found:?}"
        );
    }

    #[test]
    fn audit_retention_and_mount_roots() {
        let config = StationConfig::parse("station.toml", GOOD).expect("valid");
        assert_eq!(config.audit.max_megabytes, 1024);
        assert_eq!(config.audit.max_days, None);
        assert_eq!(
            config.audit.mount_roots,
            vec![PathBuf::from("/run/media"), PathBuf::from("/media")]
        );
        let set = GOOD.replace(
            "path = \"audit.sqlite\"",
            "path = \"audit.sqlite\"\nmax_megabytes = 64\nmax_days = 365\nmount_roots = [\"/mnt/usb\"]",
        );
        let config = StationConfig::parse("station.toml", &set).expect("valid");
        assert_eq!((config.audit.max_megabytes, config.audit.max_days), (64, Some(365)));
        assert_eq!(config.audit.mount_roots, vec![PathBuf::from("/mnt/usb")]);
        let bad = GOOD.replace(
            "path = \"audit.sqlite\"",
            "path = \"audit.sqlite\"\nmax_megabytes = 0\nmax_days = 0\nmount_roots = [\"/media\", \"usb\", \"/media\", \"/\"]",
        );
        assert_eq!(
            problems(&bad),
            vec![
                "station.toml:33:17: audit.max_megabytes: max_megabytes = 0 must be from 1 to 1048576",
                "station.toml:34:12: audit.max_days: max_days = 0 must be from 1 to 36500; leave it out to keep rows whatever their age",
                "station.toml:35:26: audit.mount_roots[1]: mount root `usb` must be an absolute path below /",
                "station.toml:35:33: audit.mount_roots[2]: mount root `/media` is listed twice",
                "station.toml:35:43: audit.mount_roots[3]: mount root `/` must be an absolute path below /",
            ]
        );
        let typo = GOOD.replace("path = \"audit.sqlite\"", "path = \"audit.sqlite\"\nmax_mb = 5");
        assert_eq!(
            problems(&typo),
            vec![
                "station.toml:33:1: audit.max_mb: unknown field `max_mb`, expected one of `path`, `max_megabytes`, `max_days`, `mount_roots`"
            ]
        );
    }

    #[test]
    fn type_errors_and_unknown_sections_are_located() {
        let bad = GOOD
            .replace("port = 5000", "port = \"5000\"")
            .replace("[audit]", "[audti]");
        let found = problems(&bad);
        assert_eq!(
            found[0],
            "station.toml:31:1: audti: unknown section `audti`, expected one of: station, sources, media, model, decoder, sequence, outputs, gpio, audit, operator"
        );
        assert!(
            found[1].starts_with("station.toml:12:8: sources.cam.rtp.port: invalid type: string \"5000\""),
            "{found:?}"
        );
        assert!(found[2].contains("audit: missing required section"), "{found:?}");
    }

    #[test]
    fn media_settings_are_checked() {
        let bad = GOOD.replace(
            "[model]",
            "[media]\nprofile = \"jetson\"\ndisplay_width = 1281\nloss_timeout_ms = 2000\noverrides = { encoder = \" \" }\n\n[model]",
        );
        let found = problems(&bad);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].contains("media.loss_timeout_ms: loss_timeout_ms = 2000 must be from 100 to 900"));
        assert!(found[1].contains("media.display_width: display width and height must be even"));
        assert!(found[2].contains("media.overrides.encoder: an override must not be empty"));
        let config = StationConfig::parse(
            "station.toml",
            &GOOD.replace("[model]", "[media]\nprofile = \"generic\"\n\n[model]"),
        )
        .expect("valid");
        assert_eq!(config.media.profile, ProfileChoice::Generic);
        assert_eq!(
            config.source("demo", Path::new("/etc/actrec")),
            Some(Source::File {
                path: "/etc/actrec/demo.mp4".into(),
                looping: true,
                pace: Pace::Realtime
            })
        );
    }

    #[test]
    fn idle_labels_must_be_model_labels() {
        let config = StationConfig::parse("station.toml", GOOD).expect("valid");
        let labels = vec!["background".to_owned(), "spacer".to_owned()];
        let problems = config
            .check_vocabulary("station.toml", GOOD, &labels)
            .expect_err("idle unknown");
        assert_eq!(
            problems.to_string(),
            "station.toml:20:16: decoder.idle_labels[0]: idle label `idle` is not a label of the model (labels: background, spacer)"
        );
    }

    #[test]
    fn hardware_gpio_needs_every_fail_safe_line() {
        let bad = GOOD.replace(
            "backend = \"sim\"",
            "backend = \"cdev\"\nlines.red = { chip = \"tegra-gpio\", offset = 12 }\nlines.reject = { chip = \"tegra-gpio\", offset = 12 }",
        );
        let found = problems(&bad);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].contains("the `green` line is required"));
        assert!(found[1].contains("the `amber` line is required"));
        assert!(found[2].contains("gpio.lines.reject: tegra-gpio line 12 is already used by `red`"));
    }

    #[test]
    fn gpio_defaults_to_a_latching_relay() {
        let config = StationConfig::parse("station.toml", GOOD).expect("valid");
        assert_eq!(config.gpio.reject_mode, RejectMode::Latch);
        assert_eq!(config.gpio.reject_pulse_ms(), None);
        assert_eq!(config.gpio.blink_ms, 1000);
        assert_eq!(
            config.gpio.sim_file_in(&config.data_dir(Path::new("/etc/actrec"))),
            PathBuf::from("/var/lib/actrec/gpio-sim.jsonl")
        );
        let pulse = GOOD.replace("backend = \"sim\"", "backend = \"sim\"\nreject_mode = \"pulse\"");
        let config = StationConfig::parse("station.toml", &pulse).expect("valid");
        assert_eq!(config.gpio.reject_pulse_ms(), Some(Gpio::DEFAULT_PULSE_MS));
    }

    #[test]
    fn gpio_timing_settings_are_checked() {
        let bad = GOOD.replace(
            "backend = \"sim\"",
            "backend = \"sim\"\npulse_ms = 300\nblink_ms = 50\nsim_file = \"\"",
        );
        assert_eq!(
            problems(&bad),
            vec![
                "station.toml:30:12: gpio.pulse_ms: pulse_ms only applies with reject_mode = \"pulse\"",
                "station.toml:31:12: gpio.blink_ms: blink_ms = 50 must be from 200 to 5000",
                "station.toml:32:12: gpio.sim_file: sim_file is empty",
            ]
        );
        let bad = GOOD.replace(
            "backend = \"sim\"",
            "backend = \"sim\"\nreject_mode = \"pulse\"\npulse_ms = 20",
        );
        assert_eq!(
            problems(&bad),
            vec!["station.toml:31:12: gpio.pulse_ms: pulse_ms = 20 must be from 50 to 10000"]
        );
        let bad = GOOD.replace("backend = \"sim\"", "backend = \"sim\"\nreject_mode = \"pules\"");
        let found = problems(&bad);
        assert!(
            found[0].starts_with("station.toml:30:15: gpio.reject_mode: unknown variant `pules`"),
            "{found:?}"
        );
        let bad = GOOD.replace("backend = \"sim\"", "backend = \"sim\"\nblink = 500");
        let found = problems(&bad);
        assert!(found[0].contains("gpio.blink: unknown field `blink`"), "{found:?}");
    }

    /// The shipped `config/gpio/*.toml` examples, spliced into a config in
    /// place of its `[gpio]` section, load without a problem.
    #[test]
    fn gpio_example_files_parse() {
        let examples = [
            (
                "jetson-nano.toml",
                include_str!("../../../config/gpio/jetson-nano.toml"),
                "tegra-gpio",
            ),
            (
                "agx-xavier.toml",
                include_str!("../../../config/gpio/agx-xavier.toml"),
                "tegra194-gpio",
            ),
        ];
        for (name, example, chip) in examples {
            let text = GOOD.replace("[gpio]\nbackend = \"sim\"\n", example);
            assert_ne!(text, GOOD);
            let config = StationConfig::parse(name, &text).unwrap_or_else(|p| panic!("{name}: {p}"));
            let gpio = &config.gpio;
            assert_eq!(gpio.backend, GpioBackend::Cdev, "{name}");
            for line in [
                &gpio.lines.green,
                &gpio.lines.amber,
                &gpio.lines.red,
                &gpio.lines.reject,
            ] {
                let line = line
                    .as_ref()
                    .unwrap_or_else(|| panic!("{name}: a fail-safe line is missing"));
                assert_eq!(line.chip, chip, "{name}");
            }
            // Red and reject are wired energise-to-run (docs/WIRING.md).
            assert!(gpio.lines.red.as_ref().is_some_and(|l| l.active_low), "{name}");
            assert!(gpio.lines.reject.as_ref().is_some_and(|l| l.active_low), "{name}");
            assert!(gpio.lines.heartbeat.is_some(), "{name}");
            // The same file with the sysfs backend is valid too.
            let sysfs = text.replace("backend = \"cdev\"", "backend = \"sysfs\"");
            assert!(StationConfig::parse(name, &sysfs).is_ok(), "{name}");
        }
    }

    #[test]
    fn sources_are_checked_by_kind() {
        let bad = GOOD.replace(
            "[model]",
            "[sources.usb.v4l2]\ndevice = \"video0\"\nwidth = 0\nheight = 480\nframerate = 30\n\n[sources.ip.rtsp]\nurl = \"http://cam\"\n\n[model]",
        );
        let found = problems(&bad);
        assert!(
            found
                .iter()
                .any(|p| p.contains("sources.usb.v4l2.device: device `video0` must be under /dev/")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.contains("sources.usb.v4l2.width: width and height")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.contains("sources.ip.rtsp.url: url `http://cam` must start with rtsp://")),
            "{found:?}"
        );
    }
}
