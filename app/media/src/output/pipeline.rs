//! The output pipeline ([`Output`]): display frames in through the
//! overlays, then the encoder and every configured output; the evidence
//! clips cut from its ring.

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

use super::evidence::{ClipRing, ClipSettings, HOLD, PendingClip, write_clip};
use super::overlay::{Annotation, Shown, Standing, escape, standing_colour};
use crate::describe::{self, ANNOTATED_SRC, EVIDENCE_SINK, Fragments, FrameSizes, OutputPlan, RECORDER};
use crate::event::MediaEvent;
use crate::ingest::DisplayFrame;
use crate::{MediaError, error_text, lock};

#[derive(Debug, Clone)]
pub struct OutputConfig {
    pub plan: OutputPlan,
    pub fragments: Fragments,
    pub sizes: FrameSizes,
    pub clips: Option<ClipSettings>,
    /// RTSP server port and mount path, when serving RTSP.
    pub rtsp: Option<(u16, String)>,
}

/// The overlay elements and what they show; shared with the feeding thread,
/// which lets an end card go when its time is up.
struct Overlays {
    status: Option<gst::Element>,
    verdict: Option<gst::Element>,
    strip: Option<gst::Element>,
    shown: Mutex<Shown>,
}

impl Overlays {
    fn annotate(&self, annotation: &Annotation) {
        let changed = lock(&self.shown).annotate(annotation, Instant::now());
        self.set(changed);
    }

    fn hold(&self, part: u32, until: Instant) {
        let changed = lock(&self.shown).hold(part, until, Instant::now());
        self.set(changed);
    }

    /// Called for every frame: cheap unless an end card just expired.
    fn tick(&self) {
        let changed = lock(&self.shown).tick(Instant::now());
        self.set(changed);
    }

    fn holding(&self) -> bool {
        lock(&self.shown).holding(Instant::now())
    }

    fn set(&self, annotation: Option<Annotation>) {
        let Some(annotation) = annotation else {
            return;
        };
        // textoverlay reads its text as Pango markup: names are escaped.
        if let Some(status) = &self.status {
            status.set_property("text", escape(&annotation.status_text()));
        }
        if let Some(verdict) = &self.verdict {
            let standing = annotation.verdict.as_ref().map_or(Standing::Pass, |(_, s)| *s);
            verdict.set_property("text", annotation.verdict_markup());
            verdict.set_property("color", standing_colour(standing));
        }
        if let Some(strip) = &self.strip {
            strip.set_property("text", annotation.strip_markup());
        }
    }
}

/// Handle to the running output pipeline.
pub struct Output {
    pipeline: gst::Pipeline,
    appsrc: gst_app::AppSrc,
    overlays: Arc<Overlays>,
    recorder: Option<gst::Element>,
    ring: Option<Arc<Mutex<ClipRing>>>,
    clips: Option<ClipSettings>,
    sizes: FrameSizes,
    events: Sender<MediaEvent>,
    eos: Receiver<()>,
    bus_thread: Option<JoinHandle<()>>,
    rtsp: Option<(glib::MainLoop, JoinHandle<()>)>,
    stopping: Arc<AtomicBool>,
    /// No more video comes: clips waiting for their post-roll take what there is.
    finished: Arc<AtomicBool>,
    clip_writers: Mutex<Vec<JoinHandle<()>>>,
    /// The last display frame sent in, repeated at shutdown to finish a
    /// clip's post-roll when the input ended with the verdict.
    last_frame: Arc<Mutex<Option<gst::Buffer>>>,
    /// The thread that takes display frames from the ingest (`feed`).
    feeder: Option<JoinHandle<()>>,
    /// Display frames sent into the pipeline.
    fed: Arc<AtomicU64>,
    pub description: String,
}

