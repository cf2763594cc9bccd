//! The writer: one connection that appends rows, commits verdicts durably
//! and prunes by the retention limits.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params};
use serde_json::json;

use crate::chain::{ChainHead, GENESIS, row_hash};
use crate::record::{Kind, PartRecord, Record, canonical_json};
use crate::schema;
use crate::time::Timestamp;

/// A row's id in the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowId(pub i64);

impl std::fmt::Display for RowId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// How much history to keep. Both limits apply; the oldest rows go first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Rows beyond this many bytes of database are pruned, down to 90 % of it.
    pub max_bytes: u64,
    /// Rows older than this are pruned; `None` keeps rows whatever their age.
    pub max_days: Option<u32>,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            max_bytes: 1024 * 1024 * 1024,
            max_days: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub retention: Retention,
    /// How long a write waits for another writer (the CLI recording an
    /// export while the engine runs) before failing.
    pub busy_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            retention: Retention::default(),
            busy_timeout: Duration::from_secs(5),
        }
    }
}

impl Settings {
    /// From the station config's `[audit]` section.
    pub fn from_config(audit: &actrec_core::config::Audit) -> Self {
        Settings {
            retention: Retention {
                max_bytes: u64::from(audit.max_megabytes) * 1024 * 1024,
                max_days: audit.max_days,
            },
            ..Settings::default()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("audit database {}: {source}", path.display())]
    Database {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "audit database {}: schema version {found} is newer than this program's ({known}); refusing to touch it",
        path.display()
    )]
    NewerSchema { path: PathBuf, found: u32, known: u32 },
    #[error("audit database {}: journal mode is `{mode}`; it needs WAL (a file system without shared memory?)", path.display())]
    NoWal { path: PathBuf, mode: String },
    #[error("audit database {}: cannot create its folder: {source}", path.display())]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What one retention pass removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruned {
    pub rows: u64,
    /// The last pruned row.
    pub through: RowId,
    /// The anchor row that records it.
    pub anchor: RowId,
}

/// Fraction of `max_bytes` that a size prune brings the database down to,
/// so that it does not prune again at the next row.
const SIZE_TARGET: f64 = 0.9;

/// The audit log's writer. One per process; several processes may write
/// (each append reads the head inside its write transaction).
///
/// Durability: every row is written in its own transaction before
/// `record` returns (WAL, `synchronous=NORMAL`): it survives a crash of the
/// process. `commit` and `commit_verdict` write with `synchronous=FULL`: they
/// return after the WAL is fsynced, which also makes every row written
/// before them durable. So the rows between two durable commits form the
/// batch that shares one fsync; a power cut or kernel crash can lose at most
/// the rows written since the last durable commit or checkpoint, never one
/// that `commit`/`commit_verdict` reported.
pub struct Audit {
    conn: Connection,
    path: PathBuf,
    settings: Settings,
}

