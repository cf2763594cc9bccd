//! `MANIFEST.json`: what an export holds (every other file's size and
//! SHA-256), the range, and the audit chain's head when it was read.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::writer::{Output, Request};
use super::{ExportError, io_error};

/// A file listed in `MANIFEST.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Relative to the export folder, `/`-separated.
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// The audit chain's head as recorded in `MANIFEST.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestHead {
    pub id: i64,
    pub hash: String,
    pub kind: String,
    pub time: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestRows {
    pub count: u64,
    pub first_id: Option<i64>,
    pub last_id: Option<i64>,
}

/// `MANIFEST.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub station: String,
    pub from: String,
    pub until: String,
    pub exported_at: String,
    pub software: String,
    pub csv: String,
    pub rows: ManifestRows,
    pub audit_chain_head: ManifestHead,
    pub files: Vec<ManifestFile>,
    /// Clips that parts reference but that were no longer on the station.
    pub missing_clips: Vec<String>,
}

pub const MANIFEST: &str = "MANIFEST.json";
/// The database snapshot in an export folder.
pub const DATABASE: &str = "audit.sqlite";
pub(super) const FORMAT: &str = "actrec-export 1";
pub(super) const CSV_NOTE: &str = "UTF-8 with byte-order mark, comma-separated, CRLF, RFC 4180 quoting; times UTC";

impl Manifest {
    /// The manifest of an export written for `request`: `count` rows from
    /// `first_id` to `last_id`, the `files` written, the clips gone.
    pub(super) fn new(
        request: &Request<'_>,
        rows: ManifestRows,
        files: &[ManifestFile],
        missing_clips: &[String],
    ) -> Manifest {
        Manifest {
            format: FORMAT.to_owned(),
            station: request.station.to_owned(),
            from: request.from.rfc3339(),
            until: request.until.rfc3339(),
            exported_at: request.exported_at.rfc3339(),
            software: concat!("actrec-audit ", env!("CARGO_PKG_VERSION")).to_owned(),
            csv: CSV_NOTE.to_owned(),
            rows,
            audit_chain_head: ManifestHead {
                id: request.head.id,
                hash: request.head.hash.clone(),
                kind: request.head.kind.clone(),
                time: request.head.time.rfc3339(),
            },
            files: files.to_vec(),
            missing_clips: missing_clips.to_vec(),
        }
    }

    /// Writes it as `MANIFEST.json` in `dir`, fsynced.
    pub(super) fn write(&self, dir: &Path) -> Result<(), ExportError> {
        let path = dir.join(MANIFEST);
        let mut out = Output::create(dir, MANIFEST)?;
        let mut text =
            serde_json::to_string_pretty(self).map_err(|e| io_error("write", &path)(std::io::Error::other(e)))?;
        text.push('\n');
        out.write(text.as_bytes())?;
        out.finish()?;
        Ok(())
    }
}
