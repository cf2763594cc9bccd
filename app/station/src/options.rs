//! How one run of the station differs from what its config says: the
//! command line's choices, and the measuring runs' (`actrec-lab bench`).

use std::path::PathBuf;

use crate::deps::events::Format;

/// Where the per-window predictions come from.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Predictor {
    /// The configured model, on the frames as they come.
    #[default]
    Model,
    /// Recorded predictions (window JSON lines), replayed by station time.
    Replay(PathBuf),
    /// No model: frames are decoded and counted only (a decode-only benchmark).
    DecodeOnly,
}

/// The engine's socket for the panel and tools.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Socket {
    /// `[operator] socket`, or none if the config names none.
    #[default]
    Configured,
    /// Here instead of the config's.
    At(PathBuf),
    /// None, whatever the config says (a measuring run).
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Start with this source instead of the config's.
    pub source: Option<String>,
    /// Where the panel and `actrec ctl` connect.
    pub socket: Socket,
    /// Stop after this many seconds.
    pub seconds: Option<f64>,
    /// Stop when a file source ends, whatever its pace.
    pub exit_on_end: bool,
    pub predictor: Predictor,
    /// Events on stdout, or none (`None`: the caller collects them).
    pub stdout: Option<Format>,
    /// Every window's prediction to this file (JSON lines).
    pub predictions: Option<PathBuf>,
    /// Each window's stage times and decision latency, then the process's
    /// peak memory and CPU time, as JSON lines to this file.
    pub timings: Option<PathBuf>,
    /// Stop after this many model frames (a benchmark's fixed length).
    pub max_frames: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            source: None,
            socket: Socket::Configured,
            seconds: None,
            exit_on_end: false,
            predictor: Predictor::Model,
            stdout: Some(Format::Json),
            predictions: None,
            timings: None,
            max_frames: None,
        }
    }
}
