//! The ingest supervisor: runs one source pipeline at a time and keeps frames
//! flowing to the engine.
//!
//! States of the running source, as the supervisor sees them:
//! - *starting*: the pipeline is playing but no frame has come yet. A live
//!   source that stays here past the start-up timeout is reported lost and
//!   rebuilt with backoff.
//! - *flowing*: frames arrive. If the source had been reported lost, or this
//!   is the first frame since the supervisor started or switched, it is now
//!   reported restored (the station shows no video until then), and the
//!   backoff is reset.
//! - *lost*: a live source delivered no frame for `loss_timeout` (reported at
//!   once); the pipeline gets one backoff period to recover by itself (an RTP
//!   sender that comes back) before it is rebuilt.
//! - *ended*: a file source reached its end without looping, failed to
//!   decode, or stalled for 5 s while the engine waited for a frame (a damaged
//!   file can stall a demuxer without any error); the supervisor waits for a
//!   source switch.
//!
//! A switch command ends the running pipeline in any state and starts the new
//! source. Frames carry a station time `t` that never goes backwards, across
//! loops, reconnects and switches.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actrec_core::config::{Pace, Source};
use crossbeam_channel::{Receiver, RecvTimeoutError, SendTimeoutError, Sender, bounded};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;

use crate::describe::{self, DISPLAY_SINK, Fragments, FrameSizes, MODEL_SINK};
use crate::event::{Branch, MediaEvent};
use crate::{MediaError, error_text, lock};

/// How a whole NV12 frame lies in its buffer: the Y plane, `stride` bytes a
/// row, then the interleaved U/V plane right after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nv12Geometry {
    pub width: u32,
    pub height: u32,
    pub stride: u32,
    /// Frames per second as the caps say, `(numerator, denominator)`; `(0, 1)` when variable.
    pub fps: (i32, i32),
}

impl Nv12Geometry {
    /// Frames per second, when the caps give a fixed rate.
    pub fn frame_rate(&self) -> Option<f64> {
        let (num, den) = self.fps;
        (num > 0 && den > 0).then(|| f64::from(num) / f64::from(den))
    }
}

impl Nv12Geometry {
    /// The geometry of NV12 `caps` in GStreamer's default layout, or None
    /// for other formats and padded planes.
    pub fn from_caps(caps: &gst::CapsRef) -> Option<Self> {
        let info = gstreamer_video::VideoInfo::from_caps(caps).ok()?;
        let stride = u32::try_from(*info.stride().first()?).ok()?;
        let contiguous = info.offset().get(1).copied() == Some(stride as usize * info.height() as usize);
        (info.format() == gstreamer_video::VideoFormat::Nv12 && contiguous).then_some(Self {
            width: info.width(),
            height: info.height(),
            stride,
            fps: (info.fps().numer(), info.fps().denom()),
        })
    }
}

/// A frame for the model: RGB, square, at the model's resolution; or, for
/// preprocessing on the GPU, the whole frame as NV12.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Frames delivered since the ingest started, counting from 0.
    pub seq: u64,
    /// Station time in seconds: monotonic across loops, reconnects and switches.
    pub t: f64,
    /// The buffer's own timestamp in its source's stream.
    pub pts: Option<gst::ClockTime>,
    pub buffer: gst::Buffer,
    pub source: Arc<str>,
    /// Whole NV12 frames only (`ModelFrames::WholeNv12`): how `buffer` lies.
    pub geometry: Option<Nv12Geometry>,
}

/// A frame for the annotated outputs: I420 at display resolution.
#[derive(Debug, Clone)]
pub struct DisplayFrame {
    pub buffer: gst::Buffer,
    /// From a live source, whose frames may be dropped when the outputs
    /// lag; a file's are all recorded.
    pub live: bool,
}

#[derive(Debug, Clone)]
pub struct IngestConfig {
    /// Every switchable source, with file paths resolved.
    pub sources: BTreeMap<String, Source>,
    pub initial: String,
    pub fragments: Fragments,
    pub sizes: FrameSizes,
    pub loss_timeout: Duration,
    /// Whether display frames are wanted (false: decisions only, no annotated outputs).
    pub display: bool,
}

enum Command {
    Switch(String),
    Stop,
}

/// Handle to the running ingest. Dropping it stops the pipeline.
pub struct Ingest {
    commands: Sender<Command>,
    sources: Vec<String>,
    /// Model frames, in order. Bounded: a slow engine makes live sources drop
    /// (counted and reported) and file sources wait.
    pub frames: Receiver<Frame>,
    /// Display frames; dropped (and counted) when the outputs fall behind.
    pub display: Receiver<DisplayFrame>,
    thread: Option<JoinHandle<()>>,
}

