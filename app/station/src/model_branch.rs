//! The model branch of the engine, on its own thread: model frames →
//! windows → predictions.
//!
//! Inference takes milliseconds per window; on the engine's main loop it
//! would hold up the display frames, the control socket and the signals.
//! Here it consumes the ingest's model frames directly, so a file source is
//! paced by inference (the ingest waits for a file, and drops counted frames
//! of a live source), and the main loop only receives finished predictions.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actrec_core::decode::Window;
use actrec_core::manifest::InputSpec;
use actrec_core::sync::lock;
use actrec_infer::Classifier;
use actrec_media::ingest::{Frame, Nv12Geometry};
use actrec_preprocess::gpu::{FrameLayout, PixelFormat, WindowPlan};
use actrec_preprocess::{ModelFrame, SlotWindower, Windower};
use crossbeam_channel::{Receiver, RecvTimeoutError, bounded};

use crate::engine::ModelWatch;
use crate::supervise::Watchdog;

/// Where per-window predictions come from.
pub enum Predictions {
    /// No model: frames are only counted.
    None,
    /// Recorded predictions, replayed by station time.
    Replay(VecDeque<Window>),
    /// The model, on the frames as they come.
    Live { windower: Windower, classifier: Classifier },
    /// The model, with each window made on its device from whole frames.
    OnDevice(OnDevice),
}

/// Preprocessing on the inference device (TensorRT's shim): each whole NV12
/// frame is uploaded once into a ring slot, and each window is made there.
pub struct OnDevice {
    /// Cuts windows over the ring: no slots until the first frame makes it.
    windower: SlotWindower,
    classifier: Classifier,
    input: InputSpec,
    /// The frames' geometry the ring was made for.
    ring_for: Option<Nv12Geometry>,
}

/// The frame rate a ring is sized for when the caps give none.
const VARIABLE_RATE_FPS: f64 = 60.0;

impl OnDevice {
    pub fn new(classifier: Classifier, input: &InputSpec) -> Self {
        Self {
            windower: SlotWindower::new(input, 0),
            classifier,
            input: input.clone(),
            ring_for: None,
        }
    }

    fn windows_for(&mut self, frame: &Frame, arrived: Instant) -> Result<Vec<Predicted>, String> {
        let geometry = frame
            .geometry
            .ok_or("the model branch's frame is not whole NV12 in GStreamer's default layout")?;
        let layout = FrameLayout {
            format: PixelFormat::Nv12,
            width: geometry.width as usize,
            height: geometry.height as usize,
            pitch: geometry.stride as usize,
        };
        if self.ring_for != Some(geometry) {
            // The first frame, or a source of another size or rate: a new
            // ring, with room for a window and its stride at that rate.
            let fps = geometry.frame_rate().unwrap_or(VARIABLE_RATE_FPS);
            let slots = SlotWindower::slots_for(&self.input, fps);
            let plan = WindowPlan::new(&self.input, self.input.fast_frames as usize);
            self.classifier
                .device_windows()
                .and_then(|device| device.prepare(layout, slots, plan))
                .map_err(|e| e.to_string())?;
            tracing::info!(
                slots,
                width = layout.width,
                height = layout.height,
                fps,
                "windows made on the GPU: the device ring"
            );
            self.windower.resize(slots);
            self.ring_for = Some(geometry);
        }
        let map = frame.buffer.map_readable().map_err(|e| e.to_string())?;
        let bytes = map.as_slice().get(..layout.bytes()).ok_or_else(|| {
            format!(
                "an NV12 frame of {}x{} needs {} bytes; the buffer holds {}",
                layout.width,
                layout.height,
                layout.bytes(),
                map.len()
            )
        })?;
        let push = self.windower.push(frame.t).map_err(|e| e.to_string())?;
        self.classifier
            .device_windows()
            .and_then(|device| device.upload(push.slot, bytes))
            .map_err(|e| e.to_string())?;
        // The upload is this path's preprocessing; the kernel runs with the network.
        let preprocess = arrived.elapsed();
        push.windows
            .iter()
            .map(|slots| {
                let started = Instant::now();
                let window = self.classifier.classify_on_device(slots).map_err(|e| e.to_string())?;
                Ok(Predicted {
                    window,
                    timing: Some(WindowTiming {
                        last_frame_at: arrived,
                        preprocess,
                        inference: started.elapsed(),
                    }),
                })
            })
            .collect()
    }
}

