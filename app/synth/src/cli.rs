//! The `synth` command, shared by `actrec synth` and the stand-alone
//! `actrec-synth` binary (built without GStreamer for training machines).

use std::path::{Path, PathBuf};

use actrec_core::diag::Problems;
use actrec_core::sequence::Definition;

use crate::clip::{ClipSpec, SynthError, make};
use crate::variation::Variation;

/// Why the command stopped: bad input files (exit 2) or a failure making the clip (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Input(#[from] Problems),
    #[error("{0}")]
    Make(#[from] SynthError),
}

fn read_text(path: &Path) -> Result<String, Problems> {
    std::fs::read_to_string(path).map_err(|err| {
        Problems(vec![actrec_core::diag::Problem {
            origin: path.display().to_string(),
            line: 0,
            column: 0,
            field: String::new(),
            message: format!("cannot read: {err}"),
        }])
    })
}

#[derive(clap::Args)]
pub struct Args {
    /// Seed: the same seed and files give the same clip.
    #[arg(long)]
    seed: u64,
    /// Parts to assemble.
    #[arg(long, default_value_t = 3)]
    parts: u32,
    /// Variation file (config/synth/*.toml).
    #[arg(long, default_value = "config/synth/default.toml")]
    variation: PathBuf,
    /// Sequence the operator follows.
    #[arg(long, default_value = "config/sequences/gear-housing.toml")]
    sequence: PathBuf,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_t = 1920)]
    width: usize,
    #[arg(long, default_value_t = 1080)]
    height: usize,
    #[arg(long, default_value_t = 30)]
    fps: u32,
    /// H.264 bit rate of clip.mp4.
    #[arg(long, default_value_t = 8000)]
    bitrate_kbps: u32,
    /// Hop of truth.windows.jsonl, in frames.
    #[arg(long, default_value_t = 4)]
    stride: u32,
    /// Also write frames.rgb (packed RGB24), for training.
    #[arg(long)]
    raw: bool,
    /// Skip clip.mp4.
    #[arg(long)]
    no_video: bool,
}

pub fn run(args: &Args) -> Result<(), CommandError> {
    let variation = Variation::parse(&args.variation.display().to_string(), &read_text(&args.variation)?)?;
    let definition = Definition::parse(&args.sequence.display().to_string(), &read_text(&args.sequence)?, None)?;
    let spec = ClipSpec {
        seed: args.seed,
        parts: args.parts,
        width: args.width,
        height: args.height,
        fps: args.fps,
        bitrate_kbps: args.bitrate_kbps,
        stride: args.stride,
        raw: args.raw,
        video: !args.no_video,
    };
    let made = make(&definition, &variation, &spec, &args.out)?;
    let faulty = made.plan.parts.iter().filter(|p| p.fault.is_some()).count();
    println!(
        "{}: {} frames ({:.1} s) of {}x{}, {} parts ({} faulty), rendered at {:.0} frames/s, done in {:.1} s",
        args.out.display(),
        made.plan.frames,
        made.plan.frames as f64 / f64::from(args.fps),
        args.width,
        args.height,
        made.plan.parts.len(),
        faulty,
        made.plan.frames as f64 / made.render_seconds.max(1e-9),
        made.total_seconds
    );
    for part in &made.plan.parts {
        let fault = part.fault.as_ref().map_or("good".to_owned(), |f| f.detail.clone());
        println!(
            "  part {}: {} steps, {fault} → {:?}",
            part.part,
            part.steps.len(),
            part.expected.verdict
        );
    }
    Ok(())
}
