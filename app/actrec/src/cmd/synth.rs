//! `actrec synth`: generate a clip of the synthetic assembly station with its ground truth.

use std::path::PathBuf;

use actrec_core::sequence::Definition;
use actrec_synth::clip::{ClipSpec, make};
use actrec_synth::variation::Variation;

use crate::files::{Failure, read_text};

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

pub fn run(args: &Args) -> Result<(), Failure> {
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
    let made = make(&definition, &variation, &spec, &args.out)
        .map_err(|err| Failure::Output(std::io::Error::other(err.to_string())))?;
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
