//! `actrec verify-audit`: walk the audit log's hash chain and name the
//! first broken row.

use std::path::{Path, PathBuf};

use actrec_core::config::StationConfig;
use actrec_core::diag::Problems;

use actrec_station::load::{Failure, file_problem, read_text};

#[derive(clap::Args)]
pub struct Args {
    /// The station config: checks the database at its `audit.path`.
    #[arg(long, env = "ACTREC_CONFIG", default_value = "/etc/actrec/station.toml")]
    config: PathBuf,
    /// Check this database file instead of the config's (a copy taken off
    /// a station, say).
    #[arg(long)]
    db: Option<PathBuf>,
}

/// A station config and the folder its relative paths start from.
pub fn load_config(path: &Path) -> Result<(StationConfig, PathBuf), Failure> {
    let text = read_text(path)?;
    let config = StationConfig::parse(&path.display().to_string(), &text)?;
    let dir = path.parent().unwrap_or(Path::new(".")).to_owned();
    Ok((config, dir))
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let db = match &args.db {
        Some(db) => db.clone(),
        None => {
            let (config, dir) = load_config(&args.config)?;
            config.audit_path(&dir)
        }
    };
    match actrec_audit::verify(&db) {
        Ok(head) => {
            println!("{}: ok: {head}", db.display());
            Ok(())
        }
        Err(err) => Err(Failure::Input(Problems(vec![file_problem(&db, err.reason())]))),
    }
}
