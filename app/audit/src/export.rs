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

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use actrec_core::hex;

use crate::chain::{ChainHead, open_read_only, row_hash};
use crate::time::Timestamp;

/// Where an export is, for a progress bar or the panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Rows written to the tables, of those in the range.
    Rows { done: u64, total: u64 },
    /// Bytes of evidence clips copied.
    Clips { done: u64, total: u64 },
    /// Flushing everything to the medium.
    Syncing,
}

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
const FORMAT: &str = "actrec-export 1";
const CSV_NOTE: &str = "UTF-8 with byte-order mark, comma-separated, CRLF, RFC 4180 quoting; times UTC";

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

fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> ExportError + 'a {
    move |source| ExportError::Io {
        action,
        path: path.to_owned(),
        source,
        leftover: None,
    }
}

/// Exports the rows with `from <= time < until` (default: from the oldest
/// row, until now) of the audit database `db` into a new folder in
/// `to_dir`. Clip paths recorded as relative are found under `clips_dir`.
pub fn export(
    db: &Path,
    to_dir: &Path,
    from: Option<Timestamp>,
    until: Option<Timestamp>,
    station_id: &str,
    clips_dir: &Path,
    mut progress: impl FnMut(Progress),
) -> Result<Exported, ExportError> {
    if station_id.is_empty()
        || !station_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ExportError::Station(station_id.to_owned()));
    }
    if !db.is_file() {
        return Err(ExportError::NoDatabase(db.to_owned()));
    }
    let target = std::fs::metadata(to_dir).map_err(io_error("open the export target", to_dir))?;
    if !target.is_dir() {
        return Err(ExportError::NotAFolder(to_dir.to_owned()));
    }
    let dberr = |source| ExportError::Database {
        path: db.to_owned(),
        source,
    };
    let mut conn = open_read_only(db).map_err(dberr)?;
    let tx = conn.transaction().map_err(dberr)?;
    let exported_at = Timestamp::now();
    // The first read fixes the snapshot that every later read sees.
    let head = crate::chain::walk_head(&tx).map_err(dberr)?;
    let until = until.unwrap_or(Timestamp(exported_at.0 + 1));
    let from = match from {
        Some(from) => from,
        None => tx
            .query_row("SELECT min(t_ms) FROM chain WHERE t_ms < ?1", [until.0], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .optional()
            .map_err(dberr)?
            .flatten()
            .map_or(until, Timestamp),
    };
    if from >= until {
        return Err(ExportError::Range { from, until });
    }
    let name = format!("actrec-{station_id}-{}-{}", from.compact(), until.compact());
    let final_dir = to_dir.join(&name);
    if final_dir.symlink_metadata().is_ok() {
        return Err(ExportError::Exists(final_dir));
    }
    let partial = to_dir.join(format!(".{name}.partial-{}", std::process::id()));
    if partial.symlink_metadata().is_ok() {
        // Left by a crashed export of this same process id: never complete.
        std::fs::remove_dir_all(&partial).map_err(io_error("remove the stale partial folder", &partial))?;
    }
    std::fs::create_dir(&partial).map_err(io_error("create the export folder", &partial))?;

    let request = Request {
        station: station_id,
        from,
        until,
        exported_at,
        clips_dir,
        head: &head,
    };
    let written = write_export(tx, &partial, &request, &mut progress)
        .map_err(|e| match e {
            Failure::Io(e) => e,
            Failure::Db(source) => dberr(source),
        })
        .and_then(|written| {
            if final_dir.symlink_metadata().is_ok() {
                return Err(ExportError::Exists(final_dir.clone()));
            }
            std::fs::rename(&partial, &final_dir).map_err(io_error("rename the export folder to", &final_dir))?;
            Ok(written)
        });
    let written = match written {
        Ok(written) => written,
        Err(err) => return Err(discard(err, &partial)),
    };
    if let Err(err) = sync_dir(to_dir).map_err(io_error("sync the export target", to_dir)) {
        // Complete but not known to be on the medium: not an export.
        return Err(discard(err, &final_dir));
    }
    Ok(Exported {
        dir: final_dir,
        from,
        until,
        rows: written.rows,
        parts: written.parts,
        files: written.files,
        head,
        missing_clips: written.missing_clips,
    })
}

