//! The evidence ring: recent encoded video, from which the clip of a
//! rejected part is cut (pre-roll, the part, then the verdict's post-roll)
//! and written as mp4 in the background.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;

use crate::describe;

/// Evidence clips of rejected parts.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipSettings {
    pub dir: PathBuf,
    pub pre_roll: Duration,
    pub max: Duration,
}

/// How long a clip goes on after the verdict, with the verdict and the
/// missing steps on screen: what a quality engineer opens the clip to see.
pub const POST_ROLL: Duration = Duration::from_secs(2);

/// The clip takes the video that reached the ring up to this long after
/// the post-roll: a frame arrives there a little after it went in (the
/// encoder's latency), and is still under the verdict ([`HOLD`]).
const CUT_SLACK: Duration = Duration::from_millis(250);

/// How long the verdict stays held on screen after `save_clip`: longer than
/// the clip takes video, so that every frame of its post-roll shows it.
pub(crate) const HOLD: Duration = Duration::from_millis(2500);

/// Recent encoded video, oldest first, trimmed to whole groups of pictures.
#[derive(Default)]
pub(crate) struct ClipRing {
    items: VecDeque<(Instant, bool, gst::Buffer)>,
    pub(crate) part_starts: Vec<(u32, Instant)>,
}

impl ClipRing {
    pub(crate) fn push(&mut self, keyframe: bool, buffer: gst::Buffer, keep: Duration) {
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

    /// Buffers from the last keyframe at or before `from` to the last one
    /// that arrived at or before `until`.
    pub(crate) fn since(&self, from: Instant, until: Instant) -> Vec<gst::Buffer> {
        let start = self
            .items
            .iter()
            .rposition(|(at, key, _)| *key && *at <= from)
            .or_else(|| self.items.iter().position(|(_, key, _)| *key))
            .unwrap_or(self.items.len());
        self.items
            .iter()
            .skip(start)
            .take_while(|(at, _, _)| *at <= until)
            .map(|(_, _, b)| b.clone())
            .collect()
    }
}

/// A clip to cut once its post-roll is recorded.
pub(crate) struct PendingClip {
    pub(crate) part: u32,
    pub(crate) path: PathBuf,
    /// Where the clip starts (before the pre-roll's keyframe search).
    pub(crate) from: Instant,
    /// The verdict: the clip ends [`POST_ROLL`] after it.
    pub(crate) verdict: Instant,
}

impl PendingClip {
    /// Waits for the post-roll (or until `finished` says no more video
    /// comes), then cuts the clip from the ring.
    pub(crate) fn cut(&self, ring: &Mutex<ClipRing>, finished: &AtomicBool) -> Vec<gst::Buffer> {
        let until = self.verdict + POST_ROLL + CUT_SLACK;
        while Instant::now() < until && !finished.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(20));
        }
        crate::lock(ring).since(self.from, until)
    }
}

/// Muxes encoded buffers into an mp4 file.
pub(crate) fn write_clip(path: &Path, buffers: &[gst::Buffer]) -> Result<(), String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let now = Instant::now();
        assert_eq!(ring.since(mark, now).len(), 4, "from the keyframe before the mark");
        assert_eq!(ring.since(now, now).len(), 2, "from the latest keyframe");
    }

    #[test]
    fn clips_end_with_the_post_roll() {
        crate::init().expect("gstreamer");
        let mut ring = ClipRing::default();
        let keep = Duration::from_secs(60);
        let start = Instant::now();
        ring.push(true, gst::Buffer::new(), keep);
        ring.push(false, gst::Buffer::new(), keep);
        std::thread::sleep(Duration::from_millis(5));
        let end = Instant::now();
        std::thread::sleep(Duration::from_millis(5));
        ring.push(false, gst::Buffer::new(), keep);
        assert_eq!(
            ring.since(start, end).len(),
            2,
            "what came after the post-roll is left out"
        );
        assert_eq!(ring.since(start, Instant::now()).len(), 3);
    }
}
