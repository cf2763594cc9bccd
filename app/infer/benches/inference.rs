//! CPU inference of the demo model, per one-second window, beside the
//! preprocessing of the same window (the baseline, same run). Run with
//! `make bench` or `cargo bench -p actrec-infer`.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use actrec_core::manifest::Manifest;
use actrec_infer::{InferenceBackend, TractBackend};
use actrec_preprocess::{ModelFrame, Windower};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("config/models/demo/manifest.toml")).expect("manifest");
    let manifest = Manifest::parse("manifest.toml", &text).expect("manifest");
    let mut backend = TractBackend::load(&root.join("config/models/demo"), &manifest).expect("model");
    let size = manifest.input.size as usize;
    let frame: Arc<[u8]> = (0..size * size * 3)
        .map(|i| (i * 7 % 251) as u8)
        .collect::<Vec<_>>()
        .into();

    let rounds = 40;
    let mut windower = Windower::new(&manifest.input);
    let mut clips = Vec::new();
    let start = Instant::now();
    for n in 0..(rounds * 30 + 1) {
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

    backend.infer(&clips[0]).expect("warm-up");
    let start = Instant::now();
    for clip in &clips {
        black_box(backend.infer(clip).expect("inference"));
    }
    let infer = start.elapsed().as_secs_f64() / clips.len() as f64;
    println!(
        "{} windows of 30 frames at {size}x{size}, model {} {}",
        clips.len(),
        manifest.name,
        manifest.version
    );
    println!("| stage, per 1 s window | ms | ratio to preprocessing | share of the 1 s window |");
    println!("|---|---:|---:|---:|");
    println!(
        "| preprocessing: sample, normalise, pack (baseline) | {:.2} | 1.00 | {:.2}% |",
        preprocess * 1e3,
        preprocess * 100.0
    );
    println!(
        "| inference, {} | {:.2} | {:.1} | {:.2}% |",
        backend.name(),
        infer * 1e3,
        infer / preprocess,
        infer * 100.0
    );
}
