//! `actrec-lab synth`: generate a clip of the synthetic assembly station with its ground truth.

pub use actrec_synth::cli::Args;
use actrec_synth::cli::CommandError;

use actrec_station::load::Failure;

pub fn run(args: &Args) -> Result<(), Failure> {
    actrec_synth::cli::run(args).map_err(|err| match err {
        CommandError::Input(problems) => Failure::Input(problems),
        CommandError::Make(err) => Failure::Output(std::io::Error::other(err.to_string())),
    })
}
