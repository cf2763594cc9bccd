//! CPU inference of the demo model per window, beside the preprocessing of
//! the same window (the baseline, same run), on every CPU runtime built in:
//! tract on 1 and 2 threads, and ONNX Runtime on 1 and 2 threads when the
//! `onnxruntime` feature is on and `ORT_DYLIB_PATH` names the library
//! (`make bench` does both). Run with `make bench` or
//! `cargo bench -p actrec-infer`. `ACTREC_BENCH_MODEL=DIR` times another
//! model directory instead of the demo model, e.g. the SlowFast R50 that
//! `tools/bench/export_slowfast_r50.py` exports.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use actrec_core::config::{InferenceSettings, ModelBackend};
use actrec_core::manifest::Manifest;
use actrec_infer::InferenceBackend;
use actrec_preprocess::{Clip, ModelFrame, Windower};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let model_dir =
        std::env::var_os("ACTREC_BENCH_MODEL").map_or_else(|| root.join("config/models/demo"), PathBuf::from);
    let text = std::fs::read_to_string(model_dir.join("manifest.toml")).expect("manifest");
    let manifest = Manifest::parse("manifest.toml", &text).expect("manifest");
    let size = manifest.input.size as usize;
    let frame: Arc<[u8]> = (0..size * size * 3)
        .map(|i| (i * 7 % 251) as u8)
        .collect::<Vec<_>>()
        .into();

    let mut windower = Windower::new(&manifest.input);
    let mut clips = Vec::new();
    let start = Instant::now();
    let frames = ((manifest.input.window_seconds + 2.0) * 30.0) as usize;
    for n in 0..frames {
        clips.extend(
            windower
                .push(ModelFrame {
                    t: n as f64 / 30.0,
                    rgb: Arc::clone(&frame),
                })
                .expect("frame"),
        );
    }
    let preprocess = start.elapsed().as_secs_f64() / clips.len() as f64;

    let mut runs = Vec::new();
    for backend in [ModelBackend::Tract, ModelBackend::Onnxruntime] {
        for threads in [1, 2] {
            let settings = InferenceSettings {
                backend,
                threads,
                ..InferenceSettings::default()
            };
            match actrec_infer::load(&model_dir, &manifest, &settings) {
                Ok(mut loaded) => runs.push((
                    loaded.backend.name().to_owned(),
                    per_window(loaded.backend.as_mut(), &clips),
                )),
                Err(err) => eprintln!("{backend:?}, {threads} thread(s): not measured: {err}"),
            }
        }
    }
    let fastest = runs.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
    println!(
        "windows of {:.2} s at {size}x{size}, model {} {}",
        manifest.input.window_seconds, manifest.name, manifest.version
    );
    println!("| stage, per window | ms | ratio to preprocessing | ratio to the fastest runtime |");
    println!("|---|---:|---:|---:|");
    println!(
        "| preprocessing: sample, normalise, pack (baseline) | {:.2} | 1.00 | |",
        preprocess * 1e3
    );
    for (name, seconds) in &runs {
        println!(
            "| inference, {name} | {:.2} | {:.1} | {:.2} |",
            seconds * 1e3,
            seconds / preprocess,
            seconds / fastest
        );
    }
}

/// Mean time per window, over at least 3 windows and about 5 s.
fn per_window(backend: &mut dyn InferenceBackend, clips: &[Clip]) -> f64 {
    backend.infer(&clips[0]).expect("warm-up");
    let start = Instant::now();
    let mut runs = 0;
    while runs < 3 || start.elapsed().as_secs_f64() < 5.0 {
        black_box(backend.infer(&clips[runs % clips.len()]).expect("inference"));
        runs += 1;
    }
    start.elapsed().as_secs_f64() / runs as f64
}
