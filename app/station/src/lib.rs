//! actrec-station: the station engine as a library.
//!
//! Data flows one way: source → preprocess → infer → decode steps →
//! sequence → {actuators, audit, outputs, panel, plant}. One entry point,
//! [`run`], takes everything the engine touches as [`Deps`], the run's
//! [`Options`] and a shutdown channel, and returns a [`Summary`]; the
//! `actrec` command line adds only arguments, signals and exit codes.
//!
//! # Module map
//!
//! - [`load`]: a station's files read and checked together (config, model
//!   manifest, sequences; recorded predictions).
//! - [`assemble`]: the real [`Deps`] from a loaded station: GStreamer ingest
//!   and outputs, the model, GPIO, the SQLite audit log, the Unix socket.
//! - [`model_branch`]: source frames → windows → predictions, on its own thread.
//! - [`engine`]: the engine's state and reactions, one job per file
//!   (decisions, sources, faults, operator commands, export, status).
//! - [`deps`]: the seams, one trait each with a fake beside it; [`clock`]
//!   is the time seam.
//! - [`audit_log`]: station events as audit rows; [`report`]: events as
//!   JSON and as an operator's text; [`json_lines`]: prediction and timing files.
//! - [`supervise`]: systemd's notify protocol; [`usb`]: sticks and the
//!   export; [`host`]: facts of this process and host; [`logging`].
//!
//! The loop itself, its threads, channels and lock order: `run.rs`.

pub mod assemble;
pub mod audit_log;
pub mod clock;
pub mod deps;
pub mod engine;
mod error;
pub mod host;
pub mod json_lines;
pub mod load;
pub mod logging;
pub mod model_branch;
mod options;
pub mod report;
mod run;
pub mod supervise;
pub mod usb;

pub use error::StationError;
pub use options::{Options, Predictor, Socket};
pub use run::{Deps, Summary, run};
