//! `actrec ctl`: commands to a running engine over its socket, the same
//! protocol (`actrec-ipc`) as the panel's.

use std::path::PathBuf;
use std::time::Duration;

use actrec_core::diag::Problems;
use actrec_ipc::{Client, Export, ExportState, ToClient, ToEngine};

use actrec_station::load::{Failure, file_problem};

/// How long to wait for the engine's answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

#[derive(clap::Args)]
pub struct Args {
    /// The engine's socket (`[operator] socket` in its config).
    #[arg(long, env = "ACTREC_SOCKET", default_value = "/run/actrec/engine.sock")]
    socket: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Switch the engine to another configured source.
    SwitchSource { source: String },
    /// A supervisor acknowledges a rejected part: the latched relay releases.
    Acknowledge {
        /// The supervisor PIN, where the config sets one.
        #[arg(long, env = "ACTREC_PIN", default_value = "", hide_env_values = true)]
        pin: String,
    },
    /// Export the audit log and evidence clips to a USB stick: DIR, or the
    /// one stick mounted under the configured mount roots. Progress and the
    /// "safe to remove" message come on the engine's event stream.
    Export {
        #[arg(long)]
        to: Option<PathBuf>,
        /// Wait until the export is written and synced (exit 0, the folder
        /// on stdout) or has failed (exit 2), as the USB unit does before it
        /// unmounts the stick.
        #[arg(long)]
        wait: bool,
    },
    /// Check parts against another configured sequence, from the next part.
    SelectSequence { name: String },
    /// Print the engine's status snapshot (JSON).
    Status,
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let command = match &args.command {
        Command::SwitchSource { source } => ToEngine::SwitchSource { source: source.clone() },
        Command::Acknowledge { pin } => ToEngine::Acknowledge { pin: pin.clone() },
        Command::Export { to, .. } => ToEngine::Export { to: to.clone() },
        Command::SelectSequence { name } => ToEngine::SelectSequence { name: name.clone() },
        Command::Status => ToEngine::Sync,
    };
    let problem = |message: String| Failure::Input(Problems(vec![file_problem(&args.socket, message)]));
    let mut client =
        Client::connect(&args.socket, "ctl").map_err(|err| problem(format!("cannot reach the engine: {err}")))?;
    let _ = client.stream().set_read_timeout(Some(ANSWER_WITHIN));
    client
        .send(&command)
        .map_err(|err| problem(format!("cannot send: {err}")))?;
    // The export the engine reported before this one was asked for, if any:
    // `--wait` must not take it for the new one.
    let mut earlier = None;
    loop {
        match client.recv().map_err(|err| problem(format!("no answer: {err}")))? {
            ToClient::Status { status } if !matches!(command, ToEngine::Sync) => earlier = status.export,
            ToClient::Status { status } => {
                let text = serde_json::to_string(&status).map_err(|err| Failure::Output(err.into()))?;
                println!("{text}");
            }
            ToClient::Reply { ok: true, .. } if matches!(args.command, Command::Export { wait: true, .. }) => {
                return wait_for_export(&mut client, earlier).map_err(problem);
            }
            ToClient::Reply { ok: true, .. } => return Ok(()),
            ToClient::Reply { error, .. } => return Err(problem(error.unwrap_or_else(|| "refused".into()))),
            _ => {}
        }
    }
}

/// Follows the engine's status snapshots (on every change and once a
/// second) until the export just started has finished. The engine marks it
/// running before it replies, so a finished state seen after the reply is
/// this export's; `earlier` guards against an engine that did not.
fn wait_for_export(client: &mut Client, earlier: Option<Export>) -> Result<(), String> {
    loop {
        let ToClient::Status { status } = client.recv().map_err(|err| format!("no answer: {err}"))? else {
            continue;
        };
        if status.export == earlier {
            continue;
        }
        match status.export.map(|export| export.state) {
            Some(ExportState::Done { folder, rows }) => {
                println!("{}", folder.display());
                tracing::info!(folder = %folder.display(), rows, "export done: safe to remove");
                return Ok(());
            }
            Some(ExportState::Failed { error }) => return Err(format!("export failed: {error}")),
            Some(ExportState::Running { .. }) | None => {}
        }
    }
}
