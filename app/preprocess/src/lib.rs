//! actrec-preprocess: the stage between the source and the network.
//!
//! The media layer already delivers square RGB frames at the model's size
//! (crop and resize happen in the pipeline). This crate cuts them into windows
//! (`window_seconds` long, one every `stride_seconds`: [`Cutter`]), samples the
//! fast and slow pathways as pytorchvideo does (`floor(linspace(...))`, in f32
//! like torch), normalises each channel and packs each pathway as NCTHW f32,
//! ready for any inference backend ([`Windower`]). Pure: no I/O.
//!
//! With preprocessing on the GPU, whole frames wait in a device ring instead:
//! the [`SlotWindower`] cuts the same windows as lists of ring slots, and
//! [`gpu`] holds the kernel's plan and its CPU reference.

use std::collections::VecDeque;
use std::sync::Arc;

use actrec_core::manifest::InputSpec;

pub mod gpu;

/// One RGB frame at the model's size (size × size × 3, row-major).
#[derive(Debug, Clone)]
pub struct ModelFrame {
    /// Station time, seconds.
    pub t: f64,
    pub rgb: Arc<[u8]>,
}

/// One network input: both pathways of one window.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    /// Time of the window's first frame.
    pub t: f64,
    /// Time just after its last frame.
    pub t_end: f64,
    /// [1, 3, slow_frames, size, size].
    pub slow: Vec<f32>,
    /// [1, 3, fast_frames, size, size].
    pub fast: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PreprocessError {
    #[error("frame at t={t} holds {got} bytes; the model takes {want} ({size}x{size} RGB)")]
    FrameSize {
        t: f64,
        got: usize,
        want: usize,
        size: usize,
    },
}

/// The manifest's normalisation of 8-bit channel values as `value * scale +
/// offset`: `(value / 255 - mean) / std`.
pub(crate) fn affine(spec: &InputSpec) -> [(f32, f32); 3] {
    std::array::from_fn(|c| {
        let scale = 1.0 / (255.0 * spec.std[c]);
        (scale, -spec.mean[c] / spec.std[c])
    })
}

/// The two pathways' samples of a window of `len` frames, as pytorchvideo
/// takes them: the window members of the fast pathway's frames, and the
/// positions among those of the slow pathway's.
pub(crate) fn pathway_samples(len: usize, fast_frames: usize, slow_frames: usize) -> (Vec<usize>, Vec<usize>) {
    let fast = linspace_indices(len, fast_frames);
    let slow = linspace_indices(fast.len(), slow_frames);
    (fast, slow)
}

/// `count` indices into `len` items, as `torch.linspace(0, len - 1, count).long()`.
pub fn linspace_indices(len: usize, count: usize) -> Vec<usize> {
    if count == 0 || len == 0 {
        return Vec::new();
    }
    if count == 1 {
        return vec![0];
    }
    let end = (len - 1) as f32;
    let step = end / (count - 1) as f32;
    // torch computes start + i * step for the first half and end - (count - 1 - i) * step
    // for the second, in f32; truncation (`.long()`) then floors.
    (0..count)
        .map(|i| {
            let v = if i < count / 2 {
                i as f32 * step
            } else {
                end - (count - 1 - i) as f32 * step
            };
            (v.max(0.0) as usize).min(len - 1)
        })
        .collect()
}

/// The longest stretch of the window `[start, end)` without a frame, given
/// its frames' times in order.
fn largest_gap(start: f64, end: f64, times: impl Iterator<Item = f64>) -> f64 {
    let mut gap: f64 = 0.0;
    let mut last = start;
    for t in times {
        gap = gap.max(t - last);
        last = t;
    }
    gap.max(end - last)
}

/// One window a [`Cutter`] completed: `[start, end)` and its frames, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Cut<T> {
    pub start: f64,
    pub end: f64,
    pub members: Vec<T>,
}

/// Cuts timed items into windows (`window_seconds` long, one every
/// `stride_seconds`), leaving out windows with holes: which frames each
/// window holds, whatever a frame is (RGB at the model's size for the
/// [`Windower`], a device ring slot for the [`SlotWindower`]).
pub struct Cutter<T> {
    window: f64,
    stride: f64,
    items: VecDeque<(f64, T)>,
    next_start: Option<f64>,
    /// The longest hole a window may have between frames (or at its ends).
    max_gap: f64,
    skipped: u64,
}

