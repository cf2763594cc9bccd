//! The CUDA kernel against its CPU reference on whole 1080p windows, NV12
//! and RGBA: within 1e-3 after normalisation. Needs a CUDA GPU: built only
//! with the `cuda-*` features (not in `make test`); it ran on the lent GPU
//! with tools/bench/cuda-preprocess.sh (docs/PERFORMANCE.md).

use actrec_core::manifest::InputSpec;
use actrec_preprocess::gpu::cuda::GpuWindower;
use actrec_preprocess::gpu::{FrameLayout, PixelFormat, WindowPlan, reference_window, test_pattern};

fn check(format: PixelFormat) {
    let spec = InputSpec::slowfast(96);
    let layout = FrameLayout::packed(format, 1920, 1080);
    let frames = test_pattern(&layout, 30);
    let plan = WindowPlan::new(&spec, frames.len());
    let mut gpu = GpuWindower::new(layout, frames.len(), plan.clone()).expect("CUDA is here");
    for (slot, frame) in frames.iter().enumerate() {
        gpu.upload(slot, frame).expect("upload");
    }
    gpu.window(&(0..frames.len()).collect::<Vec<_>>()).expect("kernel");
    let (slow, fast) = gpu.download().expect("download");
    let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    let (want_slow, want_fast) = reference_window(&plan, &layout, &refs);
    let worst = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
    let (ws, wf) = (worst(&slow, &want_slow), worst(&fast, &want_fast));
    println!("{format:?}: largest difference, GPU against CPU: slow {ws:e}, fast {wf:e}");
    assert_eq!((slow.len(), fast.len()), (want_slow.len(), want_fast.len()));
    assert!(ws <= 1e-3 && wf <= 1e-3, "{format:?}: slow {ws}, fast {wf}");
}

#[test]
fn nv12_windows_match_the_cpu_reference() {
    check(PixelFormat::Nv12);
}

#[test]
fn rgba_windows_match_the_cpu_reference() {
    check(PixelFormat::Rgba);
}