impl Predictions {
    /// The predictions a model frame completes; `arrived` is when the frame
    /// reached the branch.
    fn windows_for(&mut self, frame: &Frame, arrived: Instant) -> Result<Vec<Predicted>, String> {
        match self {
            Predictions::None => Ok(Vec::new()),
            Predictions::Replay(windows) => {
                let mut due = Vec::new();
                while windows.front().is_some_and(|w| w.t <= frame.t) {
                    due.extend(windows.pop_front().map(|window| Predicted { window, timing: None }));
                }
                Ok(due)
            }
            Predictions::Live { windower, classifier } => {
                let map = frame.buffer.map_readable().map_err(|e| e.to_string())?;
                let clips = windower
                    .push(ModelFrame {
                        t: frame.t,
                        rgb: Arc::from(map.as_slice()),
                    })
                    .map_err(|e| e.to_string())?;
                // Sampling, normalising and packing happen in `push`, for every clip it completes.
                let preprocess = arrived.elapsed() / u32::try_from(clips.len().max(1)).unwrap_or(u32::MAX);
                clips
                    .iter()
                    .map(|clip| {
                        let started = Instant::now();
                        let window = classifier.classify(clip).map_err(|e| e.to_string())?;
                        let timing = WindowTiming {
                            last_frame_at: arrived,
                            preprocess,
                            inference: started.elapsed(),
                        };
                        Ok(Predicted {
                            window,
                            timing: Some(timing),
                        })
                    })
                    .collect()
            }
            Predictions::OnDevice(device) => device.windows_for(frame, arrived),
        }
    }

    /// Windows the windower left out (frames missing).
    fn skipped(&self) -> u64 {
        match self {
            Predictions::Live { windower, .. } => windower.skipped(),
            Predictions::OnDevice(device) => device.windower.skipped(),
            _ => 0,
        }
    }

    /// Frames from a new source never share a window with the old one's.
    fn source_changed(&mut self) {
        match self {
            Predictions::Live { windower, .. } => windower.reset(),
            Predictions::OnDevice(device) => device.windower.reset(),
            _ => {}
        }
    }
}

/// Where a window's time went in the model branch (`actrec bench` reads it).
#[derive(Debug, Clone, Copy)]
pub struct WindowTiming {
    /// When the window's last frame reached the model branch.
    pub last_frame_at: Instant,
    /// Sampling, normalising and packing the window.
    pub preprocess: Duration,
    /// The network, softmax and label.
    pub inference: Duration,
}

/// One window's prediction; replayed predictions have no timing.
#[derive(Debug)]
pub struct Predicted {
    pub window: Window,
    pub timing: Option<WindowTiming>,
}

/// What the model branch sends to the main loop.
pub type Prediction = Result<Predicted, String>;