impl<T: Clone> Cutter<T> {
    pub fn new(spec: &InputSpec) -> Self {
        Self {
            window: spec.window_seconds,
            stride: spec.stride(),
            items: VecDeque::new(),
            next_start: None,
            // Twice the slow pathway's sampling interval (250 ms for 1 s and 8
            // frames): a camera of 4 fps or more passes, while a window with
            // frames dropped by an overloaded station, whose pathways would
            // repeat one frame over a hole, is left out rather than guessed at.
            max_gap: 2.0 * spec.window_seconds / f64::from(spec.slow_frames.max(1)),
            skipped: 0,
        }
    }

    /// Windows left out so far because frames were missing from them.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Items held for windows still to come.
    pub fn held(&self) -> impl Iterator<Item = &T> {
        self.items.iter().map(|(_, item)| item)
    }

    /// Adds an item at time `t`; returns the windows it completes (usually none or one).
    pub fn push(&mut self, t: f64, item: T) -> Vec<Cut<T>> {
        let mut start = *self.next_start.get_or_insert(t);
        self.items.push_back((t, item));
        let mut cuts = Vec::new();
        // A window is complete once a frame at or past its end arrives.
        while t >= start + self.window - 1e-9 {
            let end = start + self.window;
            let members: Vec<&(f64, T)> = self
                .items
                .iter()
                .filter(|(ti, _)| *ti >= start - 1e-9 && *ti < end - 1e-9)
                .collect();
            if !members.is_empty() {
                if largest_gap(start, end, members.iter().map(|(ti, _)| *ti)) <= self.max_gap + 1e-9 {
                    cuts.push(Cut {
                        start,
                        end,
                        members: members.into_iter().map(|(_, item)| item.clone()).collect(),
                    });
                } else {
                    self.skipped += 1;
                }
            }
            start += self.stride;
            while self.items.front().is_some_and(|(ti, _)| *ti < start - 1e-9) {
                self.items.pop_front();
            }
        }
        self.next_start = Some(start);
        cuts
    }

    /// Forgets held items, e.g. after a source switch or loss.
    pub fn reset(&mut self) {
        self.items.clear();
        self.next_start = None;
    }
}

/// Cuts frames into windows and turns each into network input.
pub struct Windower {
    size: usize,
    fast_frames: usize,
    slow_frames: usize,
    /// Per channel: (scale, offset) so that value = byte * scale + offset.
    affine: [(f32, f32); 3],
    cutter: Cutter<Arc<[u8]>>,
}

impl Windower {
    pub fn new(spec: &InputSpec) -> Self {
        Self {
            size: spec.size as usize,
            fast_frames: spec.fast_frames as usize,
            slow_frames: spec.slow_frames as usize,
            affine: affine(spec),
            cutter: Cutter::new(spec),
        }
    }

    /// Windows left out so far because frames were missing from them.
    pub fn skipped(&self) -> u64 {
        self.cutter.skipped()
    }

    /// Adds a frame; returns the windows it completes (usually none or one).
    pub fn push(&mut self, frame: ModelFrame) -> Result<Vec<Clip>, PreprocessError> {
        let want = self.size * self.size * 3;
        if frame.rgb.len() != want {
            return Err(PreprocessError::FrameSize {
                t: frame.t,
                got: frame.rgb.len(),
                want,
                size: self.size,
            });
        }
        let cuts = self.cutter.push(frame.t, frame.rgb);
        Ok(cuts.iter().map(|cut| self.pack(cut)).collect())
    }

    /// Forgets buffered frames, e.g. after a source switch or loss.
    pub fn reset(&mut self) {
        self.cutter.reset();
    }

    fn pack(&self, cut: &Cut<Arc<[u8]>>) -> Clip {
        let members = &cut.members;
        let (fast_idx, slow_in_fast) = pathway_samples(members.len(), self.fast_frames, self.slow_frames);
        let slow_idx: Vec<usize> = slow_in_fast.into_iter().map(|i| fast_idx[i]).collect();
        Clip {
            t: cut.start,
            t_end: cut.end,
            slow: self.ncthw(members, &slow_idx),
            fast: self.ncthw(members, &fast_idx),
        }
    }

