//! The export for the quality department: a folder on a USB stick that
//! opens in a spreadsheet and proves its own integrity.
//!
//! `actrec-<station>-<from>-<until>/` (UTC compact stamps) holds:
//! - `parts.csv`, `steps.csv`, `faults.csv`: UTF-8 **with a byte-order mark**
//!   (without it Excel on Windows reads UTF-8 as the local code page and
//!   garbles every non-ASCII character), comma-separated, CRLF line ends,
//!   a header row, RFC 4180 quoting. Times are UTC as `2026-11-25
//!   08:30:00.250`, which spreadsheets take as a date and time. A text cell
//!   that starts with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`, so a
//!   spreadsheet never runs it as a formula (events.jsonl keeps the exact
//!   text). Excel with a locale whose list separator is `;` (German, French)
//!   puts a comma file in one column when double-clicked: open it with
//!   Data > From Text/CSV instead, which detects the comma.
//! - `events.jsonl`: every chain row in the range, one JSON object a line,
//!   with its hashes, so the rows can be re-checked ([`verify_export`]).
//! - `audit.sqlite`: the whole audit database as it was in the snapshot the
//!   tables were read from (SQLite's backup API, never a copy of the live
//!   file), for anyone who wants SQL or `actrec verify-audit` on the full chain.
//! - `clips/`: the evidence clips of the exported parts.
//! - `MANIFEST.json`: the SHA-256 and size of every other file, the range,
//!   and the audit chain's head when the export was read.
//!
//! The database is read in one read transaction: a consistent snapshot,
//! even while the engine writes. The folder is written under a temporary
//! name in the target folder, every file fsynced, then renamed to its final
//! name and the target folder fsynced; on any error the temporary folder is
//! removed, so the final name only ever holds a complete export.
//!
//! One module per job: `writer` takes the snapshot and writes the folder
//! (events.jsonl, the database copy, the temporary name and the rename);
//! `csv` the spreadsheet tables; `clips` finds and copies the evidence
//! clips; `manifest` is `MANIFEST.json`; `verifier` checks a folder
//! against it on any PC.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use actrec_core::hex;

use crate::chain::ChainHead;
use crate::time::Timestamp;

mod clips;
mod csv;
mod manifest;
mod verifier;
mod writer;

pub use manifest::{DATABASE, MANIFEST, Manifest, ManifestFile, ManifestHead, ManifestRows};
pub use verifier::{ExportCheck, ExportProblem, VerifyExportError, verify_export};
pub use writer::export;

/// Where an export is, for a progress bar or the panel (not the sequence's
/// progress, which is `actrec_core::sequence::Progress`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportProgress {
    /// Rows written to the tables, of those in the range.
    Rows { done: u64, total: u64 },
    /// Bytes of evidence clips copied.
    Clips { done: u64, total: u64 },
    /// Flushing everything to the medium.
    Syncing,
}

/// A finished export.
#[derive(Debug, Clone)]
pub struct Exported {
    pub dir: PathBuf,
    pub from: Timestamp,
    pub until: Timestamp,
    pub rows: u64,
    pub parts: u64,
    pub files: Vec<ManifestFile>,
    /// The chain's head in the snapshot that was exported.
    pub head: ChainHead,
    pub missing_clips: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{}: no audit database there", .0.display())]
    NoDatabase(PathBuf),
    #[error("{}: the export target is not a folder", .0.display())]
    NotAFolder(PathBuf),
    #[error("{}: already exists; an export never overwrites one", .0.display())]
    Exists(PathBuf),
    #[error("nothing to export: from {from} is not before until {until}")]
    Range { from: Timestamp, until: Timestamp },
    #[error("station id `{0}` cannot name a folder (letters, digits, `-` and `_` only)")]
    Station(String),
    #[error("audit database {}: {source}", path.display())]
    Database {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot {action} {}: {source}{}", path.display(), leftover_note(leftover))]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
        /// The temporary folder, when it could not be removed.
        leftover: Option<(PathBuf, String)>,
    },
}

fn leftover_note(leftover: &Option<(PathBuf, String)>) -> String {
    match leftover {
        Some((path, why)) => format!(
            " (and the partial folder {} could not be removed: {why})",
            path.display()
        ),
        None => String::new(),
    }
}

pub(super) fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> ExportError + 'a {
    move |source| ExportError::Io {
        action,
        path: path.to_owned(),
        source,
        leftover: None,
    }
}

/// The size and SHA-256 (lowercase hex) of a file.
pub(super) fn hash_file(path: &Path) -> io::Result<(u64, String)> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1024 * 1024];
    let mut bytes = 0;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((bytes, hex::encode(&hasher.finalize())))
}

pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
