//! actrec-media: the station's video, in and out, on GStreamer.
//!
//! - [`describe`]: pipeline descriptions from the config (pure, tested as text);
//! - [`ingest`]: runs the source pipeline, delivers model and display frames,
//!   watches for loss, reconnects and switches sources;
//! - [`output`]: runs the output pipeline: overlays, recordings, stream,
//!   shared memory for the panel, preview, evidence clips;
//! - [`event`]: what the media layer tells the engine.

pub mod describe;
pub mod event;
pub mod ingest;
pub mod output;
pub mod priority;

pub use gstreamer as gst;
use gstreamer::prelude::*;

/// Initialises GStreamer once per process.
pub fn init() -> Result<(), MediaError> {
    gst::init().map_err(|err| MediaError::Init(err.to_string()))
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("GStreamer could not start: {0}")]
    Init(String),
    #[error("source `{source_name}`: {message}")]
    Source { source_name: String, message: String },
    #[error("cannot build pipeline `{description}`: {message}")]
    Build { description: String, message: String },
    #[error("output: {0}")]
    Output(String),
}

pub(crate) use actrec_core::sync::lock;

/// An error message as "element: error", naming the element that posted it.
pub(crate) fn error_text(message: &gst::Message, err: &gst::message::Error) -> String {
    let origin = message.src().map(|s| format!("{}: ", s.name())).unwrap_or_default();
    format!("{origin}{}", err.error())
}