/// The running model branch.
pub struct ModelBranch {
    pub predictions: Receiver<Prediction>,
    /// Model frames taken from the ingest, for the status reply.
    pub frames: Arc<AtomicU64>,
    /// Since when the branch has been working on its current frame.
    busy_since: Arc<Mutex<Option<Instant>>>,
    /// Windows left out because frames were missing from them.
    windows_skipped: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl ModelBranch {
    /// Starts consuming `frames`. The branch ends when the ingest drops its
    /// senders (after the last frame), after the first inference error, or
    /// after `max_frames` frames (a benchmark's fixed length).
    pub fn start(
        frames: Receiver<Frame>,
        mut predictions: Predictions,
        max_frames: Option<u64>,
    ) -> std::io::Result<Self> {
        // Small: the main loop takes predictions as they come; a full queue
        // only means the main loop is busy for a moment, and then inference waits.
        let (tx, rx) = bounded::<Prediction>(64);
        let counter = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&counter);
        let busy_since = Arc::new(Mutex::new(None));
        let busy = Arc::clone(&busy_since);
        let windows_skipped = Arc::new(AtomicU64::new(0));
        let skipped = Arc::clone(&windows_skipped);
        let thread = std::thread::Builder::new().name("model".into()).spawn(move || {
            let mut source: Option<Arc<str>> = None;
            let mut watchdog = Watchdog::from_env();
            loop {
                watchdog.pet();
                let frame = match frames.recv_timeout(watchdog.wake_every()) {
                    Ok(frame) => frame,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => return,
                };
                let arrived = Instant::now();
                let taken = count.fetch_add(1, Ordering::Relaxed) + 1;
                if source.as_ref().is_some_and(|s| *s != frame.source) {
                    predictions.source_changed();
                }
                source = Some(Arc::clone(&frame.source));
                *lock(&busy) = Some(arrived);
                let result = predictions.windows_for(&frame, arrived);
                *lock(&busy) = None;
                skipped.store(predictions.skipped(), Ordering::Relaxed);
                match result {
                    Ok(windows) => {
                        for window in windows {
                            if tx.send(Ok(window)).is_err() {
                                return;
                            }
                        }
                        if max_frames.is_some_and(|max| taken >= max) {
                            return;
                        }
                    }
                    Err(err) => {
                        let _ = tx.send(Err(format!("at t={:.3} s of source {}: {err}", frame.t, frame.source)));
                        return;
                    }
                }
            }
        })?;
        Ok(Self {
            predictions: rx,
            frames: counter,
            busy_since,
            windows_skipped,
            thread: Some(thread),
        })
    }

    /// The predictions of the last frames, once the branch ends; stop the ingest first.
    pub fn finish(&mut self) -> Vec<Prediction> {
        // The queue disconnects when the thread ends, which it does once the ingest's senders are gone.
        let rest = self.predictions.iter().collect();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        rest
    }
}

impl ModelWatch for ModelBranch {
    /// A frame takes milliseconds, so seconds on one mean inference stalled.
    /// Real time: the branch's thread marks its start with the host's clock.
    fn busy_for(&self) -> Option<Duration> {
        lock(&self.busy_since).map(|since| since.elapsed())
    }

