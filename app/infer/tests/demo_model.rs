//! The committed demo model, run by the CPU backend on a clip of the
//! synthetic station it was never trained on (seed 9000), through the
//! station's own preprocessing: its window labels must match the ground truth.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use actrec_core::sequence::Definition;
use actrec_infer::{Classifier, InferenceBackend, TractBackend};
use actrec_preprocess::{ModelFrame, Windower};
use actrec_synth::plan::plan;
use actrec_synth::render::Frames;
use actrec_synth::variation::Variation;
use common::{demo_manifest, demo_model_dir, root};

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).expect(path)
}

#[test]
fn the_demo_model_recognises_steps_on_unseen_seeds() {
    let manifest = demo_manifest();
    let backend = TractBackend::load(&demo_model_dir(), &manifest, 1).expect("model loads");
    let mut classifier = Classifier::new(Box::new(backend), manifest.labels.clone());
    let mut windower = Windower::new(&manifest.input);

    let definition = Definition::parse("seq", &read("config/sequences/gear-housing.toml"), None).expect("sequence");
    let variation = Variation::parse("default", &read("config/synth/default.toml")).expect("variation");
    let plan = plan(&definition, &variation, 9000, 1, 30);
    let labels = plan.frame_labels();
    // Rendered at 170x96 and centre-cropped to 96x96, as in training.
    let (width, size) = (170usize, 96usize);
    let mut frames = Frames::new(&plan, &variation, width, size, 9000);
    let mut rgb = vec![0u8; width * size * 3];
    let (mut right, mut total) = (0, 0);
    let mut n = 0u64;
    while frames.next_into(&mut rgb) {
        let left = (width - size) / 2;
        let crop: Vec<u8> = rgb
            .chunks_exact(width * 3)
            .flat_map(|row| row[left * 3..(left + size) * 3].iter().copied())
            .collect();
        for clip in windower
            .push(ModelFrame {
                t: n as f64 / 30.0,
                rgb: Arc::from(crop),
            })
            .expect("frame")
        {
            let window = classifier.classify(&clip).expect("inference");
            let centre = ((clip.t * 30.0).round() as usize + 15).min(labels.len() - 1);
            right += usize::from(window.label == labels[centre]);
            total += 1;
        }
        n += 1;
    }
    let accuracy = right as f64 / total as f64;
    eprintln!("window accuracy {accuracy:.3} over {total} windows");
    assert!(total > 40);
    assert!(accuracy >= 0.9, "window accuracy {accuracy:.3} over {total} windows");
}

#[test]
fn a_model_that_differs_from_its_manifest_is_refused() {
    let mut manifest = demo_manifest();
    manifest.input.fast_frames = 16;
    let err = TractBackend::load(&demo_model_dir(), &manifest, 1)
        .err()
        .expect("refused");
    assert!(err.to_string().contains("does not match its manifest"), "{err}");

    let mut manifest = demo_manifest();
    manifest.labels.pop();
    let err = TractBackend::load(&demo_model_dir(), &manifest, 1)
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("gives 9 scores; the manifest has 8 labels"),
        "{err}"
    );

    let mut manifest = demo_manifest();
    manifest.input.slow_input = "slowpath".into();
    let err = TractBackend::load(&demo_model_dir(), &manifest, 1)
        .err()
        .expect("refused");
    assert!(
        err.to_string()
            .contains("input `slow` is neither `slowpath` nor `fast`"),
        "{err}"
    );

    let mut manifest = demo_manifest();
    manifest.file = Some("missing.onnx".into());
    let err = TractBackend::load(&demo_model_dir(), &manifest, 1)
        .err()
        .expect("refused");
    assert!(err.to_string().contains("missing.onnx: cannot load the model"), "{err}");
}

#[test]
fn the_backend_names_itself() {
    let manifest = demo_manifest();
    let backend = TractBackend::load(&demo_model_dir(), &manifest, 1).expect("model loads");
    assert_eq!(backend.name(), "tract (CPU, 1 thread)");
    let backend = TractBackend::load(&demo_model_dir(), &manifest, 2).expect("model loads");
    assert_eq!(backend.name(), "tract (CPU, 2 threads)");
}

/// Windows of a rendered clip, through the station's preprocessing.
fn clips(seed: u64, count: usize) -> Vec<actrec_preprocess::Clip> {
    let manifest = demo_manifest();
    let definition = Definition::parse("seq", &read("config/sequences/gear-housing.toml"), None).expect("sequence");
    let variation = Variation::parse("default", &read("config/synth/default.toml")).expect("variation");
    let plan = plan(&definition, &variation, seed, 1, 30);
    let size = manifest.input.size as usize;
    let mut frames = Frames::new(&plan, &variation, size, size, seed);
    let mut windower = Windower::new(&manifest.input);
    let mut rgb = vec![0u8; size * size * 3];
    let mut out = Vec::new();
    let mut n = 0u64;
    while out.len() < count && frames.next_into(&mut rgb) {
        out.extend(
            windower
                .push(ModelFrame {
                    t: n as f64 / 30.0,
                    rgb: Arc::from(rgb.as_slice()),
                })
                .expect("frame"),
        );
        n += 1;
    }
    out
}

fn max_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn tract_on_two_threads_gives_the_same_logits() {
    let manifest = demo_manifest();
    let dir = demo_model_dir();
    let mut one = TractBackend::load(&dir, &manifest, 1).expect("model loads");
    let mut two = TractBackend::load(&dir, &manifest, 2).expect("model loads");
    for clip in clips(9001, 12) {
        let (a, b) = (
            one.infer(&clip).expect("1 thread"),
            two.infer(&clip).expect("2 threads"),
        );
        assert!(max_difference(&a, &b) < 1e-4, "{a:?} vs {b:?}");
    }
}

/// Needs `ORT_DYLIB_PATH` (`make test` fetches the onnxruntime wheel from
/// PyPI and sets it); without it this test fails and says so.
#[cfg(feature = "onnxruntime")]
#[test]
fn onnx_runtime_agrees_with_tract_and_checks_the_demo_manifest() {
    use actrec_infer::OnnxRuntimeBackend;
    let library = std::env::var_os("ORT_DYLIB_PATH").expect(
        "ORT_DYLIB_PATH must name libonnxruntime.so.1.* for this test; `make test` sets it (see docs/TESTING.md)",
    );
    let library = PathBuf::from(library);
    let manifest = demo_manifest();
    let dir = demo_model_dir();
    let mut tract = TractBackend::load(&dir, &manifest, 1).expect("tract loads");
    let mut ort = OnnxRuntimeBackend::load(&dir, &manifest, 1, Some(&library)).expect("ONNX Runtime loads");
    assert_eq!(ort.name(), "ONNX Runtime (CPU, 1 thread)");
    // Both pathways' first convolutions run as 2D convolutions over the
    // frames (the rewrite ONNX Runtime gets), and still agree with tract.
    assert_eq!(ort.convolutions_as_2d(), 2);
    let mut worst = 0.0f32;
    for clip in clips(9002, 12) {
        let (a, b) = (tract.infer(&clip).expect("tract"), ort.infer(&clip).expect("ort"));
        worst = worst.max(max_difference(&a, &b));
    }
    eprintln!("largest logit difference, tract vs ONNX Runtime: {worst:e}");
    assert!(worst < 1e-3, "tract and ONNX Runtime differ by {worst}");

    let mut wrong = manifest.clone();
    wrong.input.fast_frames = 16;
    let err = OnnxRuntimeBackend::load(&dir, &wrong, 1, Some(&library))
        .err()
        .expect("refused");
    assert!(err.to_string().contains("does not match its manifest"), "{err}");
}
