//! Where logs go: journald when systemd started us with its journal on
//! stderr (`JOURNAL_STREAM` names it), readable lines on stderr otherwise.
//! `RUST_LOG` filters both (default: the caller's); colour only on a terminal.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// `identifier`: the program's name in the journal.
pub fn init(identifier: &str, default_filter: &str) {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| default_filter.into());
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        match tracing_journald::layer() {
            Ok(journald) => {
                // Structured fields (part, step, source) become journal fields: `journalctl -u actrec PART=3`.
                let journald = journald
                    .with_syslog_identifier(identifier.into())
                    .with_field_prefix(None);
                tracing_subscriber::registry().with(filter()).with(journald).init();
                return;
            }
            Err(err) => eprintln!("{identifier}: journald unavailable ({err}); logging to stderr"),
        }
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // No colour codes in log files (`actrec bench` and `eval` keep the engine's).
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(filter())
        .init();
}
