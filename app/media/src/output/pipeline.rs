//! The output pipeline: display frames in, annotated video out to every
//! configured place at once (mp4, RTP/RTSP, shared memory, preview), plus the
//! evidence ring that keeps recent encoded video for clips of rejected parts.
//!
//! It runs apart from the ingest pipeline, so switching or losing the source
//! never interrupts a recording or the panel's video. Its failures are
//! reported as events; inspection goes on without it.

use std::collections::VecDeque;
use std::net::UdpSocket;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};
use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_rtsp_server as rtsp;
use gstreamer_rtsp_server::prelude::*;

use actrec_shmring::{Geometry, RingWriter};

use crate::describe::{self, ANNOTATED_SRC, EVIDENCE_SINK, Fragments, FrameSizes, OutputPlan, RECORDER};
use crate::event::MediaEvent;
use crate::ingest::DisplayFrame;
use crate::{MediaError, error_text, lock};

/// Evidence clips of rejected parts.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipSettings {
    pub dir: PathBuf,
    pub pre_roll: Duration,
    pub max: Duration,
}

#[derive(Debug, Clone)]
pub struct OutputConfig {
    pub plan: OutputPlan,
    pub fragments: Fragments,
    pub sizes: FrameSizes,
    pub clips: Option<ClipSettings>,
    /// RTSP server port and mount path, when serving RTSP.
    pub rtsp: Option<(u16, String)>,
}

/// How a part stands, for the overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Pass,
    Warning,
    Reject,
    /// No video or another fault.
    Fault,
}

/// What is burned into the annotated video.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Annotation {
    pub source: String,
    /// Current top-1 label and probability.
    pub label: Option<(String, f64)>,
    /// Last step and whether it was accepted.
    pub step: Option<(String, bool)>,
    /// Steps the sequence accepts next.
    pub expected_next: Vec<String>,
    pub part: Option<u32>,
    /// Big text in the corner, e.g. "PASS", and its colour.
    pub verdict: Option<(String, Standing)>,
}

impl Annotation {
    /// The status block, top left.
    pub fn status_text(&self) -> String {
        let mut lines = vec![format!("source: {}", self.source)];
        if let Some((label, p)) = &self.label {
            lines.push(format!("seen: {label} ({p:.2})"));
        }
        if let Some((step, ok)) = &self.step {
            lines.push(format!("step: {step} — {}", if *ok { "ok" } else { "ERROR" }));
        }
        if !self.expected_next.is_empty() {
            lines.push(format!("next: {}", self.expected_next.join(" or ")));
        }
        if let Some(part) = self.part {
            lines.push(format!("part {part}"));
        }
        lines.join("\n")
    }
}

/// ARGB colour of a standing, as textoverlay takes it.
pub fn standing_colour(standing: Standing) -> u32 {
    match standing {
        Standing::Pass => 0xFF30D050,
        Standing::Warning => 0xFFFFB000,
        Standing::Reject | Standing::Fault => 0xFFFF3030,
    }
}

/// Recent encoded video, oldest first, trimmed to whole groups of pictures.
#[derive(Default)]
struct ClipRing {
    items: VecDeque<(Instant, bool, gst::Buffer)>,
    part_starts: Vec<(u32, Instant)>,
}

impl ClipRing {
    fn push(&mut self, keyframe: bool, buffer: gst::Buffer, keep: Duration) {
        let now = Instant::now();
        self.items.push_back((now, keyframe, buffer));
        while self
            .items
            .front()
            .is_some_and(|(at, _, _)| now.duration_since(*at) > keep)
        {
            self.items.pop_front();
        }
        // A clip must start on a keyframe.
        while self.items.front().is_some_and(|(_, key, _)| !key) {
            self.items.pop_front();
        }
    }

    /// Buffers from the last keyframe at or before `from`, to now.
    fn since(&self, from: Instant) -> Vec<gst::Buffer> {
        let start = self
            .items
            .iter()
            .rposition(|(at, key, _)| *key && *at <= from)
            .or_else(|| self.items.iter().position(|(_, key, _)| *key))
            .unwrap_or(self.items.len());
        self.items.iter().skip(start).map(|(_, _, b)| b.clone()).collect()
    }
}