    /// Normalised [1, 3, T, H, W] from the chosen frames.
    fn ncthw(&self, members: &[Arc<[u8]>], indices: &[usize]) -> Vec<f32> {
        let plane = self.size * self.size;
        let frames = indices.len();
        let mut out = vec![0f32; 3 * frames * plane];
        for (t, &i) in indices.iter().enumerate() {
            let rgb = &members[i];
            for (c, &(scale, offset)) in self.affine.iter().enumerate() {
                let dst = &mut out[(c * frames + t) * plane..(c * frames + t + 1) * plane];
                for (value, pixel) in dst.iter_mut().zip(rgb.chunks_exact(3)) {
                    *value = f32::from(pixel[c]) * scale + offset;
                }
            }
        }
        out
    }
}

/// A window whose frames wait in a device ring (preprocessing on the GPU):
/// its members are their ring slots, oldest first.
pub type SlotWindow = Cut<usize>;

/// What a frame pushed into a [`SlotWindower`] gives: the slot to upload it
/// into, then the windows it completes.
#[derive(Debug)]
pub struct SlotPush {
    pub slot: usize,
    pub windows: Vec<SlotWindow>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "frame at t={t}: all {slots} ring slots hold frames of windows still to come (a window of more frames than the ring holds)"
)]
pub struct RingFull {
    pub t: f64,
    pub slots: usize,
}

/// The [`Windower`]'s windows over a ring of `slots` device frames: each
/// frame is uploaded once into a slot no waiting window needs, and a
/// completed window is the list of its slots.
pub struct SlotWindower {
    slots: usize,
    cutter: Cutter<usize>,
    next: usize,
}

impl SlotWindower {
    pub fn new(spec: &InputSpec, slots: usize) -> Self {
        Self {
            slots,
            cutter: Cutter::new(spec),
            next: 0,
        }
    }

    /// A new ring of `slots`: the frames held were in the old one, so they
    /// are forgotten; the count of windows left out goes on.
    pub fn resize(&mut self, slots: usize) {
        self.cutter.reset();
        self.slots = slots;
        self.next = 0;
    }

    /// The slots a window of `window_seconds` at `fps` needs, with room for
    /// the stride's frames and jitter.
    pub fn slots_for(spec: &InputSpec, fps: f64) -> usize {
        ((spec.window_seconds + spec.stride()) * fps.max(1.0)).ceil() as usize + 4
    }

    pub fn skipped(&self) -> u64 {
        self.cutter.skipped()
    }

    /// Takes a slot for the frame at `t` and cuts the windows it completes.
    pub fn push(&mut self, t: f64) -> Result<SlotPush, RingFull> {
        let slot = (0..self.slots)
            .map(|i| (self.next + i) % self.slots)
            .find(|s| !self.cutter.held().any(|held| held == s))
            .ok_or(RingFull { t, slots: self.slots })?;
        self.next = (slot + 1) % self.slots;
        let windows = self.cutter.push(t, slot);
        Ok(SlotPush { slot, windows })
    }

