//! The station on a clip, for the commands that measure it: `eval`
//! (accuracy, in this process) and `bench` (speed, each run in a child
//! process of this binary so that its memory and CPU are its own).
//!
//! A measuring run's config is the station's own, through the config types
//! (so no setting can be left behind), with only what a measurement must
//! change: the clip as its one file source (read as fast as the engine
//! takes it, or at camera speed), its own data directory and audit log, the
//! GPIO lines simulated (a measuring run never drives the real relay), no
//! panel socket, and the outputs and display size of the run. It is written
//! beside the run's files and read back as any station config is.

use std::path::{Path, PathBuf};
use std::process::Command;

use actrec_core::config::{GpioBackend, Outputs, Pace, Source, Station, StationConfig};
use actrec_station::load::{Failure, LoadedStation, file_problem, load_station};
use actrec_station::{Options, Predictor, Socket};

/// A problem with a file or folder of a measuring run.
pub fn fail(path: &Path, message: impl Into<String>) -> Failure {
    Failure::Input(actrec_core::diag::Problems(vec![file_problem(path, message)]))
}

pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// The name of the measuring run's one source.
const CLIP_SOURCE: &str = "clip";

/// One run of the station on one clip.
pub struct ClipRun<'a> {
    pub station: &'a LoadedStation,
    pub clip: &'a Path,
    /// Where the run's config and data go.
    pub dir: &'a Path,
    /// The annotated video's size and rate, `(width, height, fps)`; `None`
    /// keeps the station's.
    pub display: Option<(u32, u32, u32)>,
    /// The run's outputs; none for decisions only.
    pub outputs: Outputs,
    /// Read the clip at camera speed instead of as fast as the engine takes it.
    pub realtime: bool,
}

impl ClipRun<'_> {
    /// The station's config, changed only where a measuring run must differ.
    pub fn config(&self) -> StationConfig {
        let original = &self.station.config;
        // Absolute: the run's config is written, and read, elsewhere.
        let config_dir = &absolute(&self.station.config_dir);
        let mut config = original.with_paths_resolved(config_dir);
        // The station's own engines, so that a Jetson measures its TensorRT engine.
        config.model.tensorrt.engines_dir = Some(original.inference(config_dir).tensorrt.engines_dir);
        config.station = Station {
            id: "measure".into(),
            data_dir: absolute(&self.dir.join("data")),
            source: CLIP_SOURCE.into(),
        };
        config.sources = [(
            CLIP_SOURCE.to_owned(),
            Source::File {
                path: absolute(self.clip),
                looping: false,
                pace: if self.realtime { Pace::Realtime } else { Pace::Fast },
            },
        )]
        .into();
        if let Some((width, height, fps)) = self.display {
            config.media.display_width = width;
            config.media.display_height = height;
            config.media.display_fps = fps;
        }
        config.outputs = self.outputs.clone();
        config.gpio.backend = GpioBackend::Sim;
        config.audit.path = PathBuf::from("audit.sqlite");
        config.operator.socket = None;
        config
    }

    /// Writes `dir/station.toml` from [`ClipRun::config`]; returns its path.
    pub fn write_config(&self) -> Result<PathBuf, Failure> {
        std::fs::create_dir_all(self.dir).map_err(|e| fail(self.dir, format!("cannot create: {e}")))?;
        let path = self.dir.join("station.toml");
        let text = self.config().to_toml().map_err(|e| fail(&path, e.to_string()))?;
        std::fs::write(&path, text).map_err(|e| fail(&path, format!("cannot write: {e}")))?;
        Ok(path)
    }

    /// The run's config written and loaded back, as the station loads any.
    pub fn load(&self) -> Result<LoadedStation, Failure> {
        Ok(load_station(&self.write_config()?)?)
    }
}

/// `actrec-lab measured-run`: what `bench` runs in a child process.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The measuring run's config (written by `ClipRun::write_config`).
    #[arg(long)]
    pub config: PathBuf,
    /// Each window's stage times and decision latency, then the process's
    /// peak memory and CPU time, as JSON lines to FILE.
    #[arg(long, value_name = "FILE")]
    pub timings: PathBuf,
    /// Stop after this many model frames.
    #[arg(long, value_name = "N")]
    pub max_frames: u64,
    /// Decode and count frames, without the model.
    #[arg(long)]
    pub decode_only: bool,
}

impl RunArgs {
    pub fn options(&self) -> Options {
        Options {
            exit_on_end: true,
            socket: Socket::None,
            predictor: if self.decode_only {
                Predictor::DecodeOnly
            } else {
                Predictor::Model
            },
            timings: Some(self.timings.clone()),
            max_frames: Some(self.max_frames),
            ..Options::default()
        }
    }
}

pub fn measured_run(args: &RunArgs) -> Result<(), Failure> {
    let station = load_station(&args.config)?;
    let options = args.options();
    let deps = actrec_station::assemble::deps(&station, &options, Vec::new())?;
    actrec_station::run(deps, &options, crossbeam_channel::never())?;
    Ok(())
}

