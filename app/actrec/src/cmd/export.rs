//! `actrec export`: the audit log of a time range, with its evidence clips,
//! into a folder on a USB stick (format: the `actrec_audit::export` docs).

use std::io::IsTerminal;
use std::path::PathBuf;

use actrec_audit::{Audit, ExportError, ExportProgress, OperatorAction, OperatorRecord, Record, Settings, Timestamp};
use actrec_core::diag::Problems;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cmd::verify_audit::load_config;
use actrec_station::load::{Failure, file_problem};

#[derive(clap::Args)]
pub struct Args {
    /// The folder to write into, e.g. a USB stick's mount point.
    #[arg(long)]
    to: PathBuf,
    /// Oldest time to export (included); default: the oldest row. Times
    /// are UTC unless they carry an offset: 2026-11-25, 2026-11-25T08:00Z,
    /// 2026-11-25T09:00+01:00.
    #[arg(long, value_parser = parse_time)]
    from: Option<Timestamp>,
    /// Time to export until (excluded); default: now.
    #[arg(long, value_parser = parse_time)]
    until: Option<Timestamp>,
    /// The station config: names the station and the database.
    #[arg(long, env = "ACTREC_CONFIG", default_value = "/etc/actrec/station.toml")]
    config: PathBuf,
}

fn parse_time(text: &str) -> Result<Timestamp, actrec_audit::time::TimeError> {
    Timestamp::parse(text)
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let (config, dir) = load_config(&args.config)?;
    let db = config.audit_path(&dir);
    let mut display = Display::new();
    let result = actrec_station::usb::export(&config, &dir, &args.to, args.from, args.until, |p| display.show(&p));
    display.finish();
    let exported = result.map_err(|err| match err {
        ExportError::Io { .. } | ExportError::Database { .. } => Failure::Output(std::io::Error::other(format!(
            "export to {} failed: {err}; nothing was written there",
            args.to.display()
        ))),
        ExportError::NoDatabase(path) => Failure::Input(Problems(vec![file_problem(&path, "no audit database there")])),
        other => Failure::Input(Problems(vec![file_problem(&args.to, other.to_string())])),
    })?;
    // An export is an operator action: it goes in the log it came from
    // (after the snapshot it exported).
    let recorded = Audit::open(&db, Settings::from_config(&config.audit)).and_then(|mut audit| {
        audit.commit(&Record::Operator(OperatorRecord {
            operator: None,
            action: OperatorAction::Export {
                to: exported.dir.display().to_string(),
                from: exported.from.rfc3339(),
                until: exported.until.rfc3339(),
                rows: exported.rows,
                head_hash: exported.head.hash.clone(),
            },
        }))
    });
    println!(
        "{}: {} rows ({} parts), {} files; audit chain head {} {}",
        exported.dir.display(),
        exported.rows,
        exported.parts,
        exported.files.len(),
        exported.head.id,
        exported.head.hash
    );
    for clip in &exported.missing_clips {
        eprintln!("actrec: evidence clip {clip} is no longer on the station; listed in MANIFEST.json as missing");
    }
    recorded.map_err(|err| {
        Failure::Output(std::io::Error::other(format!(
            "the export is complete, but recording it in the audit log failed: {err}"
        )))
    })?;
    Ok(())
}

/// A progress bar on a terminal, plain lines otherwise (at each quarter).
struct Display {
    bar: Option<ProgressBar>,
    phase: &'static str,
    quarter: u64,
}

impl Display {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| ProgressBar::new(0));
        Display {
            bar,
            phase: "",
            quarter: u64::MAX,
        }
    }

    fn show(&mut self, progress: &ExportProgress) {
        let (phase, done, total, template) = match *progress {
            ExportProgress::Rows { done, total } => ("rows", done, total, "{msg:>6} [{bar:40}] {pos}/{len}"),
            ExportProgress::Clips { done, total } => (
                "clips",
                done,
                total,
                "{msg:>6} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec}",
            ),
            ExportProgress::Syncing => ("sync", 0, 0, "{msg:>6} {spinner}"),
        };
        let new_phase = phase != self.phase;
        self.phase = phase;
        match &self.bar {
            Some(bar) => {
                if new_phase {
                    bar.set_style(
                        ProgressStyle::with_template(template)
                            .unwrap_or_else(|_| ProgressStyle::default_bar())
                            .progress_chars("=> "),
                    );
                    bar.set_message(phase);
                    bar.set_length(total);
                }
                bar.set_position(done);
            }
            None => {
                let quarter = (done * 4).checked_div(total).unwrap_or(4);
                if new_phase || quarter != self.quarter {
                    self.quarter = quarter;
                    match progress {
                        ExportProgress::Rows { .. } => eprintln!("export: rows {done}/{total}"),
                        ExportProgress::Clips { .. } => eprintln!("export: clips {done}/{total} bytes"),
                        ExportProgress::Syncing => eprintln!("export: syncing"),
                    }
                }
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