/// Model frames buffered for the engine: two seconds at 30 fps.
const FRAME_QUEUE: usize = 64;
const DISPLAY_QUEUE: usize = 4;
/// How often the supervisor looks at the bus, its commands and the watchdog.
const TICK: Duration = Duration::from_millis(50);
/// Longest time a live source may take to deliver its first frame.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest time a file may go without a frame while the engine waits for one;
/// a damaged file can stall a demuxer without any error.
const FILE_STALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Delay before rebuild number `failures` (1-based): 0.5 s doubling to 10 s.
pub fn backoff(failures: u32) -> Duration {
    let ms = 500u64.saturating_mul(1u64 << failures.saturating_sub(1).min(10));
    Duration::from_millis(ms.min(10_000))
}

impl Ingest {
    pub fn start(config: IngestConfig, events: Sender<MediaEvent>) -> Result<Self, MediaError> {
        if !config.sources.contains_key(&config.initial) {
            return Err(MediaError::Source {
                source_name: config.initial.clone(),
                message: "not configured".into(),
            });
        }
        let (commands, commands_rx) = bounded(8);
        let (frames_tx, frames) = bounded(FRAME_QUEUE);
        let (display_tx, display) = bounded(DISPLAY_QUEUE);
        let sources = config.sources.keys().cloned().collect();
        let mut supervisor = Supervisor {
            config,
            commands: commands_rx,
            events,
            frames: frames_tx,
            display: display_tx,
            clock: Arc::new(Mutex::new(StreamClock::default())),
            seq: Arc::new(AtomicU64::new(0)),
            // No video until the first frame: its arrival is reported as restored.
            lost: true,
            failures: 0,
        };
        let thread = std::thread::Builder::new()
            .name("ingest".into())
            .spawn(move || supervisor.run())
            .map_err(|err| MediaError::Source {
                source_name: "ingest".into(),
                message: err.to_string(),
            })?;
        Ok(Self {
            commands,
            sources,
            frames,
            display,
            thread: Some(thread),
        })
    }

    /// Switches to another configured source without stopping the engine.
    pub fn switch_source(&self, name: &str) -> Result<(), MediaError> {
        if !self.sources.iter().any(|s| s == name) {
            return Err(MediaError::Source {
                source_name: name.to_owned(),
                message: format!("not configured; sources are: {}", self.sources.join(", ")),
            });
        }
        self.commands
            .send(Command::Switch(name.to_owned()))
            .map_err(|_| MediaError::Source {
                source_name: name.to_owned(),
                message: "ingest has stopped".into(),
            })
    }