/// How long a frame of a file source waits for room in the pipeline before
/// it is dropped after all: a stalled output must not hold the engine.
const FILE_FRAME_PATIENCE: Duration = Duration::from_secs(2);

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
                let keep = clips.max + clips.pre_roll + HOLD;
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
            super::panel_ring::feed_panel_ring(sink, &shm.path, config.sizes, &events)?;
        }

        let rtsp = match (&config.rtsp, config.plan.rtsp_feed_port) {
            (Some((port, path)), Some(feed)) => Some(super::rtsp::serve_rtsp(*port, path, feed)?),
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
        let overlays = Arc::new(Overlays {
            status: pipeline.by_name(describe::STATUS_OVERLAY),
            verdict: pipeline.by_name(describe::VERDICT_OVERLAY),
            strip: pipeline.by_name(describe::STRIP_OVERLAY),
            shown: Mutex::default(),
        });
        Ok(Self {
            pipeline,
            appsrc,
            overlays,
            recorder,
            ring,
            clips: config.clips,
            sizes: config.sizes,
            events,
            eos,
            bus_thread: Some(bus_thread),
            rtsp,
            stopping,
            finished: Arc::new(AtomicBool::new(false)),
            clip_writers: Mutex::new(Vec::new()),
            last_frame: Arc::default(),
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
        let overlays = Arc::clone(&self.overlays);
        let last_frame = Arc::clone(&self.last_frame);
        let thread = std::thread::Builder::new()
            .name("output-feed".into())
            .spawn(move || {
                for frame in frames.iter() {
                    overlays.tick();
                    push_frame(&appsrc, &frame, &stopping);
                    *lock(&last_frame) = Some(frame.buffer);
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
        self.overlays.tick();
        push_frame(&self.appsrc, frame, &self.stopping);
        *lock(&self.last_frame) = Some(frame.buffer.clone());
    }

    /// Updates the burned-in text; cheap when nothing changed. While a
    /// rejected part's end card is held (after `save_clip`), its verdict
    /// stays on screen whatever comes.
    pub fn annotate(&self, annotation: &Annotation) {
        self.overlays.annotate(annotation);
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

    /// Plans the clip of a rejected part and returns its path: the pre-roll,
    /// the part, then [`POST_ROLL`](super::POST_ROLL) with the part's verdict on screen (the
    /// next annotation of this part with a verdict is held that long). It
    /// is written in the background once the post-roll is recorded;
    /// `ClipWritten` or `ClipFailed` follows as an event.
    pub fn save_clip(&self, part: u32) -> Option<PathBuf> {
        let (ring, clips) = (self.ring.as_ref()?, self.clips.as_ref()?);
        let now = Instant::now();
        let start = lock(ring)
            .part_starts
            .iter()
            .find(|(p, _)| *p == part)
            .map(|(_, at)| *at);
        let from = start.unwrap_or(now).checked_sub(clips.pre_roll).unwrap_or(now);
        self.overlays.hold(part, now + HOLD);
        let pending = PendingClip {
            part,
            path: clips.dir.join(format!("part-{part:06}-{}.mp4", super::unix_stamp())),
            from,
            verdict: now,
        };
        let path = pending.path.clone();
        let events = self.events.clone();
        let ring = Arc::clone(ring);
        let finished = Arc::clone(&self.finished);
        let spawned = std::thread::Builder::new().name("clip".into()).spawn(move || {
            let buffers = pending.cut(&ring, &finished);
            let event = match write_clip(&pending.path, &buffers) {
                Ok(()) => MediaEvent::ClipWritten {
                    part: pending.part,
                    path: pending.path,
                },
                Err(message) => MediaEvent::ClipFailed {
                    part: pending.part,
                    message,
                },
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
    /// taken, a clip's post-roll finished (the last frame repeated under the
    /// verdict when the input ended with it), the last recording finished
    /// and closed, clips still being written completed. Returns the display
    /// frames sent in.
    pub fn shutdown(mut self) -> u64 {
        if let Some(feeder) = self.feeder.take() {
            let _ = feeder.join();
        }
        self.finish_post_roll();
        let _ = self.appsrc.end_of_stream();
        let _ = self.eos.recv_timeout(Duration::from_secs(5));
        self.finished.store(true, Ordering::SeqCst);
        for writer in lock(&self.clip_writers).drain(..) {
            let _ = writer.join();
        }
        self.stop();
        self.frames_fed()
    }

    /// Repeats the last frame at the display rate while an end card is held.
    fn finish_post_roll(&self) {
        let Some(last) = lock(&self.last_frame).clone() else {
            return;
        };
        let period = Duration::from_secs(1) / self.sizes.display_fps.max(1);
        while self.overlays.holding() && !self.stopping.load(Ordering::SeqCst) {
            let frame = DisplayFrame {
                buffer: last.clone(),
                live: false,
            };
            self.overlays.tick();
            push_frame(&self.appsrc, &frame, &self.stopping);
            std::thread::sleep(period);
        }
        self.overlays.tick();
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
