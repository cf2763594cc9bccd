//! Helpers for the pipeline tests: real GStreamer, real processes, loopback only.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use actrec_core::config::{MediaOverrides, Source};
use actrec_media::describe::{Fragments, FrameSizes, ModelFrames, Profile};
use actrec_media::event::MediaEvent;
use actrec_media::gst;
use actrec_media::gst::prelude::*;
use actrec_media::ingest::{Ingest, IngestConfig};
use actrec_testkit::Reaped;
use crossbeam_channel::Receiver;

pub const SIZES: FrameSizes = FrameSizes {
    model: 64,
    model_frames: ModelFrames::Square,
    display_width: 320,
    display_height: 240,
    display_fps: 30,
};

pub fn fragments() -> Fragments {
    Fragments::new(Profile::Generic, &MediaOverrides::default(), 1000, 30)
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("actrec-media-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

pub fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Runs `gst-launch-1.0` to completion.
pub fn gst_launch(pipeline: &str) {
    let status = Command::new("gst-launch-1.0")
        .arg("-q")
        .args(pipeline.split_whitespace())
        .status()
        .expect("gst-launch-1.0 runs (package gstreamer1.0-tools)");
    assert!(status.success(), "gst-launch-1.0 {pipeline}");
}

/// Writes an H.264 mp4 of `frames` test frames at 30 fps.
pub fn make_mp4(path: &Path, frames: u32, width: u32, height: u32) {
    gst_launch(&format!(
        "videotestsrc num-buffers={frames} pattern=ball ! video/x-raw,width={width},height={height},framerate=30/1,format=I420 ! x264enc speed-preset=ultrafast key-int-max=30 ! h264parse ! mp4mux ! filesink location={}",
        path.display()
    ));
}

/// An RTP/UDP H.264 sender, as an IP camera would be.
pub struct Sender(Reaped);

impl Sender {
    pub fn start(port: u16) -> Self {
        let pipeline = format!(
            "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1,format=I420 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! rtph264pay config-interval=1 pt=96 ! udpsink host=127.0.0.1 port={port}"
        );
        let child = Command::new("gst-launch-1.0")
            .arg("-q")
            .args(pipeline.split_whitespace())
            .stdout(Stdio::null())
            .spawn()
            .expect("gst-launch-1.0 runs");
        Self(Reaped(child))
    }

    /// Kills the sender the hard way (SIGKILL, reaped), as a camera losing power.
    pub fn kill(self) {
        drop(self);
    }
}

pub fn start_ingest(sources: Vec<(&str, Source)>, initial: &str) -> (Ingest, Receiver<MediaEvent>) {
    actrec_media::init().expect("gstreamer");
    let sources: BTreeMap<String, Source> = sources.into_iter().map(|(n, s)| (n.to_owned(), s)).collect();
    let (tx, rx) = crossbeam_channel::unbounded();
    let config = IngestConfig {
        sources,
        initial: initial.to_owned(),
        fragments: fragments(),
        sizes: SIZES,
        loss_timeout: Duration::from_millis(500),
        display: true,
    };
    let ingest = Ingest::start(config, tx).expect("ingest starts");
    // The engine's output feeder takes display frames; a file waits for them.
    let display = ingest.display.clone();
    std::thread::spawn(move || display.iter().for_each(drop));
    (ingest, rx)
}

/// Waits for the first event matching `want`, failing after `limit` (a guard against hangs, not a speed check).
pub fn wait_for(events: &Receiver<MediaEvent>, limit: Duration, want: impl Fn(&MediaEvent) -> bool) -> MediaEvent {
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(event) if want(&event) => return event,
            Ok(event) => seen.push(event),
            Err(_) => panic!("no matching event within {limit:?}; saw {seen:#?}"),
        }
    }
}

/// Counts the frames of a video file by decoding it; errors count as the end.
pub fn count_frames(path: &Path) -> u64 {
    let (pipeline, sink) = decoder(path, "");
    let mut frames = 0;
    while sink.try_pull_sample(gst::ClockTime::from_seconds(10)).is_some() {
        frames += 1;
    }
    pipeline.set_state(gst::State::Null).ok();
    frames
}

/// A playing pipeline that decodes a video file, through `convert` (a
/// fragment ending in `! `, or empty), into an appsink for the test to pull.
fn decoder(path: &Path, convert: &str) -> (gst::Pipeline, gstreamer_app::AppSink) {
    actrec_media::init().expect("gstreamer");
    let description = format!(
        "filesrc location=\"{}\" ! decodebin ! {convert}appsink name=s sync=false",
        path.display()
    );
    let pipeline = gst::parse::launch(&description)
        .expect("decode pipeline")
        .downcast::<gst::Pipeline>()
        .expect("pipeline");
    let sink = pipeline
        .by_name("s")
        .expect("sink")
        .downcast::<gstreamer_app::AppSink>()
        .expect("appsink");
    pipeline.set_state(gst::State::Playing).ok();
    (pipeline, sink)
}

/// One decoded frame of a clip, summarised: its time and how many pixels
/// of each region are of a colour.
#[derive(Debug, Clone, Copy)]
pub struct FrameLook {
    pub pts: Duration,
    /// Red (the verdict's colour) in the top right quarter.
    pub verdict_red: usize,
    /// Red (a missing step's cell) in the bottom fifth.
    pub strip_red: usize,
    /// Green (a done step's cell) in the bottom fifth.
    pub strip_green: usize,
}

/// Decodes a video file to RGB and summarises each frame.
pub fn look_at_frames(path: &Path) -> Vec<FrameLook> {
    let (pipeline, sink) = decoder(path, "videoconvert ! video/x-raw,format=RGB ! ");
    let mut frames = Vec::new();
    while let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_seconds(10)) {
        let caps = sample.caps().expect("caps");
        let s = caps.structure(0).expect("structure");
        let (w, h) = (
            s.get::<i32>("width").expect("width") as usize,
            s.get::<i32>("height").expect("height") as usize,
        );
        let buffer = sample.buffer().expect("buffer");
        let pts = Duration::from_nanos(buffer.pts().map_or(0, |p| p.nseconds()));
        let map = buffer.map_readable().expect("map");
        // RGB rows are padded to 4 bytes.
        let stride = (w * 3).div_ceil(4) * 4;
        let mut look = FrameLook {
            pts,
            verdict_red: 0,
            strip_red: 0,
            strip_green: 0,
        };
        for y in 0..h {
            for x in 0..w {
                let i = y * stride + x * 3;
                let (r, g, b) = (map[i], map[i + 1], map[i + 2]);
                let red = r > 170 && g < 110 && b < 110;
                let green = g > 100 && r < 90 && b < 110 && g > r + 40;
                if red && x > w / 2 && y < h / 4 {
                    look.verdict_red += 1;
                }
                if y > h * 4 / 5 {
                    look.strip_red += usize::from(red);
                    look.strip_green += usize::from(green);
                }
            }
        }
        frames.push(look);
    }
    pipeline.set_state(gst::State::Null).ok();
    frames
}