    pub fn source_names(&self) -> &[String] {
        &self.sources
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Station time from buffer timestamps, continued across stream segments.
#[derive(Debug, Default)]
struct StreamClock {
    base: f64,
    first_pts: Option<u64>,
    last_t: Option<f64>,
    frame_seconds: f64,
}

impl StreamClock {
    fn t(&mut self, pts: Option<gst::ClockTime>) -> f64 {
        let t = match pts.map(|p| p.nseconds()) {
            Some(pts) => {
                let first = *self.first_pts.get_or_insert(pts);
                self.base + pts.saturating_sub(first) as f64 / 1e9
            }
            None => self.last_t.map_or(self.base, |t| t + self.frame_seconds),
        };
        let t = self.last_t.map_or(t, |last| t.max(last));
        if let Some(last) = self.last_t
            && t > last
        {
            self.frame_seconds = t - last;
        }
        self.last_t = Some(t);
        t
    }

    /// The next frame starts a new segment (loop, reconnect, switch).
    fn new_segment(&mut self) {
        self.base = self.last_t.map_or(0.0, |t| t + self.frame_seconds.max(1e-3));
        self.first_pts = None;
    }
}

/// What a running pipeline shares with its appsink callbacks.
#[derive(Default)]
struct Flow {
    last_frame: Mutex<Option<Instant>>,
    stopping: AtomicBool,
    dropped_model: AtomicU64,
    dropped_display: AtomicU64,
}

enum Outcome {
    Switch(String),
    Stop,
    Failed,
    Ended,
}

struct Supervisor {
    config: IngestConfig,
    commands: Receiver<Command>,
    events: Sender<MediaEvent>,
    frames: Sender<Frame>,
    display: Sender<DisplayFrame>,
    clock: Arc<Mutex<StreamClock>>,
    seq: Arc<AtomicU64>,
    /// A loss was reported and frames have not come back since.
    lost: bool,
    /// Consecutive failed attempts, for backoff.
    failures: u32,
}

impl Supervisor {
    fn emit(&self, event: MediaEvent) {
        let _ = self.events.send(event);
    }

    fn run(&mut self) {
        let mut current = self.config.initial.clone();
        loop {
            let outcome = self.run_source(&current);
            let wait = match outcome {
                Outcome::Stop => return,
                Outcome::Switch(to) => {
                    self.emit(MediaEvent::SourceSwitched {
                        from: current.clone(),
                        to: to.clone(),
                    });
                    tracing::info!(source = %to, from = %current, "source switched");
                    current = to;
                    self.lost = true;
                    self.failures = 0;
                    continue;
                }
                Outcome::Failed => {
                    self.failures += 1;
                    Some(backoff(self.failures))
                }
                Outcome::Ended => None,
            };
            // Wait out the backoff (or, after an end, for a command).
            let command = match wait {
                Some(delay) => match self.commands.recv_timeout(delay) {
                    Ok(command) => Some(command),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                },
                None => match self.commands.recv() {
                    Ok(command) => Some(command),
                    Err(_) => return,
                },
            };
            match command {
                Some(Command::Stop) => return,
                Some(Command::Switch(to)) => {
                    self.emit(MediaEvent::SourceSwitched {
                        from: current.clone(),
                        to: to.clone(),
                    });
                    current = to;
                    self.lost = true;
                    self.failures = 0;
                }
                None => {}
            }
        }
    }

    fn run_source(&mut self, name: &str) -> Outcome {
        let Some(source) = self.config.sources.get(name).cloned() else {
            self.emit(MediaEvent::SourceError {
                source: name.into(),
                message: "not configured".into(),
            });
            return Outcome::Ended;
        };
        let live = describe::is_live(&source);
        let looping = matches!(source, Source::File { looping: true, .. });
        // A file's end is the end of input, whatever its pace; a live stream's end is a loss.
        let file = matches!(source, Source::File { .. });
        // A realtime file is paced by the clock; live sources pace themselves.
        let paced_by_clock = matches!(
            source,
            Source::File {
                pace: Pace::Realtime,
                ..
            }
        );
        let description = match describe::source(&source, &self.config.fragments) {
            Ok(fragment) => describe::ingest(
                &fragment,
                &self.config.fragments,
                self.config.sizes,
                self.config.display,
            ),
            Err(err) => {
                self.emit(MediaEvent::SourceError {
                    source: name.into(),
                    message: err.to_string(),
                });
                return Outcome::Ended;
            }
        };
        tracing::info!(source = %name, pipeline = %description, "starting source");
        self.emit(MediaEvent::SourceStarted {
            source: name.into(),
            pipeline: description.clone(),
        });
        lock(&self.clock).new_segment();

        let flow = Arc::new(Flow::default());
        let pipeline = match self.build(name, &description, live, paced_by_clock, &flow) {
            Ok(pipeline) => pipeline,
            Err(message) => return self.fail(name, live, message),
        };
        let outcome = self.watch(name, &pipeline, &flow, Watched { live, looping, file });
        flow.stopping.store(true, Ordering::SeqCst);
        let _ = pipeline.set_state(gst::State::Null);
        outcome
    }

    /// Reports a failure; files wait for a switch (a bad file will not mend itself), live sources retry.
    fn fail(&mut self, name: &str, live: bool, message: String) -> Outcome {
        tracing::warn!(source = %name, %message, "source failed");
        self.emit(MediaEvent::SourceError {
            source: name.into(),
            message,
        });
        if live {
            if !self.lost {
                self.emit(MediaEvent::SourceLost {
                    source: name.into(),
                    reason: "source failed".into(),
                });
                self.lost = true;
            }
            Outcome::Failed
        } else {
            Outcome::Ended
        }
    }

    fn build(
        &self,
        name: &str,
        description: &str,
        live: bool,
        paced_by_clock: bool,
        flow: &Arc<Flow>,
    ) -> Result<gst::Pipeline, String> {
        let pipeline = gst::parse::launch(description)
            .map_err(|err| err.to_string())?
            .downcast::<gst::Pipeline>()
            .map_err(|_| "the description is not a pipeline".to_owned())?;
        crate::priority::lower_streaming_threads(&pipeline, crate::priority::INGEST_NICE);
        let sink = |sink_name: &str| {
            pipeline
                .by_name(sink_name)
                .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
                .ok_or_else(|| format!("appsink `{sink_name}` missing"))
        };
        let model = sink(MODEL_SINK)?;
        let display = if self.config.display {
            Some(sink(DISPLAY_SINK)?)
        } else {
            None
        };
        for appsink in std::iter::once(&model).chain(display.as_ref()) {
            appsink.set_sync(paced_by_clock);
            appsink.set_property("enable-last-sample", false);
            appsink.set_max_buffers(2);
        }

        let source: Arc<str> = Arc::from(name);
        let frames = self.frames.clone();
        let clock = Arc::clone(&self.clock);
        let seq = Arc::clone(&self.seq);
        let model_flow = Arc::clone(flow);
        let whole = self.config.sizes.model_frames == describe::ModelFrames::WholeNv12;
        model.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Flushing)?;
                    let buffer = sample.buffer_owned().ok_or(gst::FlowError::Error)?;
                    *lock(&model_flow.last_frame) = Some(Instant::now());
                    let pts = buffer.pts();
                    let t = lock(&clock).t(pts);
                    let frame = Frame {
                        seq: seq.fetch_add(1, Ordering::SeqCst),
                        t,
                        pts,
                        buffer,
                        source: Arc::clone(&source),
                        geometry: if whole {
                            sample.caps().and_then(Nv12Geometry::from_caps)
                        } else {
                            None
                        },
                    };
                    deliver(&frames, frame, live, &model_flow, &model_flow.dropped_model)
                })
                .build(),
        );
        let Some(display) = display else {
            return start_playing(pipeline);
        };
        let display_tx = self.display.clone();
        let display_flow = Arc::clone(flow);
        display.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Flushing)?;
                    let buffer = sample.buffer_owned().ok_or(gst::FlowError::Error)?;
                    // A camera's display frames never hold up the model: they are dropped
                    // when the outputs lag. A file waits for them, so that its recording is whole.
                    let frame = DisplayFrame { buffer, live };
                    deliver(&display_tx, frame, live, &display_flow, &display_flow.dropped_display)
                })
                .build(),
        );
        start_playing(pipeline)
    }

    fn watch(&mut self, name: &str, pipeline: &gst::Pipeline, flow: &Flow, source: Watched) -> Outcome {
        let Watched { live, looping, file } = source;
        let Some(bus) = pipeline.bus() else {
            return self.fail(name, live, "pipeline has no bus".into());
        };
        let started = Instant::now();
        let loss_timeout = self.config.loss_timeout;
        let mut reported = (0u64, 0u64);
        let mut last_report = Instant::now();
        loop {
            match self.commands.try_recv() {
                Ok(Command::Switch(to)) => return Outcome::Switch(to),
                Ok(Command::Stop) => return Outcome::Stop,
                Err(_) => {}
            }
            if let Some(message) = bus.timed_pop(gst::ClockTime::from_mseconds(TICK.as_millis() as u64)) {
                use gst::MessageView;
                match message.view() {
                    MessageView::Error(err) => {
                        let debug = err.debug().map(|d| format!(" ({d})")).unwrap_or_default();
                        return self.fail(name, live, format!("{}{debug}", error_text(&message, err)));
                    }
                    MessageView::Warning(w) => tracing::warn!(source = %name, warning = %w.error(), "source warning"),
                    MessageView::Eos(_) if looping => {
                        lock(&self.clock).new_segment();
                        if pipeline
                            .seek_simple(gst::SeekFlags::FLUSH | gst::SeekFlags::KEY_UNIT, gst::ClockTime::ZERO)
                            .is_err()
                        {
                            return self.fail(name, live, "cannot seek back to the start to loop".into());
                        }
                    }
                    MessageView::Eos(_) if live && !file => return self.fail(name, live, "the stream ended".into()),
                    MessageView::Eos(_) => {
                        self.emit(MediaEvent::SourceEnded { source: name.into() });
                        return Outcome::Ended;
                    }
                    _ => {}
                }
            }

            let since_frame = lock(&flow.last_frame).map(|at| at.elapsed());
            match since_frame {
                Some(quiet) if quiet <= loss_timeout => {
                    if self.lost {
                        tracing::info!(source = %name, "source restored");
                        self.emit(MediaEvent::SourceRestored { source: name.into() });
                        self.lost = false;
                    }
                    self.failures = 0;
                }
                Some(quiet) if live => {
                    if !self.lost {
                        let reason = format!("no frame for {} ms", quiet.as_millis());
                        tracing::warn!(source = %name, %reason, "source lost");
                        self.emit(MediaEvent::SourceLost {
                            source: name.into(),
                            reason,
                        });
                        self.lost = true;
                    }
                    if quiet > loss_timeout + backoff(self.failures + 1) {
                        self.failures += 1;
                        return Outcome::Failed;
                    }
                }
                quiet
                    if !live
                        && self.frames.is_empty()
                        && quiet.unwrap_or_else(|| started.elapsed()) > FILE_STALL_TIMEOUT =>
                {
                    let what = if quiet.is_some() {
                        "stopped giving frames"
                    } else {
                        "gave no frame"
                    };
                    return self.fail(
                        name,
                        live,
                        format!(
                            "the file {what} for {} s; it may be damaged or truncated",
                            FILE_STALL_TIMEOUT.as_secs()
                        ),
                    );
                }
                None if live && started.elapsed() > STARTUP_TIMEOUT => {
                    if !self.lost {
                        self.emit(MediaEvent::SourceLost {
                            source: name.into(),
                            reason: format!("no frame within {} s of starting", STARTUP_TIMEOUT.as_secs()),
                        });
                        self.lost = true;
                    }
                    return Outcome::Failed;
                }
                _ => {}
            }

            if last_report.elapsed() >= Duration::from_secs(1) {
                last_report = Instant::now();
                let now = (
                    flow.dropped_model.load(Ordering::Relaxed),
                    flow.dropped_display.load(Ordering::Relaxed),
                );
                for (branch, total, before) in
                    [(Branch::Model, now.0, reported.0), (Branch::Display, now.1, reported.1)]
                {
                    if total > before {
                        tracing::warn!(source = %name, ?branch, dropped = total - before, "frames dropped");
                        self.emit(MediaEvent::FramesDropped {
                            source: name.into(),
                            branch,
                            count: total - before,
                            total,
                        });
                    }
                }
                reported = now;
            }
        }
    }
}

