//! `actrec synth`: plans a clip, renders it, encodes it to H.264 mp4 (I420)
//! through GStreamer, and writes the ground truth beside it.
//!
//! Files in the output directory:
//! - `clip.mp4`: the video;
//! - `truth.json`: every frame's label (run-length coded), the step segments,
//!   and each part's steps, fault and expected verdict;
//! - `truth.windows.jsonl`: the label at the centre of each 1 s window, every
//!   `stride` frames, with p = 1, as `actrec check` reads windows: a perfect
//!   model's output;
//! - `frames.rgb` (with `raw`): the frames as packed RGB24, for training.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use actrec_core::sequence::Definition;
#[cfg(feature = "video")]
use gstreamer as gst;
#[cfg(feature = "video")]
use gstreamer::prelude::*;
#[cfg(feature = "video")]
use gstreamer_app as gst_app;
use serde::Serialize;

use crate::plan::{Plan, plan};
use crate::render::Frames;
use crate::variation::Variation;

#[derive(Debug, Clone)]
pub struct ClipSpec {
    pub seed: u64,
    pub parts: u32,
    pub width: usize,
    pub height: usize,
    pub fps: u32,
    pub bitrate_kbps: u32,
    /// Window hop for `truth.windows.jsonl`, in frames.
    pub stride: u32,
    /// Also write `frames.rgb`.
    pub raw: bool,
    /// Skip the mp4 (training reads raw frames only).
    pub video: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("encoder: {0}")]
    Encode(String),
    #[error("width and height must be even and at least 64 (got {0}x{1})")]
    Size(usize, usize),
}

#[derive(Debug, Serialize)]
struct Truth<'a> {
    version: u32,
    seed: u64,
    variation: &'a str,
    sequence: &'a str,
    width: usize,
    height: usize,
    #[serde(flatten)]
    plan: &'a Plan,
    /// Runs of identical frame labels: [label, frames].
    frame_labels: Vec<(&'a str, u64)>,
}

/// What was made, for the command's summary line.
#[derive(Debug)]
pub struct Made {
    pub plan: Plan,
    pub render_seconds: f64,
    pub total_seconds: f64,
}

fn io_error(path: &Path, err: impl std::fmt::Display) -> SynthError {
    SynthError::Io {
        path: path.to_owned(),
        message: err.to_string(),
    }
}

pub fn make(definition: &Definition, variation: &Variation, spec: &ClipSpec, out: &Path) -> Result<Made, SynthError> {
    if spec.width % 2 == 1 || spec.height % 2 == 1 || spec.width < 64 || spec.height < 64 {
        return Err(SynthError::Size(spec.width, spec.height));
    }
    let started = Instant::now();
    std::fs::create_dir_all(out).map_err(|e| io_error(out, e))?;
    let plan = plan(definition, variation, spec.seed, spec.parts, spec.fps);
    write_truth(definition, variation, spec, &plan, out)?;

    let mut encoder = if spec.video {
        Some(Encoder::start(&out.join("clip.mp4"), spec)?)
    } else {
        None
    };
    let raw_path = out.join("frames.rgb");
    let mut raw = if spec.raw {
        Some(BufWriter::new(
            File::create(&raw_path).map_err(|e| io_error(&raw_path, e))?,
        ))
    } else {
        None
    };
    let mut frames = Frames::new(&plan, variation, spec.width, spec.height, spec.seed);
    let mut frame = vec![0u8; spec.width * spec.height * 3];
    let mut render_seconds = 0.0;
    for n in 0..plan.frames {
        let t0 = Instant::now();
        frames.next_into(&mut frame);
        render_seconds += t0.elapsed().as_secs_f64();
        if let Some(raw) = raw.as_mut() {
            raw.write_all(&frame).map_err(|e| io_error(&raw_path, e))?;
        }
        if let Some(encoder) = encoder.as_mut() {
            encoder.push(&frame, n, spec.fps)?;
        }
    }
    if let Some(mut raw) = raw {
        raw.flush().map_err(|e| io_error(&raw_path, e))?;
    }
    if let Some(encoder) = encoder {
        encoder.finish()?;
    }
    Ok(Made {
        plan,
        render_seconds,
        total_seconds: started.elapsed().as_secs_f64(),
    })
}

