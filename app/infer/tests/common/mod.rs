//! What the inference tests share: the repository and the demo model.
#![allow(dead_code)] // Each test file uses part of this.

use std::path::PathBuf;

use actrec_core::config::{InferenceSettings, ModelBackend};
use actrec_core::manifest::Manifest;
use actrec_infer::InferError;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn demo_model_dir() -> PathBuf {
    root().join("config/models/demo")
}

pub fn demo_manifest() -> Manifest {
    let text = std::fs::read_to_string(demo_model_dir().join("manifest.toml")).expect("manifest");
    Manifest::parse("manifest.toml", &text).expect("manifest")
}

/// The demo model loaded with `backend` named instead of `settings`' own: a
/// named backend never falls back, so this is its error.
pub fn refusal(settings: &InferenceSettings, backend: ModelBackend) -> InferError {
    let named = InferenceSettings {
        backend,
        ..settings.clone()
    };
    actrec_infer::load(&demo_model_dir(), &demo_manifest(), &named)
        .err()
        .expect("no fallback when named")
}