/// Hands a model frame to the engine. Live sources drop (counted) rather than
/// fall behind; file sources wait, so that no frame of a file is ever lost.
fn deliver<T>(
    frames: &Sender<T>,
    frame: T,
    live: bool,
    flow: &Flow,
    dropped: &AtomicU64,
) -> Result<gst::FlowSuccess, gst::FlowError> {
    if live {
        if frames.try_send(frame).is_err() {
            dropped.fetch_add(1, Ordering::Relaxed);
        }
        return Ok(gst::FlowSuccess::Ok);
    }
    let mut frame = frame;
    loop {
        match frames.send_timeout(frame, Duration::from_millis(100)) {
            Ok(()) => return Ok(gst::FlowSuccess::Ok),
            Err(SendTimeoutError::Timeout(back)) if !flow.stopping.load(Ordering::SeqCst) => frame = back,
            Err(_) => return Err(gst::FlowError::Flushing),
        }
    }
}

fn start_playing(pipeline: gst::Pipeline) -> Result<gst::Pipeline, String> {
    if let Err(err) = pipeline.set_state(gst::State::Playing) {
        let detail = bus_error(&pipeline).unwrap_or_else(|| err.to_string());
        let _ = pipeline.set_state(gst::State::Null);
        return Err(detail);
    }
    Ok(pipeline)
}

