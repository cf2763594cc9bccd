//! `actrec`: the station engine and its command-line tools, as shipped on
//! the station. The engine is the `actrec-station` library; this binary adds
//! arguments, signals and exit codes. The lab's tools (synthetic clips,
//! eval, bench) are `actrec-lab`, which the station does not install.

mod cmd;
mod signals;

use std::path::PathBuf;
use std::process::ExitCode;

use actrec_station::load::Failure;
use clap::{Parser, Subcommand, ValueEnum};

/// Assembly-step recognition and sequence checking for a quality station.
#[derive(Parser)]
#[command(name = "actrec", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check step predictions offline against a sequence definition.
    ///
    /// Reads one JSON window per line ({"t": 12.0, "label": "spacer", "p": 0.91})
    /// and writes warnings, checked steps and part verdicts. Exits 0 when the
    /// input was read, whatever the verdicts; 2 on malformed input.
    Check(cmd::check::Args),
    /// Run the station engine.
    Run(cmd::run::Args),
    /// Send a command to a running engine.
    Ctl(cmd::ctl::Args),
    /// Hash a supervisor PIN for `[operator] supervisor_pin` in the station config.
    ///
    /// Reads the PIN from standard input (so that it stays out of the shell's
    /// history) and prints the hash.
    HashPin,
    /// Build the TensorRT engine of the configured model for this TensorRT and GPU (Jetson).
    ///
    /// Runs trtexec (FP16 by default; `[model.tensorrt] precision`) into the
    /// engines folder of the data directory, with a timing cache. An engine
    /// with the same key (model hash, TensorRT version, GPU, precision) is
    /// kept, not rebuilt. What actrec-engine-build.service runs.
    BuildEngine(cmd::build_engine::Args),
    /// Check the audit log's hash chain; names the first broken row (exit 2).
    VerifyAudit(cmd::verify_audit::Args),
    /// Export the audit log (CSV, JSON lines, evidence clips, MANIFEST.json) to a folder.
    Export(cmd::export::Args),
    /// Check an export folder against its MANIFEST.json (exit 2 on any difference).
    VerifyExport(cmd::verify_export::Args),
    /// Validate a station config and the model and sequence it names.
    ///
    /// Prints every problem as file:line:column: field: reason and exits 2 if
    /// there is any.
    CheckConfig {
        /// The station config.
        #[arg(env = "ACTREC_CONFIG", default_value = "/etc/actrec/station.toml")]
        file: PathBuf,
    },
    /// Write the manual pages, actrec.1 and one per subcommand, into a folder (for packagers).
    #[command(hide = true)]
    ManPages {
        /// The folder, e.g. usr/share/man/man1 of a package tree.
        out: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Json,
    Text,
}

impl From<Format> for actrec_station::deps::events::Format {
    fn from(format: Format) -> Self {
        match format {
            Format::Json => Self::Json,
            Format::Text => Self::Text,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    actrec_station::logging::init("actrec", "info");
    let result = match cli.command {
        Command::Check(args) => cmd::check::run(&args),
        Command::CheckConfig { file } => cmd::check_config::run(&file),
        Command::Run(args) => cmd::run::run(&args),
        Command::Ctl(args) => cmd::ctl::run(&args),
        Command::HashPin => cmd::hash_pin::run(),
        Command::BuildEngine(args) => cmd::build_engine::run(&args),
        Command::VerifyAudit(args) => cmd::verify_audit::run(&args),
        Command::Export(args) => cmd::export::run(&args),
        Command::VerifyExport(args) => cmd::verify_export::run(&args),
        Command::ManPages { out } => {
            use clap::CommandFactory;
            clap_mangen::generate_to(Cli::command(), out).map_err(Failure::Output)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}