/// This binary's `measured-run` on `config`, quiet but for errors; the
/// caller adds where the output goes.
pub fn measured_run_command(args: &RunArgs) -> Result<Command, Failure> {
    let exe = std::env::current_exe().map_err(|e| fail(Path::new("actrec-lab"), e.to_string()))?;
    let mut command = Command::new(exe);
    command
        .arg("measured-run")
        .arg("--config")
        .arg(&args.config)
        .arg("--timings")
        .arg(&args.timings)
        .arg("--max-frames")
        .arg(args.max_frames.to_string())
        .env("RUST_LOG", "error");
    if args.decode_only {
        command.arg("--decode-only");
    }
    Ok(command)
}

#[cfg(test)]
mod tests {
    use actrec_core::config::{Mp4Output, Mp4Split, Precision, PreprocessOn, StationConfig};

    use super::*;

    /// A station whose every section is set away from its defaults, with
    /// paths relative to its own folder, as a plant writes one.
    fn unusual_station(dir: &Path) -> PathBuf {
        let root = actrec_testkit::repo_root();
        let root = absolute(&root);
        let text = format!(
            r#"
[station]
id = "line-7"
data_dir = "data"
source = "cam"

[sources.cam.rtp]
port = 5004

[media]
profile = "generic"
display_width = 1024
display_height = 576
display_fps = 15
bitrate_kbps = 2500
loss_timeout_ms = 777
overrides.encoder = "x264enc speed-preset=superfast"

[model]
dir = "{root}/config/models/demo"
backend = "tract"
threads = 2
stall_seconds = 9
onnxruntime_library = "lib/libonnxruntime.so.1.32.0"

[model.tensorrt]
shim = "lib/libactrec_trt.so.2"
precision = "int8"
engines_dir = "trt-engines"
preprocess = "gpu"

[decoder]
min_confidence = 0.7
min_windows = 3
idle_labels = ["idle"]

[sequence]
file = "{root}/config/sequences/gear-housing.toml"
alternatives = ["{root}/config/sequences/gear-housing-short.toml"]

[outputs]
preview = true

[gpio]
backend = "sim"
reject_mode = "pulse"
pulse_ms = 700
blink_ms = 900

[audit]
path = "audit/log.sqlite"
max_megabytes = 64
max_days = 30
mount_roots = ["/mnt/usb"]

[operator]
socket = "engine.sock"
supervisor_pin = "pbkdf2-sha256$60000$933c79978d0a2222d181931785adc1a8$a74fb3fa8affc7c78896474ce22e70d6900b57b8091e83cc2b00d1be5250f26e"
"#,
            root = root.display()
        );
        let path = dir.join("station.toml");
        std::fs::write(&path, text).expect("station config");
        path
    }

    #[test]
    fn every_setting_of_the_station_reaches_the_measuring_run() {
        let dir = actrec_testkit::temp_dir("lab-measure-config");
        let station = load_station(&unusual_station(&dir)).expect("the station loads");
        let run_dir = dir.join("run");
        let run = ClipRun {
            station: &station,
            clip: &dir.join("clip.mp4"),
            dir: &run_dir,
            display: Some((1920, 1080, 30)),
            outputs: Outputs {
                mp4: Some(Mp4Output {
                    dir: "video".into(),
                    split: Mp4Split::Part,
                    segment_seconds: None,
                }),
                ..Outputs::default()
            },
            realtime: true,
        };
        // What the run reads back from the file written for it is what was meant.
        let measured = run.load().expect("the run's config loads").config;
        assert_eq!(measured, run.config());

        // Everything but what a measurement must change is the station's own.
        let own: StationConfig = station.config.with_paths_resolved(&station.config_dir);
        let mut expected = measured.clone();
        expected.station = own.station.clone();
        expected.sources = own.sources.clone();
        (
            expected.media.display_width,
            expected.media.display_height,
            expected.media.display_fps,
        ) = (own.media.display_width, own.media.display_height, own.media.display_fps);
        expected.outputs = own.outputs.clone();
        expected.audit.path = own.audit.path.clone();
        expected.operator.socket = own.operator.socket.clone();
        expected.model.tensorrt.engines_dir = own.model.tensorrt.engines_dir.clone();
        assert_eq!(expected, own);

        // The settings the old hand-written config left behind, one by one.
        assert_eq!(measured.model.tensorrt.preprocess, PreprocessOn::Gpu);
        assert_eq!(measured.model.tensorrt.precision, Precision::Int8);
        assert_eq!(measured.model.stall_seconds, 9);
        assert_eq!(measured.media.loss_timeout_ms, 777);
        // The station's own engines, wherever the run's data go.
        assert_eq!(measured.model.tensorrt.engines_dir, Some(dir.join("data/trt-engines")));
        // What a measurement changes.
        assert_eq!(measured.station.id, "measure");
        assert_eq!(measured.station.data_dir, absolute(&run_dir.join("data")));
        assert_eq!(measured.gpio.backend, GpioBackend::Sim);
        assert_eq!(measured.operator.socket, None);
        assert_eq!(
            measured.sources[CLIP_SOURCE],
            Source::File {
                path: absolute(&dir.join("clip.mp4")),
                looping: false,
                pace: Pace::Realtime,
            }
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
