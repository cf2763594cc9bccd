//! Pipeline descriptions, built as `gst-launch-1.0` strings from the config.
//!
//! Pure: nothing here touches GStreamer, so every profile and source kind is
//! tested as text. The strings are what the station logs at start, so an
//! engineer can paste them into `gst-launch-1.0` to reproduce a problem.
//!
//! Two pipelines run at once (see docs/VIDEO.md):
//! - *ingest*: source → decode → tee → {model frames (square crop, model
//!   resolution, RGB), display frames (display resolution, I420)}, both to
//!   appsinks;
//! - *output*: appsrc (display frames) → text overlays → tee → {H.264 →
//!   {mp4, RTP, RTSP, evidence ring}, the panel's video ring, preview}.
//!
//! Keeping them apart lets the source be switched or reconnected while the
//! recordings and the panel's video go on.

use std::path::Path;

use actrec_core::config::{MediaOverrides, Outputs, Pace, Source, StreamOutput, V4l2Format};

/// Which elements decode, convert, scale and encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Software elements, available everywhere.
    Generic,
    /// Jetson hardware elements with NVMM memory.
    Jetson,
}

/// Elements that prove the Jetson profile can run.
pub const JETSON_ELEMENTS: &[&str] = &["nvv4l2decoder", "nvvidconv", "nvv4l2h264enc"];

/// Default RTP caps for H.264 from an IP camera.
pub const DEFAULT_RTP_CAPS: &str = "application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000";

/// Resolves `auto` by looking for the Jetson elements.
pub fn pick_profile(choice: actrec_core::config::ProfileChoice, has_element: impl Fn(&str) -> bool) -> Profile {
    use actrec_core::config::ProfileChoice;
    match choice {
        ProfileChoice::Generic => Profile::Generic,
        ProfileChoice::Jetson => Profile::Jetson,
        ProfileChoice::Auto if JETSON_ELEMENTS.iter().all(|e| has_element(e)) => Profile::Jetson,
        ProfileChoice::Auto => Profile::Generic,
    }
}

/// The fragments a profile uses, after the config's overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragments {
    pub profile: Profile,
    pub decoder: String,
    /// Converts to system memory in any raw format.
    pub convert: String,
    pub scale: String,
    /// Encodes I420 to H.264.
    pub encoder: String,
}

impl Fragments {
    pub fn new(profile: Profile, overrides: &MediaOverrides, bitrate_kbps: u32, fps: u32) -> Self {
        let keyframe_interval = fps.max(1); // one second: splits and clips start on a keyframe
        let (decoder, convert, scale, encoder) = match profile {
            Profile::Generic => (
                "avdec_h264".to_owned(),
                "videoconvert".to_owned(),
                "videoscale".to_owned(),
                // ultrafast: 2.3× veryfast's speed at the same bit rate, so that a 2-core
                // station records 1080p beside its model (docs/PERFORMANCE.md); a bigger
                // CPU may trade speed for quality with `[media] overrides.encoder`.
                format!(
                    "x264enc tune=zerolatency speed-preset=ultrafast bitrate={bitrate_kbps} key-int-max={keyframe_interval}"
                ),
            ),
            Profile::Jetson => (
                "nvv4l2decoder".to_owned(),
                "nvvidconv".to_owned(),
                "nvvidconv".to_owned(),
                format!(
                    "nvvidconv ! video/x-raw(memory:NVMM),format=I420 ! nvv4l2h264enc bitrate={} iframeinterval={keyframe_interval} insert-sps-pps=true",
                    u64::from(bitrate_kbps) * 1000
                ),
            ),
        };
        let pick = |own: String, over: &Option<String>| over.clone().unwrap_or(own);
        Self {
            profile,
            decoder: pick(decoder, &overrides.decoder),
            convert: pick(convert, &overrides.convert),
            scale: pick(scale, &overrides.scale),
            encoder: pick(encoder, &overrides.encoder),
        }
    }
}

/// Why a source cannot be described for a profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescribeError {
    #[error("the CSI camera needs the jetson profile (nvarguscamerasrc); this station uses the generic profile")]
    CsiNeedsJetson,
}