/// Handle to the running output pipeline.
pub struct Output {
    pipeline: gst::Pipeline,
    appsrc: gst_app::AppSrc,
    status: Option<gst::Element>,
    verdict: Option<gst::Element>,
    recorder: Option<gst::Element>,
    ring: Option<Arc<Mutex<ClipRing>>>,
    clips: Option<ClipSettings>,
    events: Sender<MediaEvent>,
    eos: Receiver<()>,
    bus_thread: Option<JoinHandle<()>>,
    rtsp: Option<(glib::MainLoop, JoinHandle<()>)>,
    last_annotation: Mutex<Annotation>,
    stopping: Arc<AtomicBool>,
    clip_writers: Mutex<Vec<JoinHandle<()>>>,
    /// The thread that takes display frames from the ingest (`feed`).
    feeder: Option<JoinHandle<()>>,
    /// Display frames sent into the pipeline.
    fed: Arc<AtomicU64>,
    pub description: String,
}

/// How long a frame of a file source waits for room in the pipeline before
/// it is dropped after all: a stalled output must not hold the engine.
const FILE_FRAME_PATIENCE: Duration = Duration::from_secs(2);

/// A free UDP port on loopback, for the RTSP server's feed.
pub fn free_udp_port() -> Result<u16, MediaError> {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .map_err(|err| MediaError::Output(format!("no free loopback port for the RTSP feed: {err}")))
}

impl Output {
    pub fn start(config: OutputConfig, events: Sender<MediaEvent>) -> Result<Self, MediaError> {
        let description = describe::output(&config.plan, &config.fragments, config.sizes);
        tracing::info!(pipeline = %description, "starting outputs");
        let pipeline = gst::parse::launch(&description)
            .map_err(|err| MediaError::Build {
                description: description.clone(),
                message: err.to_string(),
            })?
            .downcast::<gst::Pipeline>()
            .map_err(|_| MediaError::Output("the output description is not a pipeline".into()))?;
        crate::priority::lower_streaming_threads(&pipeline, crate::priority::OUTPUT_NICE);
        let appsrc = pipeline
            .by_name(ANNOTATED_SRC)
            .and_then(|e| e.downcast::<gst_app::AppSrc>().ok())
            .ok_or_else(|| MediaError::Output("appsrc missing".into()))?;
        // Eight frames queue before the encoder, then a camera's oldest are
        // dropped rather than blocking the engine (a file's wait: `push_frame`).
        // Bounded by frames, not time: at 1080p a second of frames is 93 MB.
        appsrc.set_max_bytes(u64::from(config.sizes.display_width * config.sizes.display_height) * 3 / 2 * 8);
        if appsrc.find_property("leaky-type").is_some() {
            appsrc.set_property_from_str("leaky-type", "downstream");
        }

        let recorder = pipeline.by_name(RECORDER);
        let ring = match (&config.clips, pipeline.by_name(EVIDENCE_SINK)) {
            (Some(clips), Some(sink)) => {
                let sink = sink
                    .downcast::<gst_app::AppSink>()
                    .map_err(|_| MediaError::Output("evidence sink".into()))?;
                let ring = Arc::new(Mutex::new(ClipRing::default()));
                let keep = clips.max + clips.pre_roll;
                let ring_in = Arc::clone(&ring);
                sink.set_callbacks(
                    gst_app::AppSinkCallbacks::builder()
                        .new_sample(move |sink| {
                            let sample = sink.pull_sample().map_err(|_| gst::FlowError::Flushing)?;
                            let buffer = sample.buffer_owned().ok_or(gst::FlowError::Error)?;
                            let keyframe = !buffer.flags().contains(gst::BufferFlags::DELTA_UNIT);
                            lock(&ring_in).push(keyframe, buffer, keep);
                            Ok(gst::FlowSuccess::Ok)
                        })
                        .build(),
                );
                Some(ring)
            }
            _ => None,
        };

        if let (Some(shm), Some(sink)) = (&config.plan.outputs.shm, pipeline.by_name(describe::PANEL_SINK)) {
            feed_panel_ring(sink, &shm.path, config.sizes, &events)?;
        }

        let rtsp = match (&config.rtsp, config.plan.rtsp_feed_port) {
            (Some((port, path)), Some(feed)) => Some(serve_rtsp(*port, path, feed)?),
            _ => None,
        };

        let (eos_tx, eos) = bounded(1);
        let bus = pipeline
            .bus()
            .ok_or_else(|| MediaError::Output("pipeline has no bus".into()))?;
        let bus_events = events.clone();
        let stopping = Arc::new(AtomicBool::new(false));
        let bus_stopping = Arc::clone(&stopping);
        let bus_thread = std::thread::Builder::new()
            .name("output-bus".into())
            .spawn(move || watch_bus(&bus, &bus_events, &eos_tx, &bus_stopping))
            .map_err(|err| MediaError::Output(err.to_string()))?;

        pipeline
            .set_state(gst::State::Playing)
            .map_err(|err| MediaError::Output(err.to_string()))?;
        Ok(Self {
            status: pipeline.by_name(describe::STATUS_OVERLAY),
            verdict: pipeline.by_name(describe::VERDICT_OVERLAY),
            pipeline,
            appsrc,
            recorder,
            ring,
            clips: config.clips,
            events,
            eos,
            bus_thread: Some(bus_thread),
            rtsp,
            last_annotation: Mutex::new(Annotation::default()),
            stopping,
            clip_writers: Mutex::new(Vec::new()),
            feeder: None,
            fed: Arc::new(AtomicU64::new(0)),
            description,
        })
    }

