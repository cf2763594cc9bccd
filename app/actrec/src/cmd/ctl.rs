//! `actrec ctl`: commands to a running engine over its control socket.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use actrec_core::diag::Problems;

use crate::cmd::run::ControlReply;
use crate::files::{Failure, file_problem};

#[derive(clap::Args)]
pub struct Args {
    /// The engine's control socket.
    #[arg(long, default_value = "/run/actrec/control.sock")]
    socket: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Switch the engine to another configured source.
    SwitchSource { source: String },
    /// A supervisor acknowledges a rejected part: the latched relay releases.
    Acknowledge,
    /// Export the audit log and evidence clips to a USB stick: DIR, or the
    /// one stick mounted under the configured mount roots. Progress and the
    /// "safe to remove" message come on the engine's event stream.
    Export {
        #[arg(long)]
        to: Option<PathBuf>,
    },
    /// Print the engine's current source and frame count.
    Status,
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let request = match &args.command {
        Command::SwitchSource { source } => serde_json::json!({"cmd": "switch_source", "source": source}),
        Command::Acknowledge => serde_json::json!({"cmd": "acknowledge"}),
        Command::Export { to } => serde_json::json!({"cmd": "export", "to": to}),
        Command::Status => serde_json::json!({"cmd": "status"}),
    };
    let reply = call(&args.socket, &request.to_string()).map_err(|err| {
        Problems(vec![file_problem(
            &args.socket,
            format!("cannot reach the engine: {err}"),
        )])
    })?;
    println!(
        "{}",
        serde_json::to_string(&reply).map_err(|err| Failure::Output(err.into()))?
    );
    if reply.ok {
        Ok(())
    } else {
        Err(Problems(vec![file_problem(
            &args.socket,
            reply.error.unwrap_or_else(|| "refused".into()),
        )])
        .into())
    }
}

fn call(socket: &Path, request: &str) -> std::io::Result<ControlReply> {
    let mut stream = UnixStream::connect(socket)?;
    writeln!(stream, "{request}")?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line)?;
    serde_json::from_str(&line).map_err(std::io::Error::other)
}