/// Quotes a property value for a launch description.
pub fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Whether frames come at the source's own pace (a camera) rather than as fast as we take them.
pub fn is_live(source: &Source) -> bool {
    match source {
        Source::File { pace, .. } => *pace == Pace::Realtime,
        Source::Pipeline { live, .. } => *live,
        _ => true,
    }
}

/// The source fragment: from the source to decoded raw video.
pub fn source(source: &Source, f: &Fragments) -> Result<String, DescribeError> {
    let jetson = f.profile == Profile::Jetson;
    Ok(match source {
        Source::File { path, .. } => format!("filesrc location={} ! decodebin", quote(&path.display().to_string())),
        Source::Rtp { port, multicast, caps } => {
            let group = multicast
                .map(|g| format!(" address={g} auto-multicast=true"))
                .unwrap_or_default();
            let caps = quote(caps.as_deref().unwrap_or(DEFAULT_RTP_CAPS));
            format!(
                "udpsrc port={port}{group} caps={caps} ! rtpjitterbuffer latency=100 drop-on-latency=true ! rtph264depay ! h264parse ! {}",
                f.decoder
            )
        }
        Source::Rtsp { url, latency_ms } => format!(
            "rtspsrc location={} latency={latency_ms} ! rtph264depay ! h264parse ! {}",
            quote(url),
            f.decoder
        ),
        Source::V4l2 {
            device,
            format,
            width,
            height,
            framerate,
        } => {
            let device = quote(&device.display().to_string());
            let size = format!("width={width},height={height},framerate={framerate}/1");
            match (format, jetson) {
                (V4l2Format::Mjpeg, false) => format!("v4l2src device={device} ! image/jpeg,{size} ! jpegdec"),
                (V4l2Format::Mjpeg, true) => {
                    format!("v4l2src device={device} ! image/jpeg,{size} ! nvv4l2decoder mjpeg=1")
                }
                (V4l2Format::Raw, _) => format!("v4l2src device={device} ! video/x-raw,{size}"),
            }
        }
        Source::Csi {
            sensor_id,
            width,
            height,
            framerate,
        } => {
            if !jetson {
                return Err(DescribeError::CsiNeedsJetson);
            }
            format!(
                "nvarguscamerasrc sensor-id={sensor_id} ! video/x-raw(memory:NVMM),width={width},height={height},framerate={framerate}/1"
            )
        }
        Source::Test { pattern } => format!(
            "videotestsrc pattern={} is-live=true ! video/x-raw,width=1280,height=720,framerate=30/1",
            quote(pattern)
        ),
        Source::Pipeline { description, .. } => description.clone(),
    })
}

/// What the ingest's model branch delivers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ModelFrames {
    /// The centre square at the model's side, RGB: preprocessing on the CPU.
    #[default]
    Square,
    /// Whole frames, NV12: preprocessing on the GPU, whose kernel crops and
    /// scales (docs/GPU.md).
    WholeNv12,
}

/// Sizes the ingest pipeline delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameSizes {
    /// Side of the model's square input.
    pub model: u32,
    pub model_frames: ModelFrames,
    pub display_width: u32,
    pub display_height: u32,
    pub display_fps: u32,
}

pub const MODEL_SINK: &str = "model";
pub const DISPLAY_SINK: &str = "display";

/// Source → tee → {model appsink, display appsink}.
///
/// The model branch crops the centre square and scales it (the original
/// system's short-side resize and centre crop, in one step); the display
/// branch scales with borders, so nothing is distorted.
pub fn ingest(source_fragment: &str, f: &Fragments, sizes: FrameSizes, display: bool) -> String {
    let FrameSizes {
        model,
        model_frames,
        display_width,
        display_height,
        display_fps,
    } = sizes;
    let to_system = match f.profile {
        Profile::Generic => f.convert.clone(),
        Profile::Jetson => format!("{} ! video/x-raw", f.convert),
    };
    let model_branch = match model_frames {
        ModelFrames::Square => format!(
            "queue max-size-buffers=4 ! aspectratiocrop aspect-ratio=1/1 ! videoscale ! videoconvert ! \
             video/x-raw,format=RGB,width={model},height={model} ! appsink name={MODEL_SINK}"
        ),
        ModelFrames::WholeNv12 => {
            format!("queue max-size-buffers=4 ! videoconvert ! video/x-raw,format=NV12 ! appsink name={MODEL_SINK}")
        }
    };
    if !display {
        // Decisions only: no annotated output, so no display branch to feed.
        return format!("{source_fragment} ! {to_system} ! {model_branch}");
    }
    format!(
        "{source_fragment} ! {to_system} ! tee name=split split. ! {model_branch} \
         split. ! queue max-size-buffers=4 ! videorate ! videoscale ! videoconvert ! \
         video/x-raw,format=I420,width={display_width},height={display_height},pixel-aspect-ratio=1/1,framerate={display_fps}/1 ! \
         appsink name={DISPLAY_SINK}"
    )
}