fn write_truth(
    definition: &Definition,
    variation: &Variation,
    spec: &ClipSpec,
    plan: &Plan,
    out: &Path,
) -> Result<(), SynthError> {
    let labels = plan.frame_labels();
    let mut runs: Vec<(&str, u64)> = Vec::new();
    for label in &labels {
        match runs.last_mut() {
            Some((l, n)) if l == label => *n += 1,
            _ => runs.push((label, 1)),
        }
    }
    let truth = Truth {
        version: 1,
        seed: spec.seed,
        variation: &variation.name,
        sequence: &definition.name,
        width: spec.width,
        height: spec.height,
        plan,
        frame_labels: runs,
    };
    let path = out.join("truth.json");
    let json = serde_json::to_string_pretty(&truth).map_err(|e| io_error(&path, e))?;
    std::fs::write(&path, json).map_err(|e| io_error(&path, e))?;

    let path = out.join("truth.windows.jsonl");
    let window = u64::from(spec.fps);
    let mut lines = String::new();
    let mut start = 0u64;
    while start + window <= plan.frames {
        let centre = start + window / 2;
        let t = centre as f64 / f64::from(spec.fps);
        lines.push_str(&format!(
            "{{\"t\": {t:.4}, \"label\": \"{}\", \"p\": 1.0}}\n",
            labels[centre as usize]
        ));
        start += u64::from(spec.stride.max(1));
    }
    std::fs::write(&path, lines).map_err(|e| io_error(&path, e))
}

/// Without GStreamer there is no encoder; asking for video is an error.
#[cfg(not(feature = "video"))]
struct Encoder;

#[cfg(not(feature = "video"))]
impl Encoder {
    fn start(_: &Path, _: &ClipSpec) -> Result<Self, SynthError> {
        Err(SynthError::Encode(
            "built without the `video` feature: use --no-video, or the `actrec synth` command".into(),
        ))
    }

    fn push(&mut self, _: &[u8], _: u64, _: u32) -> Result<(), SynthError> {
        Ok(())
    }

    fn finish(self) -> Result<(), SynthError> {
        Ok(())
    }
}

/// RGB frames → I420 → x264 → mp4.
#[cfg(feature = "video")]
struct Encoder {
    pipeline: gst::Pipeline,
    appsrc: gst_app::AppSrc,
}

#[cfg(feature = "video")]
impl Encoder {
    fn start(path: &Path, spec: &ClipSpec) -> Result<Self, SynthError> {
        gst::init().map_err(|e| SynthError::Encode(e.to_string()))?;
        let description = format!(
            "appsrc name=frames format=time block=true max-bytes={} caps=video/x-raw,format=RGB,width={},height={},framerate={}/1 ! \
             videoconvert ! video/x-raw,format=I420 ! x264enc speed-preset=superfast bitrate={} key-int-max={} ! \
             video/x-h264,profile=high ! h264parse ! mp4mux ! filesink location=\"{}\"",
            spec.width * spec.height * 3 * 4,
            spec.width,
            spec.height,
            spec.fps,
            spec.bitrate_kbps,
            spec.fps * 2,
            path.display()
        );
        let pipeline = gst::parse::launch(&description)
            .map_err(|e| SynthError::Encode(e.to_string()))?
            .downcast::<gst::Pipeline>()
            .map_err(|_| SynthError::Encode("not a pipeline".into()))?;
        let appsrc = pipeline
            .by_name("frames")
            .and_then(|e| e.downcast::<gst_app::AppSrc>().ok())
            .ok_or_else(|| SynthError::Encode("appsrc missing".into()))?;
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| SynthError::Encode(e.to_string()))?;
        Ok(Self { pipeline, appsrc })
    }

    fn push(&mut self, frame: &[u8], n: u64, fps: u32) -> Result<(), SynthError> {
        let mut buffer = gst::Buffer::from_slice(frame.to_vec());
        {
            let buffer = buffer
                .get_mut()
                .ok_or_else(|| SynthError::Encode("buffer not writable".into()))?;
            let duration = 1_000_000_000 / u64::from(fps);
            buffer.set_pts(gst::ClockTime::from_nseconds(n * 1_000_000_000 / u64::from(fps)));
            buffer.set_duration(gst::ClockTime::from_nseconds(duration));
        }
        self.appsrc
            .push_buffer(buffer)
            .map(|_| ())
            .map_err(|e| SynthError::Encode(format!("{e:?}: {}", self.bus_error())))
    }

    fn bus_error(&self) -> String {
        self.pipeline
            .bus()
            .and_then(|bus| bus.pop_filtered(&[gst::MessageType::Error]))
            .and_then(|m| match m.view() {
                gst::MessageView::Error(e) => Some(e.error().to_string()),
                _ => None,
            })
            .unwrap_or_default()
    }

    fn finish(self) -> Result<(), SynthError> {
        let _ = self.appsrc.end_of_stream();
        let bus = self.pipeline.bus().ok_or_else(|| SynthError::Encode("no bus".into()))?;
        let result = match bus.timed_pop_filtered(
            gst::ClockTime::from_seconds(300),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        ) {
            Some(m) => match m.view() {
                gst::MessageView::Error(e) => Err(SynthError::Encode(e.error().to_string())),
                _ => Ok(()),
            },
            None => Err(SynthError::Encode("the encoder did not finish".into())),
        };
        let _ = self.pipeline.set_state(gst::State::Null);
        result
    }
}