    /// Takes the ingest's display frames on a thread of their own, so that
    /// the engine's main loop never waits for an encoder. The thread ends
    /// when the ingest drops its senders; `shutdown` waits for it.
    pub fn feed(&mut self, frames: Receiver<DisplayFrame>) -> Result<(), MediaError> {
        let appsrc = self.appsrc.clone();
        let stopping = Arc::clone(&self.stopping);
        let fed = Arc::clone(&self.fed);
        let thread = std::thread::Builder::new()
            .name("output-feed".into())
            .spawn(move || {
                for frame in frames.iter() {
                    push_frame(&appsrc, &frame, &stopping);
                    fed.fetch_add(1, Ordering::Relaxed);
                }
            })
            .map_err(|err| MediaError::Output(err.to_string()))?;
        self.feeder = Some(thread);
        Ok(())
    }

    /// Display frames sent into the pipeline so far.
    pub fn frames_fed(&self) -> u64 {
        self.fed.load(Ordering::Relaxed)
    }

    /// Sends one display frame through the overlays to every output.
    pub fn push(&self, frame: &DisplayFrame) {
        push_frame(&self.appsrc, frame, &self.stopping);
    }

    /// Updates the burned-in text; cheap when nothing changed.
    pub fn annotate(&self, annotation: &Annotation) {
        let mut last = lock(&self.last_annotation);
        if *last == *annotation {
            return;
        }
        if let Some(status) = &self.status {
            status.set_property("text", annotation.status_text());
        }
        if let Some(verdict) = &self.verdict {
            let (text, colour) = match &annotation.verdict {
                Some((text, standing)) => (text.clone(), standing_colour(*standing)),
                None => (String::new(), standing_colour(Standing::Pass)),
            };
            verdict.set_property("text", text);
            verdict.set_property("color", colour);
        }
        *last = annotation.clone();
    }

    /// Starts a new recording file at the next keyframe (recordings split by part).
    pub fn split_recording(&self) {
        if let Some(recorder) = &self.recorder {
            recorder.emit_by_name::<()>("split-after", &[]);
        }
    }

    /// Remembers where a part began, for its clip.
    pub fn part_started(&self, part: u32) {
        if let Some(ring) = &self.ring {
            let mut ring = lock(ring);
            ring.part_starts.retain(|(p, _)| *p != part);
            ring.part_starts.push((part, Instant::now()));
            if ring.part_starts.len() > 16 {
                ring.part_starts.remove(0);
            }
        }
    }

    /// Writes the clip of a part (pre-roll included) in the background and
    /// returns its path; `ClipWritten` or `ClipFailed` follows as an event.
    pub fn save_clip(&self, part: u32) -> Option<PathBuf> {
        let (ring, clips) = (self.ring.as_ref()?, self.clips.as_ref()?);
        let buffers = {
            let ring = lock(ring);
            let start = ring.part_starts.iter().find(|(p, _)| *p == part).map(|(_, at)| *at);
            let from = start
                .unwrap_or_else(Instant::now)
                .checked_sub(clips.pre_roll)
                .unwrap_or_else(Instant::now);
            ring.since(from)
        };
        let path = clips.dir.join(format!("part-{part:06}-{}.mp4", unix_stamp()));
        let events = self.events.clone();
        let target = path.clone();
        let spawned = std::thread::Builder::new().name("clip".into()).spawn(move || {
            let event = match write_clip(&target, &buffers) {
                Ok(()) => MediaEvent::ClipWritten { part, path: target },
                Err(message) => MediaEvent::ClipFailed { part, message },
            };
            let _ = events.send(event);
        });
        match spawned {
            Ok(thread) => {
                let mut writers = lock(&self.clip_writers);
                writers.retain(|t| !t.is_finished());
                writers.push(thread);
                Some(path)
            }
            Err(err) => {
                let _ = self.events.send(MediaEvent::ClipFailed {
                    part,
                    message: err.to_string(),
                });
                None
            }
        }
    }

