//! `actrec-synth`: the synthetic station alone, for machines without GStreamer
//! (training on a GPU host): `cargo build --release -p actrec-synth
//! --no-default-features` gives a binary that writes frames and ground truth,
//! and refuses `clip.mp4` unless built with the `video` feature.

use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "actrec-synth",
    version,
    about = "Generate clips of the synthetic assembly station"
)]
struct Cli {
    #[command(flatten)]
    args: actrec_synth::cli::Args,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match actrec_synth::cli::run(&cli.args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(actrec_synth::cli::CommandError::Input(problems)) => {
            eprintln!("{problems}");
            ExitCode::from(2)
        }
        Err(err) => {
            eprintln!("actrec-synth: {err}");
            ExitCode::from(1)
        }
    }
}
