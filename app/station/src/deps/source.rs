//! The frame-source seam, as the engine's decisions see it: the source can
//! be switched by an operator. Frames themselves go from the source to the
//! model branch, and the source's news (started, lost, restored, ended) to
//! the engine loop as media events; neither passes through here.

use std::sync::{Arc, Mutex};

use actrec_core::sync::lock;
use actrec_media::ingest::Ingest;

pub trait SourceControl {
    /// Switches to the configured source `name`; its frames follow.
    fn switch_source(&self, name: &str) -> Result<(), String>;
}

impl SourceControl for Ingest {
    fn switch_source(&self, name: &str) -> Result<(), String> {
        Ingest::switch_source(self, name).map_err(|err| err.to_string())
    }
}

/// A source that records the switches asked of it and refuses unknown names.
#[derive(Debug, Clone, Default)]
pub struct FakeSource {
    pub known: Vec<String>,
    pub switched: Arc<Mutex<Vec<String>>>,
}

impl SourceControl for FakeSource {
    fn switch_source(&self, name: &str) -> Result<(), String> {
        if !self.known.iter().any(|k| k == name) {
            return Err(format!("no source `{name}` is configured"));
        }
        lock(&self.switched).push(name.to_owned());
        Ok(())
    }
}