impl Audit {
    /// Opens (creating it and its folder if needed) and migrates the database.
    pub fn open(path: &Path, settings: Settings) -> Result<Audit, Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| Error::Folder {
                path: path.to_owned(),
                source,
            })?;
        }
        let db = |source| Error::Database {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db)?;
        conn.busy_timeout(settings.busy_timeout).map_err(db)?;
        // Before anything else touches the file: a newer program's database
        // is left exactly as it is.
        let found = schema::version(&conn).map_err(db)?;
        if found > schema::LATEST {
            return Err(Error::NewerSchema {
                path: path.to_owned(),
                found,
                known: schema::LATEST,
            });
        }
        // Only takes effect on a database with no table yet: lets retention
        // hand freed pages back to the file system.
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL").map_err(db)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(db)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::NoWal {
                path: path.to_owned(),
                mode,
            });
        }
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(db)?;
        // After a checkpoint the WAL file is cut back to this size.
        conn.pragma_update(None, "journal_size_limit", 8 * 1024 * 1024)
            .map_err(db)?;
        let mut audit = Audit {
            conn,
            path: path.to_owned(),
            settings,
        };
        audit.migrate()?;
        Ok(audit)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn db(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        move |source| Error::Database {
            path: self.path.clone(),
            source,
        }
    }

    fn migrate(&mut self) -> Result<(), Error> {
        let path = self.path.clone();
        let db = |source| Error::Database {
            path: path.clone(),
            source,
        };
        let found = schema::version(&self.conn).map_err(db)?;
        if found == schema::LATEST {
            return Ok(());
        }
        if found > schema::LATEST {
            return Err(Error::NewerSchema {
                path,
                found,
                known: schema::LATEST,
            });
        }
        self.conn.pragma_update(None, "synchronous", "FULL").map_err(db)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        // Another process may have migrated while this one waited.
        let from = schema::version(&tx).map_err(db)?;
        if from < schema::LATEST {
            schema::apply(&tx, from, schema::LATEST).map_err(db)?;
            let body = canonical_json(&json!({
                "from": from,
                "to": schema::LATEST,
                "software": concat!("actrec-audit ", env!("CARGO_PKG_VERSION")),
            }));
            append(&tx, Timestamp::now(), Kind::Schema, None, &body).map_err(db)?;
            tracing::info!(path = %path.display(), from, to = schema::LATEST, "audit schema migrated");
        }
        tx.commit().map_err(db)?;
        self.conn.pragma_update(None, "synchronous", "NORMAL").map_err(db)?;
        Ok(())
    }

    /// Appends a row now, durable against a crash of the process (not yet
    /// against a power cut: see the type's documentation).
    pub fn record(&mut self, record: &Record) -> Result<RowId, Error> {
        self.record_at(Timestamp::now(), record)
    }

    /// [`record`](Self::record) with a given wall-clock time.
    pub fn record_at(&mut self, time: Timestamp, record: &Record) -> Result<RowId, Error> {
        self.write(time, record, false)
    }

    /// Appends a row and returns once it, and every row before it, is on
    /// disk (`synchronous=FULL`: the WAL is fsynced). For faults and operator
    /// actions that must survive a power cut.
    pub fn commit(&mut self, record: &Record) -> Result<RowId, Error> {
        self.write(Timestamp::now(), record, true)
    }

    /// Writes a part's verdict durably. Call it, and wait for `Ok`, before
    /// the reject relay fires. On `Err` the row is not written: the station
    /// has an audit write failure (a fault: red light), and a rejected part
    /// is still rejected.
    pub fn commit_verdict(&mut self, part: &PartRecord) -> Result<RowId, Error> {
        self.commit(&Record::Part(part.clone()))
    }

    /// [`commit`](Self::commit) with a given wall-clock time.
    pub fn commit_at(&mut self, time: Timestamp, record: &Record) -> Result<RowId, Error> {
        self.write(time, record, true)
    }

    fn write(&mut self, time: Timestamp, record: &Record, durable: bool) -> Result<RowId, Error> {
        let body = record.body();
        let part = record.part().map(i64::from);
        let path = self.path.clone();
        let db = |source| Error::Database {
            path: path.clone(),
            source,
        };
        if durable {
            self.conn.pragma_update(None, "synchronous", "FULL").map_err(db)?;
        }
        let result = (|| {
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = append(&tx, time, record.kind(), part, &body)?;
            tx.commit()?;
            Ok(id)
        })();
        if durable {
            // Even when the write failed: later rows go back to batching.
            let restored = self.conn.pragma_update(None, "synchronous", "NORMAL").map_err(db);
            let id = result.map_err(db)?;
            restored?;
            return Ok(id);
        }
        result.map_err(db)
    }

    /// The last row written (not verified: see [`crate::verify`]).
    pub fn head(&self) -> Result<ChainHead, Error> {
        crate::chain::walk_head(&self.conn).map_err(self.db())
    }

    /// Prunes the oldest rows beyond the retention limits, as of `now`, and
    /// appends an anchor that records what went. Returns `None` when nothing
    /// was beyond the limits. The engine calls it at start and then hourly.
    ///
    /// Age: only the oldest run of rows that are all older than the limit
    /// goes, so a row stamped 1970 by a station that booted without a clock
    /// never drags newer rows with it.
    pub fn prune(&mut self, now: Timestamp) -> Result<Option<Pruned>, Error> {
        let path = self.path.clone();
        let db = |source| Error::Database {
            path: path.clone(),
            source,
        };
        let retention = self.settings.retention;
        self.conn.pragma_update(None, "synchronous", "FULL").map_err(db)?;
        let result = self.prune_in_transaction(now, retention);
        let restored = self.conn.pragma_update(None, "synchronous", "NORMAL").map_err(db);
        let pruned = result.map_err(db)?;
        restored?;
        if pruned.is_some() {
            // Hand the freed pages back to the file system.
            // The statement frees pages as it is stepped: run it to the end.
            let mut stmt = self.conn.prepare("PRAGMA incremental_vacuum").map_err(db)?;
            let mut rows = stmt.query([]).map_err(db)?;
            while rows.next().map_err(db)?.is_some() {}
        }
        Ok(pruned)
    }

    fn prune_in_transaction(&mut self, now: Timestamp, retention: Retention) -> rusqlite::Result<Option<Pruned>> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (first, last, count): (Option<i64>, Option<i64>, i64) =
            tx.query_row("SELECT min(id), max(id), count(*) FROM chain", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        let (Some(first), Some(last)) = (first, last) else {
            return Ok(None);
        };
        let mut through = first - 1;
        let mut reasons = Vec::new();
        if let Some(days) = retention.max_days {
            let cutoff = now.0 - i64::from(days) * 86_400_000;
            let first_kept: Option<i64> =
                tx.query_row("SELECT min(id) FROM chain WHERE t_ms >= ?1", [cutoff], |r| r.get(0))?;
            let by_age = first_kept.map_or(last, |id| id - 1);
            if by_age > through {
                through = by_age;
                reasons.push("age");
            }
        }
        let page_size: i64 = tx.pragma_query_value(None, "page_size", |r| r.get(0))?;
        let pages: i64 = tx.pragma_query_value(None, "page_count", |r| r.get(0))?;
        let free: i64 = tx.pragma_query_value(None, "freelist_count", |r| r.get(0))?;
        let used = ((pages - free) * page_size).unsigned_abs();
        if used > retention.max_bytes && count > 0 {
            // Ids are contiguous (only a prefix is ever pruned), so the n
            // oldest rows end at first + n - 1.
            let per_row = used as f64 / count as f64;
            let excess = used as f64 - retention.max_bytes as f64 * SIZE_TARGET;
            let n = ((excess / per_row).ceil() as i64).clamp(1, count);
            let by_size = first + n - 1;
            if by_size > through {
                through = by_size;
            }
            reasons.push("size");
        }
        if through < first {
            return Ok(None);
        }
        let (last_hash, first_t, last_t): (String, i64, i64) = tx.query_row(
            "SELECT hash, (SELECT t_ms FROM chain WHERE id = ?1), t_ms FROM chain WHERE id = ?2",
            [first, through],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let mut kinds = serde_json::Map::new();
        {
            let mut stmt = tx.prepare("SELECT kind, count(*) FROM chain WHERE id <= ?1 GROUP BY kind ORDER BY kind")?;
            let mut rows = stmt.query([through])?;
            while let Some(row) = rows.next()? {
                kinds.insert(row.get(0)?, json!(row.get::<_, i64>(1)?));
            }
        }
        let mut verdicts = serde_json::Map::new();
        {
            let mut stmt = tx.prepare(
                "SELECT ifnull(body ->> '$.verdict', ''), count(*) FROM chain
                 WHERE id <= ?1 AND kind = 'part' AND json_valid(body) GROUP BY 1 ORDER BY 1",
            )?;
            let mut rows = stmt.query([through])?;
            while let Some(row) = rows.next()? {
                verdicts.insert(row.get(0)?, json!(row.get::<_, i64>(1)?));
            }
        }
        let rows = through - first + 1;
        let earlier = last_anchor(&tx)?
            .and_then(|a| a["total_pruned_rows"].as_i64())
            .unwrap_or(0);
        let body = canonical_json(&json!({
            "signed_off_by": concat!("actrec-audit ", env!("CARGO_PKG_VERSION"), " retention"),
            "reason": reasons.join("+"),
            "limits": {"max_bytes": retention.max_bytes, "max_days": retention.max_days},
            "first_pruned_id": first,
            "last_pruned_id": through,
            "last_pruned_hash": last_hash,
            "first_pruned_time": Timestamp(first_t).rfc3339(),
            "last_pruned_time": Timestamp(last_t).rfc3339(),
            "pruned_rows": rows,
            "total_pruned_rows": earlier + rows,
            "kinds": kinds,
            "verdicts": verdicts,
        }));
        // The anchor first: the append trigger wants it after the current head.
        let anchor = append(&tx, now, Kind::Anchor, None, &body)?;
        tx.execute("INSERT INTO retention_permit (one) VALUES (1)", [])?;
        tx.execute("DELETE FROM chain WHERE id <= ?1", [through])?;
        tx.execute("DELETE FROM retention_permit", [])?;
        tx.commit()?;
        tracing::info!(
            rows,
            through,
            anchor = anchor.0,
            reason = reasons.join("+"),
            "audit retention pruned the oldest rows"
        );
        Ok(Some(Pruned {
            rows: rows.unsigned_abs(),
            through: RowId(through),
            anchor,
        }))
    }

    /// How the previous run of the engine ended, from the newest `station`
    /// row: a run that started and never wrote its `stopped` row was cut off
    /// (crash, `kill -9`, power cut, watchdog). Read at start, before this
    /// run's own `started` row.
    pub fn previous_run(&self) -> Result<PreviousRun, Error> {
        let db = self.db();
        let event: Option<Option<String>> = self
            .conn
            .query_row(
                "SELECT body ->> '$.event' FROM chain WHERE kind = 'station' ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(&db)?;
        Ok(match event.flatten().as_deref() {
            None => PreviousRun::None,
            Some("started") => PreviousRun::CutOff {
                last_row: self.head()?.time,
            },
            Some(_) => PreviousRun::Stopped,
        })
    }

    /// Rows after `after`, oldest first, at most `limit`.
    pub fn rows_after(&self, after: RowId, limit: u32) -> Result<Vec<StoredRow>, Error> {
        let db = self.db();
        let mut stmt = self
            .conn
            .prepare("SELECT id, t_ms, kind, part, body, prev_hash, hash FROM chain WHERE id > ?1 ORDER BY id LIMIT ?2")
            .map_err(&db)?;
        let rows = stmt
            .query_map(params![after.0, limit], StoredRow::from_row)
            .map_err(&db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&db)?;
        Ok(rows)
    }

    /// Checkpoints the WAL into the database file and closes it.
    pub fn close(self) -> Result<(), Error> {
        let path = self.path.clone();
        self.conn
            .close()
            .map_err(|(_, source)| Error::Database { path, source })
    }
}

/// How the engine's previous run ended; see [`Audit::previous_run`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviousRun {
    /// No run before this one.
    None,
    /// It wrote its `stopped` row.
    Stopped,
    /// It never did: the outage began at the latest at its last row.
    CutOff { last_row: Timestamp },
}

