//! `actrec verify-export DIR`: check an export folder (on any PC) against
//! its MANIFEST.json.

use std::path::PathBuf;

use actrec_core::diag::Problems;

use actrec_station::load::{Failure, file_problem};

#[derive(clap::Args)]
pub struct Args {
    /// The export folder (`actrec-<station>-<from>-<until>`).
    dir: PathBuf,
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let check = actrec_audit::verify_export(&args.dir)
        .map_err(|err| Failure::Input(Problems(vec![file_problem(err.path(), err.reason())])))?;
    if !check.is_ok() {
        let problems = check
            .problems
            .iter()
            .map(|p| file_problem(&args.dir, p.to_string()))
            .collect();
        return Err(Failure::Input(Problems(problems)));
    }
    let m = &check.manifest;
    println!(
        "{}: ok: {} files match MANIFEST.json; station {}, {} rows from {} until {}; audit chain head {} {}",
        args.dir.display(),
        check.files,
        m.station,
        m.rows.count,
        m.from,
        m.until,
        m.audit_chain_head.id,
        m.audit_chain_head.hash
    );
    if !m.missing_clips.is_empty() {
        println!(
            "note: {} evidence clip(s) were already gone from the station: {}",
            m.missing_clips.len(),
            m.missing_clips.join(", ")
        );
    }
    Ok(())
}
