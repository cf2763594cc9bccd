//! actrec-synth: the synthetic assembly station.
//!
//! Nothing can be downloaded and no assembly data set exists here, so the
//! project makes its own: a top-down workbench where an operator's hand builds
//! parts step by step, some of them with a fault, rendered deterministically
//! from a seed and a variation file, with the label of every frame and the
//! verdict every part must get.
//!
//! - [`variation`]: the knobs (config/synth/*.toml);
//! - [`plan`]: parts, steps, faults, timing, expected verdicts (pure);
//! - [`render`]: frames from the plan;
//! - [`clip`]: the whole command: H.264 mp4, raw frames, ground truth.

pub mod cli;
pub mod clip;
pub mod plan;
pub mod render;
pub mod rng;
pub mod variation;