    pub fn reset(&mut self) {
        self.cutter.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(window: f64, stride: Option<f64>) -> InputSpec {
        InputSpec {
            window_seconds: window,
            stride_seconds: stride,
            ..InputSpec::slowfast(2)
        }
    }

    fn frame(n: usize) -> ModelFrame {
        // Red channel carries the frame number, so sampling is visible.
        let rgb: Vec<u8> = (0..4).flat_map(|_| [n as u8, 100, 200]).collect();
        ModelFrame {
            t: n as f64 / 30.0,
            rgb: rgb.into(),
        }
    }

    #[test]
    fn sampling_matches_torch_linspace_long() {
        // torch.linspace(0, 29, 32).long()
        assert_eq!(
            linspace_indices(30, 32),
            vec![
                0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
                26, 27, 28, 29
            ]
        );
        // torch.linspace(0, 31, 8).long()
        assert_eq!(linspace_indices(32, 8), vec![0, 4, 8, 13, 17, 22, 26, 31]);
        assert_eq!(linspace_indices(5, 1), vec![0]);
        assert!(linspace_indices(0, 4).is_empty());
    }

    #[test]
    fn one_second_windows_of_thirty_frames() {
        let mut windower = Windower::new(&spec(1.0, None));
        let mut clips = Vec::new();
        for n in 0..91 {
            clips.extend(windower.push(frame(n)).expect("frame"));
        }
        assert_eq!(clips.len(), 3);
        let clip = &clips[1];
        assert!((clip.t - 1.0).abs() < 1e-9 && (clip.t_end - 2.0).abs() < 1e-9);
        assert_eq!(clip.fast.len(), 3 * 32 * 4);
        assert_eq!(clip.slow.len(), 3 * 8 * 4);
        // Fast frame 2 is window frame 1, i.e. frame 31; red channel, first pixel.
        let red = |v: f32| ((v * 0.225 + 0.45) * 255.0).round() as u8;
        assert_eq!(red(clip.fast[2 * 4]), 31);
        // Slow frame 3 is fast frame 13 = window frame 12 = frame 42.
        assert_eq!(red(clip.slow[3 * 4]), 42);
        // Green channel (plane 1) normalised: (100/255 - 0.45) / 0.225.
        let green = clip.fast[32 * 4];
        assert!((green - (100.0 / 255.0 - 0.45) / 0.225).abs() < 1e-6, "{green}");
    }

    #[test]
    fn a_shorter_stride_overlaps_windows() {
        let mut windower = Windower::new(&spec(1.0, Some(4.0 / 30.0)));
        let clips: Vec<Clip> = (0..60).flat_map(|n| windower.push(frame(n)).expect("frame")).collect();
        // Windows start every 4 frames; those ending by frame 59 are complete.
        assert_eq!(clips.len(), 8);
        assert!(clips.windows(2).all(|w| ((w[1].t - w[0].t) - 4.0 / 30.0).abs() < 1e-9));
    }

    #[test]
    fn windows_with_frames_missing_are_left_out_and_counted() {
        let mut windower = Windower::new(&spec(1.0, None));
        // Frames 40 to 54 dropped (half a second): the second window has a hole.
        let clips: Vec<Clip> = (0..91)
            .filter(|n| !(40..55).contains(n))
            .flat_map(|n| windower.push(frame(n)).expect("frame"))
            .collect();
        let starts: Vec<f64> = clips.iter().map(|c| c.t).collect();
        assert_eq!(starts, [0.0, 2.0]);
        assert_eq!(windower.skipped(), 1);
    }

    #[test]
    fn a_slow_camera_still_fills_windows() {
        // 5 fps: 200 ms between frames is within the 250 ms allowed.
        let mut windower = Windower::new(&spec(1.0, None));
        let clips: Vec<Clip> = (0..16)
            .flat_map(|n| {
                windower
                    .push(ModelFrame {
                        t: n as f64 / 5.0,
                        ..frame(n)
                    })
                    .expect("frame")
            })
            .collect();
        assert_eq!(clips.len(), 3);
        assert_eq!(windower.skipped(), 0);
    }

    #[test]
    fn wrong_frame_sizes_are_refused() {
        let mut windower = Windower::new(&spec(1.0, None));
        let err = windower
            .push(ModelFrame {
                t: 0.0,
                rgb: vec![0u8; 5].into(),
            })
            .expect_err("refused");
        assert_eq!(
            err.to_string(),
            "frame at t=0 holds 5 bytes; the model takes 12 (2x2 RGB)"
        );
    }

    /// The ring's windows are the Windower's, frame for frame: each frame
    /// holds a slot until no window to come needs it.
    #[test]
    fn slot_windows_are_the_windowers_windows_over_a_ring() {
        let spec = spec(1.0, Some(4.0 / 30.0));
        let slots = SlotWindower::slots_for(&spec, 30.0);
        let mut windower = Windower::new(&spec);
        let mut ring = SlotWindower::new(&spec, slots);
        let mut slot_of_frame = Vec::new();
        for n in 0..120 {
            let clips = windower.push(frame(n)).expect("frame");
            let push = ring.push(frame(n).t).expect("a free slot");
            slot_of_frame.push(push.slot);
            assert_eq!(clips.len(), push.windows.len(), "frame {n}");
            for (clip, window) in clips.iter().zip(&push.windows) {
                assert_eq!((clip.t, clip.t_end), (window.start, window.end));
                // The window's slots still hold its frames: none was reused.
                let first = (clip.t * 30.0).round() as usize;
                let frames: Vec<usize> = (first..first + window.members.len()).collect();
                let held: Vec<usize> = frames.iter().map(|&f| slot_of_frame[f]).collect();
                assert_eq!(window.members, held, "window at {}", clip.t);
                assert_eq!(window.members.len(), 30);
            }
        }
        assert!(slots < 120, "slots are reused");
    }

    #[test]
    fn a_ring_too_small_for_a_window_is_an_error() {
        let spec = spec(1.0, None);
        let mut ring = SlotWindower::new(&spec, 10);
        let full = (0..30).map(|n| ring.push(frame(n).t)).find_map(Result::err);
        assert_eq!(
            full,
            Some(RingFull {
                t: 10.0 / 30.0,
                slots: 10
            })
        );
    }
}
