//! Checks an export folder on any PC: every file against `MANIFEST.json`,
//! files missing or added, every row of `events.jsonl` against its hash and
//! its link, and the database snapshot's own chain against the manifest's
//! head.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::manifest::FORMAT;
use super::{DATABASE, MANIFEST, Manifest, ManifestHead, hash_file};
use crate::chain::row_hash;

/// One thing wrong with an export folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportProblem {
    /// The file's SHA-256 (or size) differs from the manifest's.
    Changed { path: String },
    /// Listed in the manifest, not in the folder.
    Missing { path: String },
    /// In the folder, not in the manifest.
    Extra { path: String },
    /// A row of events.jsonl that is not what the audit chain wrote.
    Row { line: usize, detail: String },
    /// The database snapshot does not verify, or its chain ends elsewhere
    /// than the manifest's head.
    Database { detail: String },
}

impl std::fmt::Display for ExportProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExportProblem::Changed { path } => {
                write!(f, "{path}: content differs from MANIFEST.json (the file was changed)")
            }
            ExportProblem::Missing { path } => write!(f, "{path}: listed in MANIFEST.json but missing"),
            ExportProblem::Extra { path } => write!(f, "{path}: not listed in MANIFEST.json (added later)"),
            ExportProblem::Row { line, detail } => write!(f, "events.jsonl:{line}: {detail}"),
            ExportProblem::Database { detail } => write!(f, "{DATABASE}: {detail}"),
        }
    }
}

/// The result of checking an export folder.
#[derive(Debug, Clone)]
pub struct ExportCheck {
    pub manifest: Manifest,
    /// Files that were hashed.
    pub files: usize,
    /// Every problem, changed files first, in manifest order.
    pub problems: Vec<ExportProblem>,
}

impl ExportCheck {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The first file whose content differs from the manifest.
    pub fn first_mismatch(&self) -> Option<&str> {
        self.problems.iter().find_map(|p| match p {
            ExportProblem::Changed { path } => Some(path.as_str()),
            _ => None,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyExportError {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: not an actrec export manifest: {detail}", path.display())]
    Manifest { path: PathBuf, detail: String },
}

impl VerifyExportError {
    /// The file at fault.
    pub fn path(&self) -> &Path {
        match self {
            VerifyExportError::Read { path, .. } | VerifyExportError::Manifest { path, .. } => path,
        }
    }

    /// The message without the path.
    pub fn reason(&self) -> String {
        match self {
            VerifyExportError::Read { source, .. } => format!("cannot read: {source}"),
            VerifyExportError::Manifest { detail, .. } => format!("not an actrec export manifest: {detail}"),
        }
    }
}

/// Re-hashes every file of an export folder against its `MANIFEST.json`,
/// lists files missing or added, and re-checks the hash of every row in
/// `events.jsonl` and the links between consecutive rows. Needs nothing
/// from the station.
pub fn verify_export(dir: &Path) -> Result<ExportCheck, VerifyExportError> {
    let manifest_path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&manifest_path).map_err(|source| VerifyExportError::Read {
        path: manifest_path.clone(),
        source,
    })?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| VerifyExportError::Manifest {
        path: manifest_path.clone(),
        detail: e.to_string(),
    })?;
    if manifest.format != FORMAT {
        return Err(VerifyExportError::Manifest {
            path: manifest_path,
            detail: format!("format `{}`, expected `{FORMAT}`", manifest.format),
        });
    }
    let mut changed = Vec::new();
    let mut missing = Vec::new();
    let mut files = 0;
    let mut listed = BTreeSet::new();
    for entry in &manifest.files {
        let safe = !entry.path.is_empty()
            && !entry.path.starts_with('/')
            && entry.path.split('/').all(|c| !c.is_empty() && c != "." && c != "..");
        if !safe {
            return Err(VerifyExportError::Manifest {
                path: manifest_path,
                detail: format!("file path `{}` leaves the export folder", entry.path),
            });
        }
        listed.insert(entry.path.clone());
        let path = dir.join(&entry.path);
        match hash_file(&path) {
            Ok((bytes, sha)) => {
                files += 1;
                if bytes != entry.bytes || sha != entry.sha256 {
                    changed.push(ExportProblem::Changed {
                        path: entry.path.clone(),
                    });
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => missing.push(ExportProblem::Missing {
                path: entry.path.clone(),
            }),
            Err(source) => return Err(VerifyExportError::Read { path, source }),
        }
    }
    let mut extra = Vec::new();
    let mut present = Vec::new();
    list_files(dir, "", &mut present).map_err(|source| VerifyExportError::Read {
        path: dir.to_owned(),
        source,
    })?;
    for path in present {
        if path != MANIFEST && !listed.contains(&path) {
            extra.push(ExportProblem::Extra { path });
        }
    }
    let mut problems = changed;
    problems.extend(missing);
    problems.extend(extra);
    if listed.contains("events.jsonl")
        && let Some(problem) = check_rows(&dir.join("events.jsonl"))
    {
        problems.push(problem);
    }
    if listed.contains(DATABASE)
        && let Some(problem) = check_database(&dir.join(DATABASE), &manifest.audit_chain_head)
    {
        problems.push(problem);
    }
    Ok(ExportCheck {
        manifest,
        files,
        problems,
    })
}

/// The snapshot's own chain must verify and end at the manifest's head.
fn check_database(path: &Path, head: &ManifestHead) -> Option<ExportProblem> {
    let detail = match crate::chain::verify(path) {
        Ok(found) if found.id == head.id && found.hash == head.hash => return None,
        Ok(found) => format!(
            "its audit chain ends at row {} ({}), MANIFEST.json says row {} ({})",
            found.id, found.hash, head.id, head.hash
        ),
        Err(err) => err.to_string(),
    };
    Some(ExportProblem::Database { detail })
}

fn list_files(dir: &Path, prefix: &str, out: &mut Vec<String>) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        if entry.file_type()?.is_dir() {
            list_files(&entry.path(), &rel, out)?;
        } else {
            out.push(rel);
        }
    }
    Ok(())
}

#[derive(Deserialize)]
struct EventLine<'a> {
    id: i64,
    t_ms: i64,
    #[serde(borrow)]
    kind: &'a str,
    part: Option<i64>,
    #[serde(borrow)]
    body: &'a RawValue,
    prev_hash: String,
    hash: String,
}

/// The first row of events.jsonl whose hash or link is wrong.
fn check_rows(path: &Path) -> Option<ExportProblem> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            return Some(ExportProblem::Row {
                line: 0,
                detail: format!("cannot read: {e}"),
            });
        }
    };
    let mut previous: Option<(i64, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let problem = |detail: String| Some(ExportProblem::Row { line: i + 1, detail });
        let row: EventLine<'_> = match serde_json::from_str(line) {
            Ok(row) => row,
            Err(e) => return problem(format!("not an audit row: {e}")),
        };
        // A body that was not JSON in the database was exported as a string.
        let body = match serde_json::from_str::<Value>(row.body.get()) {
            Ok(Value::String(s)) => s,
            _ => row.body.get().to_owned(),
        };
        if row_hash(&row.prev_hash, row.id, row.t_ms, row.kind, row.part, &body) != row.hash {
            return problem(format!("row {}: its content does not match its hash", row.id));
        }
        if let Some((prev_id, prev_hash)) = &previous
            && row.id == prev_id + 1
            && &row.prev_hash != prev_hash
        {
            return problem(format!("row {}: does not link to row {prev_id}", row.id));
        }
        previous = Some((row.id, row.hash));
    }
    None
}