    fn windows_skipped(&self) -> u64 {
        self.windows_skipped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actrec_core::manifest::Manifest;
    use actrec_infer::{InferError, InferenceBackend};
    use actrec_media::gst;
    use actrec_preprocess::Clip;
    use actrec_testkit::eventually;
    use crossbeam_channel::Sender;

    /// A backend that blocks in `infer` until the test lets it go: a stalled runtime.
    struct Gate(Receiver<()>);

    impl InferenceBackend for Gate {
        fn name(&self) -> &str {
            "gate"
        }
        fn infer(&mut self, _clip: &Clip) -> Result<Vec<f32>, InferError> {
            self.0.recv().map_err(|_| InferError::Run("gate closed".into()))?;
            Ok(vec![1.0, 0.0])
        }
    }

    fn frame(seq: u64, size: usize) -> Frame {
        Frame {
            seq,
            t: seq as f64 / 30.0,
            pts: None,
            buffer: gst::Buffer::from_slice(vec![0u8; size * size * 3]),
            source: Arc::from("test"),
            geometry: None,
        }
    }

    #[test]
    fn a_stalled_inference_shows_as_a_busy_branch_until_it_returns() {
        actrec_media::init().expect("GStreamer");
        let manifest = Manifest::parse(
            "manifest.toml",
            "name = \"t\"\nversion = \"1\"\nlabels = [\"idle\", \"step\"]\n[input]\nlayout = \"NCTHW\"\nsize = 16\n\
             window_seconds = 1.0\nfast_input = \"fast\"\nslow_input = \"slow\"\nfast_frames = 4\nslow_frames = 2\n\
             mean = [0.45, 0.45, 0.45]\nstd = [0.225, 0.225, 0.225]\n",
        )
        .expect("manifest");
        let (release, gate): (Sender<()>, Receiver<()>) = bounded(1);
        let (frames_tx, frames) = bounded(64);
        let mut branch = ModelBranch::start(
            frames,
            Predictions::Live {
                windower: Windower::new(&manifest.input),
                classifier: Classifier::new(Box::new(Gate(gate)), manifest.labels.clone()),
            },
            None,
        )
        .expect("branch starts");
        assert_eq!(branch.busy_for(), None);
        // 31 frames complete the first one-second window; its inference blocks.
        for seq in 0..31 {
            frames_tx.send(frame(seq, 16)).expect("frame");
        }
        eventually("the branch is busy on the window", || branch.busy_for().is_some());
        let first = branch.busy_for().expect("busy");
        eventually("the stall grows", || branch.busy_for().is_some_and(|b| b > first));
        release.send(()).expect("release");
        let window = branch
            .predictions
            .recv_timeout(Duration::from_secs(20))
            .expect("a prediction")
            .expect("no error")
            .window;
        assert_eq!(window.label, "idle");
        eventually("the branch is idle again", || branch.busy_for().is_none());
        drop(frames_tx);
        assert!(branch.finish().is_empty());
    }

    /// A backend that answers at once.
    struct Immediate;

    impl InferenceBackend for Immediate {
        fn name(&self) -> &str {
            "instant"
        }
        fn infer(&mut self, _clip: &Clip) -> Result<Vec<f32>, InferError> {
            Ok(vec![1.0, 0.0])
        }
    }

    /// One-second windows, 8 slow frames: a hole longer than 250 ms leaves a window out.
    fn one_second_windows() -> Manifest {
        Manifest::parse(
            "manifest.toml",
            "name = \"t\"\nversion = \"1\"\nlabels = [\"idle\", \"step\"]\n[input]\nlayout = \"NCTHW\"\nsize = 16\n\
             window_seconds = 1.0\nfast_input = \"fast\"\nslow_input = \"slow\"\nfast_frames = 32\nslow_frames = 8\n\
             mean = [0.45, 0.45, 0.45]\nstd = [0.225, 0.225, 0.225]\n",
        )
        .expect("manifest")
    }

    fn instant_branch(frames: Receiver<Frame>, max_frames: Option<u64>) -> ModelBranch {
        let manifest = one_second_windows();
        ModelBranch::start(
            frames,
            Predictions::Live {
                windower: Windower::new(&manifest.input),
                classifier: Classifier::new(Box::new(Immediate), manifest.labels.clone()),
            },
            max_frames,
        )
        .expect("branch starts")
    }

    #[test]
    fn a_frame_limit_ends_the_branch_after_that_frame() {
        actrec_media::init().expect("GStreamer");
        let (frames_tx, frames) = bounded(128);
        let mut branch = instant_branch(frames, Some(61));
        for seq in 0..91 {
            // Once the branch has taken its 61 frames it hangs up: later sends may fail.
            let _ = frames_tx.send(frame(seq, 16));
        }
        // The branch ends by itself, the ingest's sender still open: frame 60 closes the second window.
        let predicted: Vec<Predicted> = branch.predictions.iter().map(|p| p.expect("no error")).collect();
        assert_eq!(predicted.len(), 2);
        assert!(predicted.iter().all(|p| p.timing.is_some()));
        assert_eq!(branch.frames.load(Ordering::Relaxed), 61);
        assert!(branch.finish().is_empty());
    }

    #[test]
    fn windows_with_frames_dropped_are_left_out_and_counted() {
        actrec_media::init().expect("GStreamer");
        let (frames_tx, frames) = bounded(128);
        let mut branch = instant_branch(frames, None);
        // Three one-second windows; frames 40 to 54 (half a second) were dropped.
        for seq in (0..91).filter(|seq| !(40..55).contains(seq)) {
            frames_tx.send(frame(seq, 16)).expect("frame");
        }
        drop(frames_tx);
        let predicted: Vec<f64> = branch
            .finish()
            .into_iter()
            .map(|p| p.expect("no error").window.t)
            .collect();
        assert_eq!(predicted, [0.0, 2.0]);
        assert_eq!(branch.windows_skipped(), 1);
    }
}
