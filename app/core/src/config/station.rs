//! `[station]` and `[sources]`: what the station is called, where it keeps
//! its data, and the video sources it can switch among.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::StationConfig;
use crate::diag::Report;
use crate::label::label_problem;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
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
        #[serde(default, skip_serializing_if = "Option::is_none")]
        multicast: Option<IpAddr>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pace {
    #[default]
    Realtime,
    Fast,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum V4l2Format {
    #[default]
    Mjpeg,
    Raw,
}

fn default_latency_ms() -> u32 {
    200
}
fn default_pattern() -> String {
    "smpte".into()
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
}

pub(super) fn validate_station(
    station: &Station,
    sources: Option<&BTreeMap<String, Source>>,
    report: &mut Report<'_, '_>,
) {
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

pub(super) fn validate_sources(sources: &BTreeMap<String, Source>, report: &mut Report<'_, '_>) {
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
