//! `backend = "auto"` without a loadable ONNX Runtime runs on tract and says
//! why. Its own test binary: the ONNX Runtime library is opened once per process.

mod common;

use std::path::PathBuf;

use actrec_core::config::{InferenceSettings, ModelBackend};
use common::{demo_manifest, demo_model_dir, refusal};

#[test]
fn auto_falls_back_to_tract_and_says_why() {
    let dir = demo_model_dir();
    let manifest = demo_manifest();
    let missing = PathBuf::from("/nonexistent/libonnxruntime.so.1");
    let settings = InferenceSettings {
        backend: ModelBackend::Auto,
        threads: 1,
        onnxruntime_library: Some(missing.clone()),
        ..InferenceSettings::default()
    };
    let loaded = actrec_infer::load(&dir, &manifest, &settings).expect("tract loads");
    assert_eq!(loaded.backend.name(), "tract (CPU, 1 thread)");
    // TensorRT first (no shim here), then ONNX Runtime.
    assert_eq!(loaded.fell_back.len(), 2, "{:?}", loaded.fell_back);
    assert!(loaded.fell_back[0].starts_with("TensorRT: "), "{:?}", loaded.fell_back);
    assert!(
        loaded.fell_back[1].contains("/nonexistent/libonnxruntime.so.1"),
        "{:?}",
        loaded.fell_back
    );

    let err = refusal(&settings, ModelBackend::Onnxruntime);
    assert!(err.to_string().contains("cannot load ONNX Runtime"), "{err}");
}