pub const ANNOTATED_SRC: &str = "annotated";
pub const STATUS_OVERLAY: &str = "status";
pub const VERDICT_OVERLAY: &str = "verdict";
/// The sequence as a strip of steps, along the bottom.
pub const STRIP_OVERLAY: &str = "strip";
pub const RECORDER: &str = "recorder";
pub const EVIDENCE_SINK: &str = "evidence";
/// Feeds the panel's video ring (actrec-shmring).
pub const PANEL_SINK: &str = "panel";

/// Where the output pipeline writes, with paths already resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputPlan {
    pub outputs: Outputs,
    /// Recording file pattern with one `%05d`, when recording.
    pub mp4_location: Option<String>,
    /// Loopback port feeding the RTSP server, when serving RTSP.
    pub rtsp_feed_port: Option<u16>,
    /// Whether the evidence ring is fed.
    pub clips: bool,
}

impl OutputPlan {
    /// Where the RTP stream goes: the configured host, or the RTSP server's loopback feed.
    fn rtp_target(&self) -> Option<(String, u16)> {
        match &self.outputs.stream {
            Some(StreamOutput::Rtp { host, port }) => Some((host.to_string(), *port)),
            Some(StreamOutput::Rtsp { .. }) => self.rtsp_feed_port.map(|p| ("127.0.0.1".to_owned(), p)),
            None => None,
        }
    }

    /// Whether the annotated video is encoded: recorded, streamed or kept for clips.
    fn encoded(&self) -> bool {
        self.mp4_location.is_some() || self.rtp_target().is_some() || self.clips
    }

    /// Whether any output takes the annotated video; without one the engine
    /// decodes no display frames (decisions only).
    pub fn has_outputs(&self) -> bool {
        self.encoded() || self.outputs.shm.is_some() || self.outputs.preview
    }
}

/// appsrc → overlays → tee → every configured output.
pub fn output(plan: &OutputPlan, f: &Fragments, sizes: FrameSizes) -> String {
    let FrameSizes {
        display_width: w,
        display_height: h,
        display_fps: fps,
        ..
    } = sizes;
    let mut d = format!(
        "appsrc name={ANNOTATED_SRC} is-live=true do-timestamp=true format=time \
         caps=video/x-raw,format=I420,width={w},height={h},pixel-aspect-ratio=1/1,framerate={fps}/1 ! \
         textoverlay name={STATUS_OVERLAY} valignment=top halignment=left line-alignment=left font-desc=\"Sans 11\" shaded-background=true ! \
         textoverlay name={VERDICT_OVERLAY} valignment=top halignment=right line-alignment=right font-desc=\"Sans Bold 22\" shaded-background=true ! \
         textoverlay name={STRIP_OVERLAY} valignment=bottom halignment=center font-desc=\"Sans Bold 10\" wrap-mode=word ! \
         tee name=raw allow-not-linked=true"
    );
    let outputs = &plan.outputs;
    if plan.encoded() {
        d.push_str(&format!(
            " raw. ! queue ! {} ! video/x-h264,profile=high ! h264parse config-interval=-1 ! \
             video/x-h264,stream-format=byte-stream,alignment=au ! tee name=h264",
            f.encoder
        ));
        if let Some(location) = &plan.mp4_location {
            let max_time = match (
                outputs.mp4.as_ref().map(|m| m.split),
                outputs.mp4.as_ref().and_then(|m| m.segment_seconds),
            ) {
                (Some(actrec_core::config::Mp4Split::Time), Some(s)) => u64::from(s) * 1_000_000_000,
                _ => 0,
            };
            // Fragmented mp4 (a crash or power cut leaves every finished fragment
            // playable), written unbuffered so each fragment reaches the file at once.
            d.push_str(&format!(
                " h264. ! queue ! h264parse ! splitmuxsink name={RECORDER} location={} max-size-time={max_time} \
                 async-finalize=true muxer-factory=mp4mux muxer-properties=\"properties,fragment-duration=1000\" \
                 sink-factory=filesink sink-properties=\"properties,buffer-mode=2\"",
                quote(location)
            ));
        }
        if let Some((host, port)) = plan.rtp_target() {
            d.push_str(&format!(
                " h264. ! queue ! rtph264pay config-interval=1 pt=96 ! udpsink host={host} port={port} sync=false async=false"
            ));
        }
        if plan.clips {
            d.push_str(&format!(
                " h264. ! queue ! appsink name={EVIDENCE_SINK} sync=false async=false emit-signals=false"
            ));
        }
    }
    if outputs.shm.is_some() {
        d.push_str(&format!(
            " raw. ! queue leaky=downstream max-size-buffers=2 ! videoconvert ! video/x-raw,format=BGRx ! \
             appsink name={PANEL_SINK} sync=false async=false"
        ));
    }
    if outputs.preview {
        d.push_str(" raw. ! queue leaky=downstream max-size-buffers=2 ! videoconvert ! autovideosink sync=false");
    }
    if !plan.has_outputs() {
        d.push_str(" raw. ! queue ! fakesink sync=false async=false");
    }
    d
}

