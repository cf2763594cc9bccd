//! The video-outputs seam: what the engine's decisions do to the annotated
//! video (the overlay, the recordings split by part, the evidence clips).
//! The real outputs are actrec-media's GStreamer [`Output`]; the fake
//! remembers what it was asked.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use actrec_core::sync::lock;
use actrec_media::output::{Annotation, Output};

pub trait VideoOutputs {
    /// What the overlay shows from now on.
    fn annotate(&self, annotation: &Annotation);
    /// A part's first step: its evidence clip starts here.
    fn part_started(&self, part: u32);
    /// The recording closes its file after the current frame.
    fn split_recording(&self);
    /// Writes the evidence clip of a rejected part; returns where.
    fn save_clip(&self, part: u32) -> Option<PathBuf>;
    /// Display frames fed so far.
    fn frames_fed(&self) -> u64;
    /// Finishes every file; returns the display frames fed.
    fn shutdown(self: Box<Self>) -> u64;
}

impl VideoOutputs for Output {
    fn annotate(&self, annotation: &Annotation) {
        Output::annotate(self, annotation);
    }
    fn part_started(&self, part: u32) {
        Output::part_started(self, part);
    }
    fn split_recording(&self) {
        Output::split_recording(self);
    }
    fn save_clip(&self, part: u32) -> Option<PathBuf> {
        Output::save_clip(self, part)
    }
    fn frames_fed(&self) -> u64 {
        Output::frames_fed(self)
    }
    fn shutdown(self: Box<Self>) -> u64 {
        Output::shutdown(*self)
    }
}

/// What a [`FakeVideo`] was asked, for the test that made it.
#[derive(Debug, Default)]
pub struct FakeVideoState {
    pub annotation: Annotation,
    pub parts_started: Vec<u32>,
    pub splits: u32,
    pub clips: Vec<u32>,
}

/// Video outputs that draw nothing.
#[derive(Debug, Clone, Default)]
pub struct FakeVideo(pub Arc<Mutex<FakeVideoState>>);

impl FakeVideo {
    pub fn state(&self) -> std::sync::MutexGuard<'_, FakeVideoState> {
        lock(&self.0)
    }
}

impl VideoOutputs for FakeVideo {
    fn annotate(&self, annotation: &Annotation) {
        lock(&self.0).annotation = annotation.clone();
    }
    fn part_started(&self, part: u32) {
        lock(&self.0).parts_started.push(part);
    }
    fn split_recording(&self) {
        lock(&self.0).splits += 1;
    }
    fn save_clip(&self, part: u32) -> Option<PathBuf> {
        lock(&self.0).clips.push(part);
        Some(PathBuf::from(format!("clips/part-{part}.mp4")))
    }
    fn frames_fed(&self) -> u64 {
        0
    }
    fn shutdown(self: Box<Self>) -> u64 {
        0
    }
}
