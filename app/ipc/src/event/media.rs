//! What the media layer tells the engine (`actrec-media` sends these). The
//! decision layer turns loss and errors into the fault light; the audit log
//! records every one; the engine passes each on as an [`EngineEvent::Media`].
//!
//! [`EngineEvent::Media`]: super::EngineEvent::Media

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Branch {
    /// Frames for the model.
    Model,
    /// Frames for the annotated outputs.
    Display,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MediaEvent {
    /// A source pipeline was built and set playing.
    SourceStarted {
        source: String,
        pipeline: String,
    },
    /// A live source delivered no frame for the loss timeout, or never started.
    SourceLost {
        source: String,
        reason: String,
    },
    /// Frames flow again after `SourceLost`.
    SourceRestored {
        source: String,
    },
    /// The source pipeline failed (bad file, refused connection, ...).
    SourceError {
        source: String,
        message: String,
    },
    /// A file source reached its end and does not loop.
    SourceEnded {
        source: String,
    },
    SourceSwitched {
        from: String,
        to: String,
    },
    /// Frames the engine could not take in time were dropped.
    FramesDropped {
        source: String,
        branch: Branch,
        count: u64,
        total: u64,
    },
    /// The output pipeline failed; inspection goes on without it.
    OutputError {
        message: String,
    },
    /// An evidence clip of a rejected part was written.
    ClipWritten {
        part: u32,
        path: PathBuf,
    },
    ClipFailed {
        part: u32,
        message: String,
    },
}

impl MediaEvent {
    /// Every `kind` a media event has on the wire.
    pub const KINDS: [&'static str; 10] = [
        "source_started",
        "source_lost",
        "source_restored",
        "source_error",
        "source_ended",
        "source_switched",
        "frames_dropped",
        "output_error",
        "clip_written",
        "clip_failed",
    ];

    /// Its `kind` on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SourceStarted { .. } => "source_started",
            Self::SourceLost { .. } => "source_lost",
            Self::SourceRestored { .. } => "source_restored",
            Self::SourceError { .. } => "source_error",
            Self::SourceEnded { .. } => "source_ended",
            Self::SourceSwitched { .. } => "source_switched",
            Self::FramesDropped { .. } => "frames_dropped",
            Self::OutputError { .. } => "output_error",
            Self::ClipWritten { .. } => "clip_written",
            Self::ClipFailed { .. } => "clip_failed",
        }
    }
}