/// One row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRow {
    pub id: i64,
    pub time: Timestamp,
    pub kind: String,
    pub part: Option<i64>,
    pub body: String,
    pub prev_hash: String,
    pub hash: String,
}

impl StoredRow {
    pub(crate) fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRow> {
        Ok(StoredRow {
            id: r.get(0)?,
            time: Timestamp(r.get(1)?),
            kind: r.get(2)?,
            part: r.get(3)?,
            body: r.get(4)?,
            prev_hash: r.get(5)?,
            hash: r.get(6)?,
        })
    }

    /// Whether the stored hash is the hash of the row's content.
    pub fn hash_ok(&self) -> bool {
        row_hash(&self.prev_hash, self.id, self.time.0, &self.kind, self.part, &self.body) == self.hash
    }
}

/// Appends one row after the current head, inside the caller's write
/// transaction (so the head cannot move under it).
fn append(tx: &Transaction<'_>, time: Timestamp, kind: Kind, part: Option<i64>, body: &str) -> rusqlite::Result<RowId> {
    let head: Option<(i64, String)> = tx
        .query_row("SELECT id, hash FROM chain ORDER BY id DESC LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let (prev_id, prev_hash) = head.unwrap_or((0, GENESIS.to_owned()));
    let id = prev_id + 1;
    let hash = row_hash(&prev_hash, id, time.0, kind.as_str(), part, body);
    tx.execute(
        "INSERT INTO chain (id, t_ms, kind, part, body, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![id, time.0, kind.as_str(), part, body, prev_hash, hash],
    )?;
    Ok(RowId(id))
}

fn last_anchor(conn: &Connection) -> rusqlite::Result<Option<serde_json::Value>> {
    let body: Option<String> = conn
        .query_row(
            "SELECT body FROM chain WHERE kind = 'anchor' ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(body.and_then(|b| serde_json::from_str(&b).ok()))
}

/// Lowercase hex SHA-256 of a file, for [`crate::record::Artifact`].
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(actrec_core::hex::encode(&hasher.finalize()))
}