/// Removes a folder that must not survive a failed export, noting in the
/// error when it could not be.
fn discard(mut err: ExportError, dir: &Path) -> ExportError {
    if dir.symlink_metadata().is_err() {
        return err;
    }
    if let Err(why) = std::fs::remove_dir_all(dir)
        && let ExportError::Io { leftover, .. } = &mut err
    {
        *leftover = Some((dir.to_owned(), why.to_string()));
    }
    err
}

struct Request<'a> {
    station: &'a str,
    from: Timestamp,
    until: Timestamp,
    exported_at: Timestamp,
    clips_dir: &'a Path,
    head: &'a ChainHead,
}

struct Written {
    rows: u64,
    parts: u64,
    files: Vec<ManifestFile>,
    missing_clips: Vec<String>,
}

enum Failure {
    Io(ExportError),
    Db(rusqlite::Error),
}

impl From<ExportError> for Failure {
    fn from(e: ExportError) -> Self {
        Failure::Io(e)
    }
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        Failure::Db(e)
    }
}

/// A file being written: buffered, hashed on the way, fsynced at the end.
struct Output {
    path: PathBuf,
    name: String,
    writer: BufWriter<File>,
    hasher: Sha256,
    bytes: u64,
}

impl Output {
    fn create(dir: &Path, name: &str) -> Result<Output, ExportError> {
        let path = dir.join(name);
        let file = File::create_new(&path).map_err(io_error("create", &path))?;
        Ok(Output {
            writer: BufWriter::with_capacity(256 * 1024, file),
            path,
            name: name.to_owned(),
            hasher: Sha256::new(),
            bytes: 0,
        })
    }

    fn write(&mut self, data: &[u8]) -> Result<(), ExportError> {
        self.hasher.update(data);
        self.bytes += data.len() as u64;
        self.writer.write_all(data).map_err(io_error("write", &self.path))
    }

    fn finish(self) -> Result<ManifestFile, ExportError> {
        let path = self.path;
        let file = self.writer.into_inner().map_err(|e| ExportError::Io {
            action: "write",
            path: path.clone(),
            source: e.into_error(),
            leftover: None,
        })?;
        file.sync_all().map_err(io_error("sync", &path))?;
        Ok(ManifestFile {
            path: self.name,
            bytes: self.bytes,
            sha256: hex::encode(&self.hasher.finalize()),
        })
    }
}

/// One CSV table.
struct Csv {
    out: Output,
}

impl Csv {
    fn create(dir: &Path, name: &str, header: &[&str]) -> Result<Csv, ExportError> {
        let mut out = Output::create(dir, name)?;
        out.write("\u{feff}".as_bytes())?;
        let mut csv = Csv { out };
        csv.row(header.iter().map(|h| Cell::Text((*h).to_owned())))?;
        Ok(csv)
    }

    fn row(&mut self, cells: impl IntoIterator<Item = Cell>) -> Result<(), ExportError> {
        let mut line = String::new();
        for (i, cell) in cells.into_iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            line.push_str(&cell.render());
        }
        line.push_str("\r\n");
        self.out.write(line.as_bytes())
    }
}

enum Cell {
    /// Written as it is (numbers, times we format ourselves).
    Plain(String),
    /// Free text: guarded against formulas, quoted when needed.
    Text(String),
}

impl Cell {
    fn render(&self) -> String {
        match self {
            Cell::Plain(s) => quote(s),
            Cell::Text(s) => {
                if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                    quote(&format!("'{s}"))
                } else {
                    quote(s)
                }
            }
        }
    }
}

