//! Writes an export folder: one read transaction fixes the snapshot, the
//! rows go to `events.jsonl` and the tables, the database is copied from
//! the same snapshot, then the clips and the manifest; all under a
//! temporary name, renamed when complete.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, Transaction};
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use actrec_core::hex;

use super::clips::Clips;
use super::csv::{TableRow, Tables};
use super::{
    DATABASE, ExportError, ExportProgress, Exported, Manifest, ManifestFile, ManifestRows, hash_file, io_error,
    sync_dir,
};
use crate::chain::{ChainHead, open_read_only};
use crate::time::Timestamp;

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
    mut progress: impl FnMut(ExportProgress),
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

/// What one export is asked for, fixed before the folder is written.
pub(super) struct Request<'a> {
    pub station: &'a str,
    pub from: Timestamp,
    pub until: Timestamp,
    pub exported_at: Timestamp,
    pub clips_dir: &'a Path,
    pub head: &'a ChainHead,
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
pub(super) struct Output {
    path: PathBuf,
    name: String,
    writer: BufWriter<File>,
    hasher: Sha256,
    bytes: u64,
}

impl Output {
    pub(super) fn create(dir: &Path, name: &str) -> Result<Output, ExportError> {
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

    pub(super) fn write(&mut self, data: &[u8]) -> Result<(), ExportError> {
        self.hasher.update(data);
        self.bytes += data.len() as u64;
        self.writer.write_all(data).map_err(io_error("write", &self.path))
    }

    pub(super) fn finish(self) -> Result<ManifestFile, ExportError> {
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

/// Writes everything into `dir`; ends the read transaction `tx` once the
/// rows are out, so the engine's WAL is not held while clips are copied.
fn write_export(
    tx: Transaction<'_>,
    dir: &Path,
    request: &Request<'_>,
    progress: &mut impl FnMut(ExportProgress),
) -> Result<Written, Failure> {
    let range = [request.from.0, request.until.0];
    let total: i64 = tx.query_row(
        "SELECT count(*) FROM chain WHERE t_ms >= ?1 AND t_ms < ?2",
        range,
        |r| r.get(0),
    )?;
    let total = total.unsigned_abs();
    progress(ExportProgress::Rows { done: 0, total });

    let mut events = Output::create(dir, "events.jsonl")?;
    let mut tables = Tables::create(dir)?;
    let mut clips = Clips::default();
    let mut done = 0u64;
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
        let row = TableRow {
            id,
            t,
            kind: &kind,
            part,
            body: &b,
            hash: &hash,
        };
        tables.row(&row, &mut clips, request.clips_dir)?;
        done += 1;
        if done.is_multiple_of(512) {
            progress(ExportProgress::Rows { done, total });
        }
    }
    drop(rows);
    drop(stmt);
    progress(ExportProgress::Rows { done, total });
    let database = snapshot_database(&tx, dir)?;
    tx.rollback()?;

    let part_rows = tables.part_rows();
    let mut files = vec![events.finish()?];
    files.extend(tables.finish()?);
    files.push(database);
    let clips = clips.copy_into(dir, progress)?;
    files.extend(clips.files);
    let missing_clips = clips.missing;

    progress(ExportProgress::Syncing);
    let rows = ManifestRows {
        count: done,
        first_id,
        last_id,
    };
    Manifest::new(request, rows, &files, &missing_clips).write(dir)?;
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
