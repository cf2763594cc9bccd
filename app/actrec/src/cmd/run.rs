//! `actrec run`: the station engine (the `actrec-station` library) with
//! the command line's options, stopped by SIGTERM or SIGINT.

use std::path::PathBuf;

use actrec_station::load::{Failure, load_station};
use actrec_station::{Options, Predictor, Socket, StationError, assemble};

use crate::Format;

#[derive(clap::Args)]
pub struct Args {
    /// The station config.
    #[arg(long, env = "ACTREC_CONFIG", default_value = "/etc/actrec/station.toml")]
    config: PathBuf,
    /// Start with this source instead of the one in the config.
    #[arg(long)]
    source: Option<String>,
    /// Serve the panel and `actrec ctl` on this Unix socket instead of the
    /// config's `[operator] socket`.
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Stop after this many seconds.
    #[arg(long)]
    seconds: Option<f64>,
    /// Stop when a file source ends, whatever its pace.
    #[arg(long)]
    exit_on_end: bool,
    /// Replay recorded step predictions (window JSON lines, as `actrec check`
    /// reads them) by station time instead of running the model: the
    /// decisions of an earlier run, or of another model, on this video.
    #[arg(long, value_name = "FILE")]
    windows: Option<PathBuf>,
    /// Events on stdout: JSON lines, or an operator's readable log.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// Also write every window's prediction to FILE (JSON lines, as
    /// `actrec check --windows` and `actrec run --windows` read them).
    #[arg(long, value_name = "FILE")]
    predictions: Option<PathBuf>,
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let station = load_station(&args.config)?;
    let options = Options {
        source: args.source.clone(),
        socket: args.socket.clone().map_or(Socket::Configured, Socket::At),
        seconds: args.seconds,
        exit_on_end: args.exit_on_end,
        predictor: args.windows.clone().map_or(Predictor::Model, Predictor::Replay),
        stdout: Some(args.format.into()),
        predictions: args.predictions.clone(),
        ..Options::default()
    };
    let deps = assemble::deps(&station, &options, Vec::new())?;
    let shutdown = crate::signals::on_stop_signal().map_err(|err| StationError::Path {
        path: "signals".into(),
        message: err.to_string(),
    })?;
    actrec_station::run(deps, &options, shutdown)?;
    Ok(())
}