/// RFC 4180: a field holding a comma, quote or line break is enclosed in
/// quotes, with each quote doubled. Leading or trailing spaces too, so no
/// reader trims them.
fn quote(field: &str) -> String {
    if field.contains([',', '"', '\r', '\n']) || field.starts_with(' ') || field.ends_with(' ') {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

fn text(v: &Value) -> Cell {
    Cell::Text(match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    })
}

fn number(v: &Value) -> Cell {
    Cell::Plain(match v {
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    })
}

struct ClipRef {
    recorded: String,
    source: PathBuf,
    /// Relative to the export folder.
    dest: String,
    bytes: Option<u64>,
}

/// The evidence clips referenced by exported parts, each once, with a
/// unique name under `clips/`.
#[derive(Default)]
struct Clips {
    list: Vec<ClipRef>,
    by_recorded: BTreeMap<String, usize>,
    names: BTreeSet<String>,
}

impl Clips {
    /// Notes the clip a part row (`id`) recorded; returns its path in the
    /// export, empty when there is none or it is gone from the station.
    fn reference(&mut self, recorded: &str, id: i64, clips_dir: &Path) -> String {
        if recorded.is_empty() {
            return String::new();
        }
        let index = match self.by_recorded.get(recorded) {
            Some(&i) => i,
            None => {
                let source = if Path::new(recorded).is_absolute() {
                    PathBuf::from(recorded)
                } else {
                    clips_dir.join(recorded)
                };
                let base = Path::new(recorded)
                    .file_name()
                    .map_or_else(|| format!("clip-{id}"), |n| n.to_string_lossy().into_owned());
                let name = if self.names.contains(&base) {
                    format!("{id}-{base}")
                } else {
                    base
                };
                self.names.insert(name.clone());
                let bytes = std::fs::metadata(&source).ok().filter(|m| m.is_file()).map(|m| m.len());
                self.list.push(ClipRef {
                    recorded: recorded.to_owned(),
                    source,
                    dest: format!("clips/{name}"),
                    bytes,
                });
                self.by_recorded.insert(recorded.to_owned(), self.list.len() - 1);
                self.list.len() - 1
            }
        };
        let clip = &self.list[index];
        if clip.bytes.is_some() {
            clip.dest.clone()
        } else {
            String::new()
        }
    }
}

/// Writes everything into `dir`; ends the read transaction `tx` once the
/// rows are out, so the engine's WAL is not held while clips are copied.
fn write_export(
    tx: Transaction<'_>,
    dir: &Path,
    request: &Request<'_>,
    progress: &mut impl FnMut(Progress),
) -> Result<Written, Failure> {
    let range = [request.from.0, request.until.0];
    let total: i64 = tx.query_row(
        "SELECT count(*) FROM chain WHERE t_ms >= ?1 AND t_ms < ?2",
        range,
        |r| r.get(0),
    )?;
    let total = total.unsigned_abs();
    progress(Progress::Rows { done: 0, total });

    let mut events = Output::create(dir, "events.jsonl")?;
    let mut parts = Csv::create(
        dir,
        "parts.csv",
        &[
            "row_id",
            "time_utc",
            "part",
            "verdict",
            "missing_steps",
            "errors",
            "clip",
            "clip_recorded",
            "model",
            "model_version",
            "model_sha256",
            "config",
            "config_sha256",
            "sequence",
            "sequence_version",
            "sequence_sha256",
            "stream_t",
            "row_hash",
        ],
    )?;
    let mut steps = Csv::create(
        dir,
        "steps.csv",
        &[
            "row_id", "time_utc", "part", "step", "status", "p", "expected", "stream_t",
        ],
    )?;
    let mut faults = Csv::create(dir, "faults.csv", &["row_id", "time_utc", "fault", "state", "detail"])?;

    let mut clips = Clips::default();
    let (mut done, mut part_rows) = (0u64, 0u64);
    let (mut first_id, mut last_id) = (None, None);

    let mut stmt = tx.prepare(
        "SELECT id, t_ms, kind, part, body, prev_hash, hash FROM chain WHERE t_ms >= ?1 AND t_ms < ?2 ORDER BY id",
    )?;
    let mut rows = stmt.query(range)?;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let t = Timestamp(row.get(1)?);
        let kind: String = row.get(2)?;
        let part: Option<i64> = row.get(3)?;
        let body: String = row.get(4)?;
        let prev_hash: String = row.get(5)?;
        let hash: String = row.get(6)?;
        first_id.get_or_insert(id);
        last_id = Some(id);

        // The body goes in verbatim (it is the hashed text), or as a string
        // when it is not JSON (a damaged row: exported, never hidden).
        let body_json = match serde_json::from_str::<&RawValue>(&body) {
            Ok(raw) => raw.get().to_owned(),
            Err(_) => Value::String(body.clone()).to_string(),
        };
        let line = format!(
            "{{\"id\":{id},\"time\":\"{}\",\"t_ms\":{},\"kind\":{},\"part\":{},\"body\":{body_json},\"prev_hash\":{},\"hash\":{}}}\n",
            t.rfc3339(),
            t.0,
            Value::String(kind.clone()),
            part.map_or_else(|| "null".to_owned(), |p| p.to_string()),
            Value::String(prev_hash),
            Value::String(hash.clone()),
        );
        events.write(line.as_bytes())?;

        let b: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let time = Cell::Plain(t.spreadsheet());
        let part_cell = Cell::Plain(part.map(|p| p.to_string()).unwrap_or_default());
        match kind.as_str() {
            "part" => {
                part_rows += 1;
                let recorded = b["clip"].as_str().unwrap_or_default().to_owned();
                let dest = clips.reference(&recorded, id, request.clips_dir);
                let jw = &b["judged_with"];
                parts.row([
                    Cell::Plain(id.to_string()),
                    time,
                    part_cell,
                    text(&b["verdict"]),
                    text(&b["missing"]),
                    number(&b["errors"]),
                    Cell::Text(dest),
                    Cell::Text(recorded),
                    text(&jw["model"]["name"]),
                    text(&jw["model"]["version"]),
                    text(&jw["model"]["sha256"]),
                    text(&jw["config"]["name"]),
                    text(&jw["config"]["sha256"]),
                    text(&jw["sequence"]["name"]),
                    text(&jw["sequence"]["version"]),
                    text(&jw["sequence"]["sha256"]),
                    number(&b["stream_t"]),
                    Cell::Plain(hash),
                ])?;
            }
            "step" => steps.row([
                Cell::Plain(id.to_string()),
                time,
                part_cell,
                text(&b["step"]),
                text(&b["status"]),
                number(&b["p"]),
                text(&b["expected"]),
                number(&b["stream_t"]),
            ])?,
            "fault" => faults.row([
                Cell::Plain(id.to_string()),
                time,
                text(&b["fault"]),
                text(&b["state"]),
                text(&b["detail"]),
            ])?,
            _ => {}
        }
        done += 1;
        if done % 512 == 0 {
            progress(Progress::Rows { done, total });
        }
    }
    drop(rows);
    drop(stmt);
    progress(Progress::Rows { done, total });
    let database = snapshot_database(&tx, dir)?;
    tx.rollback()?;

    let mut files = vec![
        events.finish()?,
        parts.out.finish()?,
        steps.out.finish()?,
        faults.out.finish()?,
        database,
    ];

    let clips = clips.list;
    let missing_clips: Vec<String> = clips
        .iter()
        .filter(|c| c.bytes.is_none())
        .map(|c| c.recorded.clone())
        .collect();
    for clip in &missing_clips {
        tracing::debug!(clip = %clip, "evidence clip referenced by the audit log is gone; not exported");
    }
    let clip_total: u64 = clips.iter().filter_map(|c| c.bytes).sum();
    if clips.iter().any(|c| c.bytes.is_some()) {
        let clips_dir = dir.join("clips");
        std::fs::create_dir(&clips_dir).map_err(io_error("create", &clips_dir))?;
        let mut copied = 0u64;
        progress(Progress::Clips {
            done: 0,
            total: clip_total,
        });
        for clip in clips.iter().filter(|c| c.bytes.is_some()) {
            files.push(copy_clip(clip, dir, &mut copied, clip_total, progress)?);
        }
        sync_dir(&clips_dir).map_err(io_error("sync", &clips_dir))?;
    }

    progress(Progress::Syncing);
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        station: request.station.to_owned(),
        from: request.from.rfc3339(),
        until: request.until.rfc3339(),
        exported_at: request.exported_at.rfc3339(),
        software: concat!("actrec-audit ", env!("CARGO_PKG_VERSION")).to_owned(),
        csv: CSV_NOTE.to_owned(),
        rows: ManifestRows {
            count: done,
            first_id,
            last_id,
        },
        audit_chain_head: ManifestHead {
            id: request.head.id,
            hash: request.head.hash.clone(),
            kind: request.head.kind.clone(),
            time: request.head.time.rfc3339(),
        },
        files: files.clone(),
        missing_clips: missing_clips.clone(),
    };
    let mut out = Output::create(dir, MANIFEST)?;
    let mut text = serde_json::to_string_pretty(&manifest).map_err(|e| {
        Failure::Io(ExportError::Io {
            action: "write",
            path: dir.join(MANIFEST),
            source: io::Error::other(e),
            leftover: None,
        })
    })?;
    text.push('\n');
    out.write(text.as_bytes())?;
    out.finish()?;
    sync_dir(dir).map_err(io_error("sync", dir))?;
    Ok(Written {
        rows: done,
        parts: part_rows,
        files,
        missing_clips,
    })
}

