//! `[outputs]`: where the annotated video goes (recordings, network, the
//! panel's ring, a preview window) and the evidence clips of rejected parts.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::StationConfig;
use crate::diag::Report;

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Outputs {
    /// Annotated video to mp4 files; absent means no recording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mp4: Option<Mp4Output>,
    /// Annotated video to the network; absent means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamOutput>,
    /// Annotated video to shared memory for the panel; absent means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shm: Option<ShmOutput>,
    /// A preview window on a desktop.
    #[serde(default)]
    pub preview: bool,
    /// A clip of every rejected part; absent means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clips: Option<ClipOutput>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
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

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Mp4Output {
    /// Relative to `station.data_dir`.
    pub dir: PathBuf,
    /// New file per part, or every `segment_seconds`.
    pub split: Mp4Split,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment_seconds: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mp4Split {
    Part,
    Time,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum StreamOutput {
    Rtp { host: IpAddr, port: u16 },
    Rtsp { port: u16, path: String },
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ShmOutput {
    /// The ring file; relative to `station.data_dir`. Put it on tmpfs (`/run`).
    pub path: PathBuf,
}

impl StationConfig {
    /// Where evidence clips are kept (the data directory when clips are off).
    pub fn clips_dir(&self, config_dir: &Path) -> PathBuf {
        let data_dir = self.data_dir(config_dir);
        match &self.outputs.clips {
            Some(clips) => data_dir.join(&clips.dir),
            None => data_dir,
        }
    }
}

pub(super) fn validate_outputs(outputs: &Outputs, report: &mut Report<'_, '_>) {
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
