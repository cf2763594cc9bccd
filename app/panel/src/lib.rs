//! actrec-panel: the operator panel of the actrec station, a separate process
//! from the engine (if it crashes or is absent, inspection goes on).
//!
//! [`connection`] keeps the link to the engine's socket, [`video`] reads the
//! engine's video ring, [`model`] holds the panel's own state (pure, tested
//! alone; the engine's events it takes are `actrec_ipc`'s `EngineEvent`),
//! the [`controllers`] put both into the UI (`ui/`, compiled by
//! `build.rs` into [`ui`]), and [`Panel`] ties them together.

pub mod connection;
pub mod controllers;
pub mod model;
mod panel;
pub mod video;

pub use panel::{Panel, PanelError, Settings};

/// The Slint UI, generated from `ui/app-window.slint`.
// The generated code unwraps what Slint guarantees is there; our own code may not.
#[allow(clippy::unwrap_used)]
pub mod ui {
    slint::include_modules!();
}