/// Copies the database into `dir` as the read transaction `tx` sees it: the
/// backup API in a single step reads every page inside that transaction, so
/// the copy holds exactly the rows the tables were written from, however the
/// engine writes meanwhile. The copy leaves WAL mode, so that it opens on a
/// read-only medium.
fn snapshot_database(tx: &Transaction<'_>, dir: &Path) -> Result<ManifestFile, Failure> {
    let path = dir.join(DATABASE);
    // SQLite's errors here are about the copy (a full or pulled stick), so they name it.
    let copy_failed = |err: rusqlite::Error| io_error("write the database snapshot", &path)(io::Error::other(err));
    let mut copy = rusqlite::Connection::open(&path).map_err(copy_failed)?;
    rusqlite::backup::Backup::new(tx, &mut copy)
        .and_then(|backup| backup.step(-1))
        .and_then(|_| copy.pragma_update_and_check(None, "journal_mode", "DELETE", |_| Ok(())))
        .map_err(copy_failed)?;
    copy.close().map_err(|(_, err)| copy_failed(err))?;
    let file = File::open(&path).map_err(io_error("open", &path))?;
    file.sync_all().map_err(io_error("sync", &path))?;
    let (bytes, sha256) = hash_file(&path).map_err(io_error("read back", &path))?;
    Ok(ManifestFile {
        path: DATABASE.to_owned(),
        bytes,
        sha256,
    })
}