    /// Ends every output cleanly once the ingest is gone: every display frame
    /// taken, the last recording finished and closed, clips still being
    /// written completed. Returns the display frames sent in.
    pub fn shutdown(mut self) -> u64 {
        if let Some(feeder) = self.feeder.take() {
            let _ = feeder.join();
        }
        let _ = self.appsrc.end_of_stream();
        let _ = self.eos.recv_timeout(Duration::from_secs(5));
        for writer in lock(&self.clip_writers).drain(..) {
            let _ = writer.join();
        }
        self.stop();
        self.frames_fed()
    }

    fn stop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = self.pipeline.set_state(gst::State::Null);
        if let Some(thread) = self.bus_thread.take() {
            let _ = thread.join();
        }
        if let Some((main_loop, thread)) = self.rtsp.take() {
            main_loop.quit();
            let _ = thread.join();
        }
    }
}

fn push_frame(appsrc: &gst_app::AppSrc, frame: &DisplayFrame, stopping: &AtomicBool) {
    // Outputs are stamped with their own clock, so a source switch or loop never
    // makes their timestamps jump; the copy shares the pixels.
    let mut buffer = frame.buffer.copy();
    {
        let buffer = buffer.make_mut();
        buffer.set_pts(gst::ClockTime::NONE);
        buffer.set_dts(gst::ClockTime::NONE);
    }
    if !frame.live {
        // A file is recorded whole: wait for room instead of letting the
        // leaky source drop the oldest frame, as it does for a camera.
        let give_up = Instant::now() + FILE_FRAME_PATIENCE;
        while appsrc.current_level_bytes() >= appsrc.max_bytes()
            && Instant::now() < give_up
            && !stopping.load(Ordering::SeqCst)
        {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let _ = appsrc.push_buffer(buffer);
}

impl Drop for Output {
    fn drop(&mut self) {
        self.stop();
    }
}

fn watch_bus(bus: &gst::Bus, events: &Sender<MediaEvent>, eos: &Sender<()>, stopping: &AtomicBool) {
    use gst::MessageView;
    while !stopping.load(Ordering::SeqCst) {
        let Some(message) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) else {
            continue;
        };
        match message.view() {
            MessageView::Eos(_) => {
                let _ = eos.try_send(());
            }
            MessageView::Error(err) => {
                let text = error_text(&message, err);
                tracing::error!(error = %text, "output failed");
                let _ = events.send(MediaEvent::OutputError { message: text });
            }
            _ => {}
        }
    }
}

/// Copies each BGRx frame into the panel's video ring.
fn feed_panel_ring(
    sink: gst::Element,
    path: &std::path::Path,
    sizes: FrameSizes,
    events: &Sender<MediaEvent>,
) -> Result<(), MediaError> {
    let sink = sink
        .downcast::<gst_app::AppSink>()
        .map_err(|_| MediaError::Output("panel sink".into()))?;
    let geometry = Geometry {
        width: sizes.display_width,
        height: sizes.display_height,
        slots: 4,
    };
    let mut ring =
        RingWriter::create(path, geometry, unix_stamp()).map_err(|err| MediaError::Output(err.to_string()))?;
    let events = events.clone();
    let mut failed = false;
    sink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Flushing)?;
                let buffer = sample.buffer().ok_or(gst::FlowError::Error)?;
                let map = buffer.map_readable().map_err(|_| gst::FlowError::Error)?;
                let pts = buffer.pts().map_or(0, |p| p.nseconds());
                // A failing ring is reported once; the other outputs go on.
                if let Err(err) = ring.write(pts, map.as_slice())
                    && !failed
                {
                    failed = true;
                    let _ = events.send(MediaEvent::OutputError {
                        message: format!("panel video: {err}"),
                    });
                }
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
    Ok(())
}

