//! `actrec-lab`: the station's tools for the lab, not the kiosk. They make
//! synthetic clips of the assembly station, measure the whole station's
//! accuracy on them (`eval`, in this process, through the `actrec-station`
//! library) and its speed and memory (`bench`, each run in a child process
//! of this binary, so that its memory and CPU are its own). The `.deb` and
//! the image do not install it.

mod bench;
mod eval;
mod measure;
mod synth;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Synthetic clips, accuracy and speed of the actrec station.
#[derive(Parser)]
#[command(name = "actrec-lab", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a clip of the synthetic assembly station, with ground truth.
    Synth(synth::Args),
    /// Measure the whole station on generated clips against their ground truth.
    Eval(eval::Args),
    /// Measure the station's speed and memory on a 60 s 1080p30 clip, as the original pipeline was measured.
    ///
    /// Runs the engine four times (decode only, decisions only, annotated
    /// 1080p mp4, and that again at camera speed) and writes bench.json,
    /// bench.md and bench.png to --out.
    Bench(bench::Args),
    /// One measured run of the station, as `bench` starts it in a child process.
    #[command(hide = true)]
    MeasuredRun(measure::RunArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The engine runs inside eval: its info lines would bury the report.
    actrec_station::logging::init("actrec-lab", "warn");
    let result = match cli.command {
        Command::Synth(args) => synth::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::MeasuredRun(args) => measure::measured_run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}
