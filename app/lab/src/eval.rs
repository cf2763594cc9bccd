//! `actrec-lab eval`: accuracy of the whole station on generated clips.
//!
//! For each seed it renders a clip of the synthetic station (`actrec-lab
//! synth`), runs the real station on it in this process through the
//! `actrec-station` library (GStreamer, preprocessing, the model, decoder
//! and checker, with the station's own config), and compares what it said with
//! the clip's ground truth: every window's label (accuracy, macro-F1,
//! confusion matrix) and every part's verdict (faulty parts passed, good
//! parts rejected).
//!
//! `--rescore` skips the rendering and the engine and runs the decoder and
//! checker (the same code the engine runs) in this process on the
//! predictions an earlier run recorded, so that decoder settings can be
//! swept in seconds: `--min-windows`, `--min-confidence` override the
//! station's.
//!
//! A part counts as passed only when exactly one part closes while it is on
//! the bench (up to 3 s after its last frame) and that part passes; anything
//! else (no verdict, a split part, a reject) counts as rejected, as on the line.

use std::path::{Path, PathBuf};

use actrec_core::inspect::Inspector;
use actrec_core::sequence::Definition;
use actrec_synth::clip::{ClipSpec, make};
use actrec_synth::plan::plan;
use actrec_synth::variation::Variation;
use serde::Serialize;

use actrec_core::config::Outputs;
use actrec_core::event::Verdict;
use actrec_ipc::EngineEvent;
use actrec_station::deps::events::Collect;
use actrec_station::load::{Failure, LoadedStation, load_station, read_text, read_windows};
use actrec_station::{Options, Predictor, Socket};

use crate::measure::{self, ClipRun, fail};

#[derive(clap::Args)]
pub struct Args {
    /// The station whose model, sequence and decoder settings are evaluated.
    #[arg(long, default_value = "config/demo/station.toml")]
    config: PathBuf,
    /// Variation of the generated clips.
    #[arg(long, default_value = "config/synth/default.toml")]
    variation: PathBuf,
    /// First seed; use seeds never used in training (training uses 1000–1063).
    #[arg(long, default_value_t = 20_000)]
    first_seed: u64,
    /// Clips to generate.
    #[arg(long, default_value_t = 10)]
    clips: u32,
    #[arg(long, default_value_t = 3)]
    parts_per_clip: u32,
    #[arg(long, default_value_t = 640)]
    width: usize,
    #[arg(long, default_value_t = 360)]
    height: usize,
    /// Where clips, predictions and the report go.
    #[arg(long, default_value = "target/eval")]
    out: PathBuf,
    /// Decide again from the predictions recorded in OUT by an earlier run,
    /// without rendering or running the engine.
    #[arg(long)]
    rescore: bool,
    /// Override the station's `[decoder] min_windows`.
    #[arg(long)]
    min_windows: Option<u32>,
    /// Override the station's `[decoder] min_confidence`.
    #[arg(long)]
    min_confidence: Option<f64>,
}

#[derive(Debug, Default, Serialize)]
struct Parts {
    total: u32,
    faulty: u32,
    /// Faulty parts that passed: must be zero.
    false_accepts: u32,
    /// Good parts rejected.
    false_rejects: u32,
}

#[derive(Debug, Serialize)]
struct Report {
    clips: u32,
    windows: u64,
    accuracy: f64,
    macro_f1: f64,
    labels: Vec<String>,
    /// Rows: truth; columns: prediction.
    confusion: Vec<Vec<u64>>,
    parts: Parts,
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let mut station = load_station(&args.config)?;
    let decoder = &mut station.config.decoder;
    decoder.min_windows = args.min_windows.unwrap_or(decoder.min_windows);
    decoder.min_confidence = args.min_confidence.unwrap_or(decoder.min_confidence);
    if let Some((field, message)) = decoder.problems().into_iter().next() {
        return Err(fail(&args.config, format!("decoder.{field}: {message}")));
    }
    let variation = Variation::parse(&args.variation.display().to_string(), &read_text(&args.variation)?)?;
    let definition: &Definition = &station.definition;
    let labels = station.manifest.labels.clone();
    let mut confusion = vec![vec![0u64; labels.len()]; labels.len()];
    let mut parts = Parts::default();
    std::fs::create_dir_all(&args.out).map_err(|e| fail(&args.out, format!("cannot create: {e}")))?;

