//! The station's state as the panel shows it: one snapshot, published by the
//! engine whenever it changes and once a second, so that a panel that
//! connects late (or reconnects after a crash) is whole within a second.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What the big status indicator shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Inspecting; no part judged yet, or a part in progress after a pass.
    #[default]
    Idle,
    Pass,
    /// A part closed incomplete, or steps were out of order and the part is still open.
    Warning,
    Reject,
    NoVideo,
    Fault,
}

/// Where the open part stands in its sequence: the checker's own type,
/// sent as it is.
pub use actrec_core::sequence::Progress;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ExportState {
    Running {
        phase: String,
        done: u64,
        total: u64,
    },
    /// Written and synced: the stick may be pulled.
    Done {
        folder: PathBuf,
        rows: u64,
    },
    Failed {
        error: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    pub to: PathBuf,
    #[serde(flatten)]
    pub state: ExportState,
}

/// A snapshot of the station.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub station: String,
    /// The engine's software version.
    pub software: String,
    /// Model name and version, e.g. "demo-assembly 0.4.0".
    pub model: String,
    /// The inference backend in use, and why it is not the preferred one.
    pub backend: String,
    pub backend_note: Option<String>,
    pub sequence: String,
    /// Sequences the operator may select.
    pub sequences: Vec<String>,
    pub source: String,
    pub sources: Vec<String>,
    pub standing: Standing,
    /// The indicator's big text: "PASS #12", "REJECT #13", "NO VIDEO".
    pub headline: String,
    /// One line under it: what a rejected part lacks, or the fault's cause.
    pub detail: String,
    /// The part open now.
    pub part: Option<u32>,
    pub expected_next: Vec<String>,
    pub progress: Option<Progress>,
    /// Active faults, by name (`no_video`, `inference_stalled`, …).
    pub faults: Vec<String>,
    /// The reject relay holds until a supervisor acknowledges.
    pub reject_waiting: bool,
    /// Frames per second reaching the model, and the display.
    pub fps: f64,
    pub display_fps: f64,
    /// The engine process: CPU % of one core, resident memory.
    pub cpu_percent: f64,
    pub memory_mb: f64,
    /// The GPU, where there is one, e.g. "GR3D 41%"; `None` on CPU-only stations.
    pub gpu: Option<String>,
    /// USB sticks mounted now.
    pub sticks: Vec<PathBuf>,
    pub export: Option<Export>,
    /// The shared-memory video ring, when the engine writes one.
    pub video: Option<PathBuf>,
    pub uptime_seconds: f64,
}
