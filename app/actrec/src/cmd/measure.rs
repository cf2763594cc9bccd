//! The real engine in its own process on a clip, for the commands that
//! measure the station: `actrec eval` (accuracy) and `actrec bench` (speed).
//!
//! The engine runs from a config written beside the run's files: the
//! station's model, decoder, sequence and media settings, the clip as a file
//! source (read as fast as the engine takes it, or at camera speed), the
//! GPIO lines simulated (a measuring run never drives the real relay) and
//! its own audit log.

use std::path::{Path, PathBuf};
use std::process::Command;

use actrec_core::config::{ModelBackend, ProfileChoice};

use crate::files::{Failure, Station, file_problem};

/// A problem with a file or folder of a measuring run.
pub fn fail(path: &Path, message: impl Into<String>) -> Failure {
    Failure::Input(actrec_core::diag::Problems(vec![file_problem(path, message)]))
}

pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// One engine run on one clip.
pub struct ClipRun<'a> {
    pub station: &'a Station,
    /// The directory of the station's config file.
    pub config_dir: &'a Path,
    pub clip: &'a Path,
    /// Where the run's config and data go.
    pub dir: &'a Path,
    /// The annotated video's size and rate, `(width, height, fps)`; `None`
    /// keeps the station's.
    pub display: Option<(u32, u32, u32)>,
    /// The body of `[outputs]`; empty for decisions only.
    pub outputs: &'a str,
    /// Read the clip at camera speed instead of as fast as the engine takes it.
    pub realtime: bool,
}

impl ClipRun<'_> {
    /// Writes `dir/station.toml`; returns its path.
    pub fn write_config(&self) -> Result<PathBuf, Failure> {
        let config = &self.station.config;
        let model = &config.model;
        let decoder = &config.decoder;
        let quoted = |path: &Path| format!("{:?}", absolute(path).display().to_string());
        let idle: Vec<String> = decoder.idle_labels.iter().map(|l| format!("{l:?}")).collect();
        let backend = match model.backend {
            ModelBackend::Auto => "auto",
            ModelBackend::Tract => "tract",
            ModelBackend::Onnxruntime => "onnxruntime",
            ModelBackend::Tensorrt => "tensorrt",
        };
        // The station's own engines and shim, so a Jetson measures TensorRT.
        let tensorrt = config.inference(self.config_dir).tensorrt;
        let tensorrt = format!(
            "[model.tensorrt]\nshim = {}\nprecision = \"{}\"\nengines_dir = {}\n",
            format_args!("{:?}", tensorrt.shim.display().to_string()),
            tensorrt.precision.name(),
            quoted(&tensorrt.engines_dir),
        );
        let library = model
            .onnxruntime_library
            .as_ref()
            .map(|p| format!("onnxruntime_library = {}\n", quoted(&self.config_dir.join(p))))
            .unwrap_or_default();
        let text = format!(
            "[station]\nid = \"measure\"\ndata_dir = \"data\"\nsource = \"clip\"\n\n\
             [sources.clip.file]\npath = {clip}\npace = \"{pace}\"\n\n{media}\n\
             [model]\ndir = {model_dir}\nbackend = \"{backend}\"\nthreads = {threads}\n{library}\n{tensorrt}\n\
             [decoder]\nmin_confidence = {conf}\nmin_windows = {minw}\nidle_labels = [{idle}]\n\n\
             [sequence]\nfile = {sequence}\n\n[gpio]\nbackend = \"sim\"\n\n[audit]\npath = \"audit.sqlite\"\n\n[outputs]\n{outputs}",
            clip = quoted(self.clip),
            pace = if self.realtime { "realtime" } else { "fast" },
            model_dir = quoted(&config.model_dir(self.config_dir)),
            threads = model.threads,
            conf = decoder.min_confidence,
            minw = decoder.min_windows,
            idle = idle.join(", "),
            sequence = quoted(&config.sequence_file(self.config_dir)),
            media = self.media(),
            outputs = self.outputs,
        );
        std::fs::create_dir_all(self.dir).map_err(|e| fail(self.dir, format!("cannot create: {e}")))?;
        let path = self.dir.join("station.toml");
        std::fs::write(&path, text).map_err(|e| fail(&path, format!("cannot write: {e}")))?;
        Ok(path)
    }

    /// The station's `[media]`: the same decoder, scaler and encoder as on the line.
    fn media(&self) -> String {
        let media = &self.station.config.media;
        let profile = match media.profile {
            ProfileChoice::Auto => "auto",
            ProfileChoice::Generic => "generic",
            ProfileChoice::Jetson => "jetson",
        };
        let (width, height, fps) =
            self.display
                .unwrap_or((media.display_width, media.display_height, media.display_fps));
        let mut text = format!(
            "[media]\nprofile = \"{profile}\"\ndisplay_width = {width}\ndisplay_height = {height}\n\
             display_fps = {fps}\nbitrate_kbps = {}\n",
            media.bitrate_kbps
        );
        let overrides = &media.overrides;
        for (key, value) in [
            ("decoder", &overrides.decoder),
            ("convert", &overrides.convert),
            ("scale", &overrides.scale),
            ("encoder", &overrides.encoder),
        ] {
            if let Some(value) = value {
                text.push_str(&format!("overrides.{key} = {value:?}\n"));
            }
        }
        text
    }
}

/// `actrec run --exit-on-end --config CONFIG`, this same binary, quiet but
/// for errors; the caller adds its arguments and where the output goes.
pub fn engine(config: &Path) -> Result<Command, Failure> {
    let exe = std::env::current_exe().map_err(|e| fail(Path::new("actrec"), e.to_string()))?;
    let mut command = Command::new(exe);
    command
        .args(["run", "--exit-on-end", "--config"])
        .arg(config)
        .env("RUST_LOG", "error");
    Ok(command)
}