fn copy_clip(
    clip: &ClipRef,
    dir: &Path,
    copied: &mut u64,
    total: u64,
    progress: &mut impl FnMut(Progress),
) -> Result<ManifestFile, ExportError> {
    let mut input = File::open(&clip.source).map_err(io_error("read the evidence clip", &clip.source))?;
    let mut out = Output::create(dir, &clip.dest)?;
    let mut buf = vec![0; 1024 * 1024];
    loop {
        let n = input
            .read(&mut buf)
            .map_err(io_error("read the evidence clip", &clip.source))?;
        if n == 0 {
            break;
        }
        out.write(&buf[..n])?;
        *copied += n as u64;
        progress(Progress::Clips { done: *copied, total });
    }
    out.finish()
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

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

fn hash_file(path: &Path) -> io::Result<(u64, String)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting_and_formula_guard() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("two\r\nlines"), "\"two\r\nlines\"");
        assert_eq!(quote(" padded"), "\" padded\"");
        assert_eq!(
            Cell::Text("=HYPERLINK(\"x\")".into()).render(),
            "\"'=HYPERLINK(\"\"x\"\")\""
        );
        assert_eq!(Cell::Text("-5 dB".into()).render(), "'-5 dB");
        assert_eq!(Cell::Plain("-0.5".into()).render(), "-0.5");
        assert_eq!(Cell::Text("Schraube fügen".into()).render(), "Schraube fügen");
    }
}
