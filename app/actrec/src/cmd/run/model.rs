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
use actrec_core::sync::lock;
use actrec_infer::Classifier;
use actrec_media::ingest::Frame;
use actrec_preprocess::{ModelFrame, Windower};
use crossbeam_channel::{Receiver, RecvTimeoutError, bounded};

use super::supervise::Watchdog;

/// Where per-window predictions come from.
pub enum Predictions {
    /// No model: frames are only counted.
    None,
    /// Recorded predictions, replayed by station time.
    Replay(VecDeque<Window>),
    /// The model, on the frames as they come.
    Live { windower: Windower, classifier: Classifier },
}

impl Predictions {
    /// The predictions a model frame completes.
    fn windows_for(&mut self, frame: &Frame) -> Result<Vec<Window>, String> {
        match self {
            Predictions::None => Ok(Vec::new()),
            Predictions::Replay(windows) => {
                let mut due = Vec::new();
                while windows.front().is_some_and(|w| w.t <= frame.t) {
                    due.extend(windows.pop_front());
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
                clips
                    .iter()
                    .map(|clip| classifier.classify(clip).map_err(|e| e.to_string()))
                    .collect()
            }
        }
    }

    /// Windows the windower left out (frames missing).
    fn skipped(&self) -> u64 {
        match self {
            Predictions::Live { windower, .. } => windower.skipped(),
            _ => 0,
        }
    }

    /// Frames from a new source never share a window with the old one's.
    fn source_changed(&mut self) {
        if let Predictions::Live { windower, .. } = self {
            windower.reset();
        }
    }
}

/// What the model branch sends to the main loop.
pub type Prediction = Result<Window, String>;

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
    /// senders (after the last frame), or after the first inference error.
    pub fn start(frames: Receiver<Frame>, mut predictions: Predictions) -> std::io::Result<Self> {
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
                count.fetch_add(1, Ordering::Relaxed);
                if source.as_ref().is_some_and(|s| *s != frame.source) {
                    predictions.source_changed();
                }
                source = Some(Arc::clone(&frame.source));
                *lock(&busy) = Some(Instant::now());
                let result = predictions.windows_for(&frame);
                *lock(&busy) = None;
                skipped.store(predictions.skipped(), Ordering::Relaxed);
                match result {
                    Ok(windows) => {
                        for window in windows {
                            if tx.send(Ok(window)).is_err() {
                                return;
                            }
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

    /// How long the branch has been stuck on one frame, if it is working on
    /// one: a frame takes milliseconds, so seconds mean inference stalled.
    pub fn busy_for(&self) -> Option<Duration> {
        lock(&self.busy_since).map(|since| since.elapsed())
    }

    /// Windows left out so far because frames were missing from them.
    pub fn windows_skipped(&self) -> u64 {
        self.windows_skipped.load(Ordering::Relaxed)
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

#[cfg(test)]
mod tests {
    use super::*;
    use actrec_core::manifest::Manifest;
    use actrec_infer::{InferError, InferenceBackend};
    use actrec_media::gst;
    use actrec_preprocess::Clip;
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
        }
    }

    /// Waits for a condition; a guard against hangs, not a speed check.
    fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !condition() {
            assert!(Instant::now() < deadline, "never: {what}");
            std::thread::sleep(Duration::from_millis(10));
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
            .expect("no error");
        assert_eq!(window.label, "idle");
        eventually("the branch is idle again", || branch.busy_for().is_none());
        drop(frames_tx);
        assert!(branch.finish().is_empty());
    }
}
