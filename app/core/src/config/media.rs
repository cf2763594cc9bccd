//! `[media]`: how video is decoded, shown and encoded.

use serde::{Deserialize, Serialize};

use crate::diag::Report;

/// The `[media]` section: how video is decoded, shown and encoded.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
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
    #[serde(default, skip_serializing_if = "super::is_default")]
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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileChoice {
    #[default]
    Auto,
    Generic,
    Jetson,
}

/// Each replaces the profile's own fragment, e.g. `decoder = "avdec_h264 max-threads=2"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MediaOverrides {
    /// H.264 decoder, for RTP and RTSP sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decoder: Option<String>,
    /// Colour conversion to system memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub convert: Option<String>,
    /// Scaler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<String>,
    /// H.264 encoder for the annotated video.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoder: Option<String>,
}

pub(super) fn validate_media(media: &Media, report: &mut Report<'_, '_>) {
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