/// The mp4 file pattern for a recording directory; `stamp` keeps restarts from overwriting.
pub fn mp4_location(dir: &Path, stamp: &str) -> String {
    dir.join(format!("actrec-{stamp}-%05d.mp4")).display().to_string()
}

/// The RTSP server's pipeline: re-payload the loopback RTP feed.
pub fn rtsp_serve(feed_port: u16) -> String {
    format!(
        "( udpsrc port={feed_port} caps={} ! rtph264depay ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )",
        quote(DEFAULT_RTP_CAPS)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use actrec_core::config::{Mp4Output, Mp4Split, ProfileChoice, ShmOutput};

    fn generic() -> Fragments {
        Fragments::new(Profile::Generic, &MediaOverrides::default(), 4000, 30)
    }

    const SIZES: FrameSizes = FrameSizes {
        model: 256,
        model_frames: ModelFrames::Square,
        display_width: 1280,
        display_height: 720,
        display_fps: 30,
    };

    #[test]
    fn auto_picks_jetson_only_when_every_element_exists() {
        assert_eq!(pick_profile(ProfileChoice::Auto, |_| false), Profile::Generic);
        assert_eq!(
            pick_profile(ProfileChoice::Auto, |e| e != "nvv4l2h264enc"),
            Profile::Generic
        );
        assert_eq!(pick_profile(ProfileChoice::Auto, |_| true), Profile::Jetson);
        assert_eq!(pick_profile(ProfileChoice::Generic, |_| true), Profile::Generic);
    }

    #[test]
    fn overrides_replace_fragments() {
        let overrides = MediaOverrides {
            decoder: Some("openh264dec".into()),
            ..MediaOverrides::default()
        };
        let f = Fragments::new(Profile::Generic, &overrides, 4000, 25);
        assert_eq!(f.decoder, "openh264dec");
        assert_eq!(
            f.encoder,
            "x264enc tune=zerolatency speed-preset=ultrafast bitrate=4000 key-int-max=25"
        );
        let j = Fragments::new(Profile::Jetson, &MediaOverrides::default(), 4000, 30);
        assert!(j.encoder.contains("nvv4l2h264enc bitrate=4000000"));
    }

    #[test]
    fn every_source_kind_has_a_fragment() {
        let f = generic();
        let file = Source::File {
            path: "/data/my \"clip\".mp4".into(),
            looping: false,
            pace: Pace::Fast,
        };
        assert_eq!(
            source(&file, &f).as_deref(),
            Ok("filesrc location=\"/data/my \\\"clip\\\".mp4\" ! decodebin")
        );
        let rtp = Source::Rtp {
            port: 5000,
            multicast: Some("239.1.1.1".parse().expect("ip")),
            caps: None,
        };
        assert_eq!(
            source(&rtp, &f).as_deref(),
            Ok(
                "udpsrc port=5000 address=239.1.1.1 auto-multicast=true caps=\"application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000\" ! rtpjitterbuffer latency=100 drop-on-latency=true ! rtph264depay ! h264parse ! avdec_h264"
            )
        );
        let rtsp = Source::Rtsp {
            url: "rtsp://cam/1".into(),
            latency_ms: 200,
        };
        assert!(source(&rtsp, &f).is_ok_and(|d| d.starts_with("rtspsrc location=\"rtsp://cam/1\" latency=200")));
        let usb = Source::V4l2 {
            device: "/dev/video0".into(),
            format: V4l2Format::Mjpeg,
            width: 640,
            height: 480,
            framerate: 30,
        };
        assert_eq!(
            source(&usb, &f).as_deref(),
            Ok("v4l2src device=\"/dev/video0\" ! image/jpeg,width=640,height=480,framerate=30/1 ! jpegdec")
        );
        let csi = Source::Csi {
            sensor_id: 0,
            width: 1920,
            height: 1080,
            framerate: 30,
        };
        assert_eq!(source(&csi, &f), Err(DescribeError::CsiNeedsJetson));
        let jetson = Fragments::new(Profile::Jetson, &MediaOverrides::default(), 4000, 30);
        assert!(source(&csi, &jetson).is_ok_and(|d| d.starts_with("nvarguscamerasrc sensor-id=0")));
        assert!(is_live(&usb) && !is_live(&file));
    }

    #[test]
    fn ingest_crops_square_for_the_model_and_scales_for_display() {
        let d = ingest("videotestsrc", &generic(), SIZES, true);
        assert!(d.contains("aspectratiocrop aspect-ratio=1/1 ! videoscale ! videoconvert ! video/x-raw,format=RGB,width=256,height=256 ! appsink name=model"));
        assert!(d.contains(
            "video/x-raw,format=I420,width=1280,height=720,pixel-aspect-ratio=1/1,framerate=30/1 ! appsink name=display"
        ));
    }

    #[test]
    fn for_the_gpu_the_model_takes_whole_nv12_frames() {
        let sizes = FrameSizes {
            model_frames: ModelFrames::WholeNv12,
            ..SIZES
        };
        let d = ingest("videotestsrc", &generic(), sizes, false);
        assert!(d.ends_with("queue max-size-buffers=4 ! videoconvert ! video/x-raw,format=NV12 ! appsink name=model"));
        assert!(!d.contains("aspectratiocrop"));
    }

    #[test]
    fn outputs_are_combined_behind_one_encoder() {
        let outputs = Outputs {
            mp4: Some(Mp4Output {
                dir: "video".into(),
                split: Mp4Split::Time,
                segment_seconds: Some(600),
            }),
            stream: Some(StreamOutput::Rtp {
                host: "127.0.0.1".parse().expect("ip"),
                port: 5004,
            }),
            shm: Some(ShmOutput {
                path: "/run/actrec/video.shm".into(),
            }),
            preview: false,
            clips: None,
        };
        let plan = OutputPlan {
            outputs,
            mp4_location: Some("/d/v-%05d.mp4".into()),
            rtsp_feed_port: None,
            clips: true,
        };
        let d = output(&plan, &generic(), SIZES);
        assert_eq!(d.matches("x264enc").count(), 1);
        assert!(d.contains("splitmuxsink name=recorder location=\"/d/v-%05d.mp4\" max-size-time=600000000000"));
        assert!(d.contains("udpsink host=127.0.0.1 port=5004"));
        assert!(d.contains("appsink name=evidence"));
        assert!(d.contains("video/x-raw,format=BGRx ! appsink name=panel"));
        assert!(!d.contains("fakesink"));
        assert!(plan.has_outputs());
    }

    #[test]
    fn no_outputs_still_drains_the_overlay() {
        let plan = OutputPlan {
            outputs: Outputs::default(),
            mp4_location: None,
            rtsp_feed_port: None,
            clips: false,
        };
        let d = output(&plan, &generic(), SIZES);
        assert!(!d.contains("x264enc"));
        assert!(d.ends_with("raw. ! queue ! fakesink sync=false async=false"));
        assert!(!plan.has_outputs());
    }
}
