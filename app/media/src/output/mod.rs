//! The output pipeline: display frames in, annotated video out to every
//! configured place at once (mp4, RTP/RTSP, shared memory, preview), plus the
//! evidence ring that keeps recent encoded video for clips of rejected parts.
//!
//! It runs apart from the ingest pipeline, so switching or losing the source
//! never interrupts a recording or the panel's video. Its failures are
//! reported as events; inspection goes on without it.
//!
//! - [`pipeline`]: the pipeline itself ([`Output`]), frames in, overlays set;
//! - [`overlay`]: what is burned in ([`Annotation`]), as text (pure);
//! - [`evidence`]: the ring of encoded video and the clips cut from it;
//! - [`rtsp`]: the RTSP server fed by the pipeline;
//! - [`panel_ring`]: the panel's video ring fed by the pipeline.

pub mod evidence;
pub mod overlay;
mod panel_ring;
pub mod pipeline;
mod rtsp;

pub use evidence::{ClipSettings, POST_ROLL};
pub use overlay::{Annotation, Standing, StepMark, standing_colour};
pub use pipeline::{Output, OutputConfig};
pub use rtsp::free_udp_port;

/// Seconds since the epoch: names clips, tells rings of two engine runs apart.
fn unix_stamp() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
