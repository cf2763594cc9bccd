//! The Rust preprocessing against PyTorch's (tools/train/preprocess.py) on the
//! same frames. The reference tensors were made by
//! `python3 tools/train/golden_preprocess.py tests/fixtures/golden` (torch
//! 2.11) and are committed, so this test needs no PyTorch.

use std::sync::Arc;

use actrec_core::manifest::InputSpec;
use actrec_preprocess::{ModelFrame, Windower};

const FRAMES: &[u8] = include_bytes!("../../../tests/fixtures/golden/frames.u8");
const SLOW: &[u8] = include_bytes!("../../../tests/fixtures/golden/slow.f32");
const FAST: &[u8] = include_bytes!("../../../tests/fixtures/golden/fast.f32");

/// Largest difference allowed after normalisation: the two sides compute
/// (x/255 - mean)/std in a different order of f32 operations.
const TOLERANCE: f32 = 1e-5;

fn floats(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[test]
fn matches_pytorch_on_the_same_frames() {
    let spec = InputSpec::slowfast(16);
    let mut windower = Windower::new(&spec);
    let frame_bytes = 16 * 16 * 3;
    assert_eq!(FRAMES.len(), 30 * frame_bytes);
    let mut clips = Vec::new();
    for (n, rgb) in FRAMES.chunks_exact(frame_bytes).enumerate() {
        clips.extend(
            windower
                .push(ModelFrame {
                    t: n as f64 / 30.0,
                    rgb: Arc::from(rgb),
                })
                .expect("frame"),
        );
    }
    // The window closes when the next frame arrives.
    clips.extend(
        windower
            .push(ModelFrame {
                t: 1.0,
                rgb: Arc::from(&FRAMES[..frame_bytes]),
            })
            .expect("frame"),
    );
    assert_eq!(clips.len(), 1);
    for (name, ours, theirs) in [
        ("slow", &clips[0].slow, floats(SLOW)),
        ("fast", &clips[0].fast, floats(FAST)),
    ] {
        assert_eq!(ours.len(), theirs.len(), "{name} size");
        let worst = ours
            .iter()
            .zip(&theirs)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst <= TOLERANCE, "{name}: largest difference {worst}");
    }
}