    for k in 0..args.clips {
        let seed = args.first_seed + u64::from(k);
        let dir = measure::absolute(&args.out.join(format!("seed-{seed}")));
        let spec = ClipSpec {
            seed,
            parts: args.parts_per_clip,
            width: args.width,
            height: args.height,
            fps: 30,
            bitrate_kbps: 4000,
            stride: 30,
            raw: false,
            video: true,
        };
        let predictions_path = dir.join("predictions.jsonl");
        let (plan, events) = if args.rescore {
            let plan = plan(definition, &variation, seed, args.parts_per_clip, spec.fps);
            let events = decide_again(&station, &predictions_path)?;
            (plan, events)
        } else {
            let made = make(definition, &variation, &spec, &dir).map_err(|e| fail(&dir, e.to_string()))?;
            (made.plan, run_station(&station, &dir)?)
        };
        let truth = plan.frame_labels();
        for window in read_windows(&predictions_path)? {
            let centre = ((window.t * 30.0).round() as usize + 15).min(truth.len().saturating_sub(1));
            if let (Some(row), Some(col)) = (
                labels.iter().position(|l| l == truth[centre]),
                labels.iter().position(|l| *l == window.label),
            ) {
                confusion[row][col] += 1;
            }
        }
        let closed: Vec<(f64, Verdict)> = events
            .iter()
            .filter_map(|e| match e {
                EngineEvent::Part(part) => Some((part.t, part.verdict)),
                _ => None,
            })
            .collect();
        for part in &plan.parts {
            let (from, to) = (part.start_frame as f64 / 30.0, part.end_frame as f64 / 30.0 + 3.0);
            let verdicts: Vec<Verdict> = closed
                .iter()
                .filter(|(t, _)| (from..=to).contains(t))
                .map(|(_, v)| *v)
                .collect();
            let passed = verdicts == [Verdict::Pass];
            let faulty = part.expected.verdict != Verdict::Pass;
            parts.total += 1;
            parts.faulty += u32::from(faulty);
            parts.false_accepts += u32::from(faulty && passed);
            parts.false_rejects += u32::from(!faulty && !passed);
        }
        println!("seed {seed}: {} parts checked", plan.parts.len());
    }

    let windows: u64 = confusion.iter().flatten().sum();
    let right: u64 = (0..labels.len()).map(|k| confusion[k][k]).sum();
    let f1: Vec<f64> = (0..labels.len())
        .map(|k| {
            let tp = confusion[k][k] as f64;
            let predicted: u64 = confusion.iter().map(|row| row[k]).sum();
            let actual: u64 = confusion[k].iter().sum();
            let (p, r) = (tp / (predicted.max(1) as f64), tp / (actual.max(1) as f64));
            if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
        })
        .collect();
    let report = Report {
        clips: args.clips,
        windows,
        accuracy: right as f64 / windows.max(1) as f64,
        macro_f1: f1.iter().sum::<f64>() / f1.len().max(1) as f64,
        labels,
        confusion,
        parts,
    };
    let path = args.out.join("report.json");
    let json = serde_json::to_string_pretty(&report).map_err(|e| Failure::Output(e.into()))?;
    std::fs::write(&path, json).map_err(|e| fail(&path, format!("cannot write: {e}")))?;
    println!("| windows | accuracy | macro-F1 | parts | faulty | faulty passed | good rejected |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {:.3} | {:.3} | {} | {} | {} | {} |",
        report.windows,
        report.accuracy,
        report.macro_f1,
        report.parts.total,
        report.parts.faulty,
        report.parts.false_accepts,
        report.parts.false_rejects
    );
    println!("report: {}", path.display());
    Ok(())
}

/// Runs the station on `dir/clip.mp4` in this process; returns its events.
fn run_station(station: &LoadedStation, dir: &Path) -> Result<Vec<EngineEvent>, Failure> {
    let run = ClipRun {
        station,
        clip: &dir.join("clip.mp4"),
        dir,
        display: None,
        outputs: Outputs::default(),
        realtime: false,
    };
    let options = Options {
        exit_on_end: true,
        socket: Socket::None,
        predictor: Predictor::Model,
        stdout: None,
        predictions: Some(dir.join("predictions.jsonl")),
        ..Options::default()
    };
    let events = Collect::default();
    let deps = actrec_station::assemble::deps(&run.load()?, &options, vec![Box::new(events.clone())])?;
    actrec_station::run(deps, &options, crossbeam_channel::never())?;
    Ok(events.events())
}

/// The decoder and checker, in this process, on recorded predictions.
fn decide_again(station: &LoadedStation, predictions_path: &Path) -> Result<Vec<EngineEvent>, Failure> {
    let windows = read_windows(predictions_path)?;
    let events = Inspector::new(station.config.decoder.clone(), &station.definition).judge(&windows);
    Ok(events.iter().map(EngineEvent::from).collect())
}