/// The first error on a pipeline's bus, if any.
fn bus_error(pipeline: &gst::Pipeline) -> Option<String> {
    let bus = pipeline.bus()?;
    while let Some(message) = bus.pop() {
        if let gst::MessageView::Error(err) = message.view() {
            return Some(error_text(&message, err));
        }
    }
    None
}

/// What the watch of a running source needs to know of it.
#[derive(Debug, Clone, Copy)]
struct Watched {
    /// Frames come at the source's pace (a camera, a realtime file).
    live: bool,
    /// A file that starts again at its end.
    looping: bool,
    /// A file: its end is the end of input, whatever its pace.
    file: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_ten_seconds() {
        let delays: Vec<u64> = (1..=7).map(|n| backoff(n).as_millis() as u64).collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    }

    #[test]
    fn station_time_never_goes_backwards() {
        let mut clock = StreamClock::default();
        let at = |ms: u64| Some(gst::ClockTime::from_mseconds(ms));
        assert_eq!(clock.t(at(1000)), 0.0);
        assert!((clock.t(at(1033)) - 0.033).abs() < 1e-9);
        // A loop restarts the file's timestamps; station time goes on.
        clock.new_segment();
        let t = clock.t(at(0));
        assert!((t - 0.066).abs() < 1e-9, "{t}");
        // A timestamp that jumps back inside a segment is held, not reversed.
        assert!(clock.t(at(0)) >= t);
    }
}