/// Serves the loopback RTP feed over RTSP from its own GLib main loop.
fn serve_rtsp(port: u16, path: &str, feed: u16) -> Result<(glib::MainLoop, JoinHandle<()>), MediaError> {
    let context = glib::MainContext::new();
    let main_loop = glib::MainLoop::new(Some(&context), false);
    let server = rtsp::RTSPServer::new();
    server.set_service(&port.to_string());
    let factory = rtsp::RTSPMediaFactory::new();
    factory.set_launch(&describe::rtsp_serve(feed));
    factory.set_shared(true);
    server
        .mount_points()
        .ok_or_else(|| MediaError::Output("RTSP server has no mount points".into()))?
        .add_factory(path, factory);
    server
        .attach(Some(&context))
        .map_err(|err| MediaError::Output(format!("cannot serve RTSP on port {port}: {err}")))?;
    let running = main_loop.clone();
    let thread = std::thread::Builder::new()
        .name("rtsp".into())
        .spawn(move || {
            let _guard = context.acquire();
            running.run();
        })
        .map_err(|err| MediaError::Output(err.to_string()))?;
    Ok((main_loop, thread))
}

/// Muxes encoded buffers into an mp4 file.
fn write_clip(path: &std::path::Path, buffers: &[gst::Buffer]) -> Result<(), String> {
    if buffers.is_empty() {
        return Err("no video was recorded for this part".into());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    }
    let description = format!(
        "appsrc name=clip format=time caps=video/x-h264,stream-format=byte-stream,alignment=au ! h264parse ! mp4mux ! filesink location={}",
        describe::quote(&path.display().to_string())
    );
    let pipeline = gst::parse::launch(&description)
        .map_err(|err| err.to_string())?
        .downcast::<gst::Pipeline>()
        .map_err(|_| "not a pipeline".to_owned())?;
    let appsrc = pipeline
        .by_name("clip")
        .and_then(|e| e.downcast::<gst_app::AppSrc>().ok())
        .ok_or("appsrc missing")?;
    pipeline.set_state(gst::State::Playing).map_err(|err| err.to_string())?;
    let first = buffers[0].pts().unwrap_or(gst::ClockTime::ZERO);
    for buffer in buffers {
        let mut buffer = buffer.copy();
        {
            let buffer = buffer.make_mut();
            let pts = buffer.pts().map(|p| p.saturating_sub(first));
            buffer.set_pts(pts);
            buffer.set_dts(pts);
        }
        appsrc.push_buffer(buffer).map_err(|err| err.to_string())?;
    }
    let _ = appsrc.end_of_stream();
    let bus = pipeline.bus().ok_or("no bus")?;
    let result = match bus.timed_pop_filtered(
        gst::ClockTime::from_seconds(30),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    ) {
        Some(message) => match message.view() {
            gst::MessageView::Error(err) => Err(err.error().to_string()),
            _ => Ok(()),
        },
        None => Err("timed out writing the clip".into()),
    };
    let _ = pipeline.set_state(gst::State::Null);
    result
}

fn unix_stamp() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_text_lists_what_the_station_sees() {
        let annotation = Annotation {
            source: "line_camera".into(),
            label: Some(("spacer".into(), 0.912)),
            step: Some(("spacer".into(), false)),
            expected_next: vec!["install_lid".into()],
            part: Some(7),
            verdict: Some(("REJECT".into(), Standing::Reject)),
        };
        assert_eq!(
            annotation.status_text(),
            "source: line_camera\nseen: spacer (0.91)\nstep: spacer — ERROR\nnext: install_lid\npart 7"
        );
        assert_eq!(standing_colour(Standing::Reject), 0xFFFF3030);
    }

    #[test]
    fn clips_start_on_a_keyframe_before_the_mark() {
        crate::init().expect("gstreamer");
        let mut ring = ClipRing::default();
        let keep = Duration::from_secs(60);
        ring.push(false, gst::Buffer::new(), keep); // not a keyframe: trimmed
        ring.push(true, gst::Buffer::new(), keep);
        ring.push(false, gst::Buffer::new(), keep);
        let mark = Instant::now();
        ring.push(true, gst::Buffer::new(), keep);
        ring.push(false, gst::Buffer::new(), keep);
        assert_eq!(ring.items.len(), 4);
        assert_eq!(ring.since(mark).len(), 4, "from the keyframe before the mark");
        assert_eq!(ring.since(Instant::now()).len(), 2, "from the latest keyframe");
    }
}
