//! The hash chain and its verification.
//!
//! Each row stores `hash`, the SHA-256 (lowercase hex) of the UTF-8 text
//! `prev_hash \n id \n t_ms \n kind \n part \n body`: `prev_hash` is the
//! previous row's `hash` (64 zeros before the first row), numbers are
//! decimal, `part` is empty when NULL, and `body` is the stored JSON text
//! byte for byte. So a row can be checked without this program:
//!
//! ```sh
//! sqlite3 audit.sqlite "SELECT prev_hash||char(10)||id||char(10)||t_ms||char(10)||kind||char(10)||ifnull(part,'')||char(10)||body FROM chain WHERE id=7" | head -c -1 | sha256sum
//! ```
//!
//! After retention has pruned the oldest rows, the first remaining row links
//! to a pruned one; an `anchor` row, itself in the chain, records the id and
//! hash of the last pruned row, so the start is still checked.

use std::fmt;
use std::path::{Path, PathBuf};

use actrec_core::hex;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::time::Timestamp;

/// `prev_hash` of the very first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of one row.
pub fn row_hash(prev_hash: &str, id: i64, t_ms: i64, kind: &str, part: Option<i64>, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(id.to_string().as_bytes());
    h.update(b"\n");
    h.update(t_ms.to_string().as_bytes());
    h.update(b"\n");
    h.update(kind.as_bytes());
    h.update(b"\n");
    if let Some(part) = part {
        h.update(part.to_string().as_bytes());
    }
    h.update(b"\n");
    h.update(body.as_bytes());
    hex::encode(&h.finalize())
}

/// The last row of a chain that verified, and what the chain holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// Id of the last row; 0 for an empty chain.
    pub id: i64,
    /// Its hash; [`GENESIS`] for an empty chain.
    pub hash: String,
    pub kind: String,
    pub time: Timestamp,
    /// Rows in the chain now.
    pub rows: u64,
    /// Id of the first row still present (1 unless retention pruned).
    pub first_id: i64,
    /// Rows pruned by retention over the chain's life, per the last anchor.
    pub pruned: u64,
}

impl ChainHead {
    pub fn empty() -> Self {
        ChainHead {
            id: 0,
            hash: GENESIS.to_owned(),
            kind: String::new(),
            time: Timestamp(0),
            rows: 0,
            first_id: 1,
            pruned: 0,
        }
    }
}

impl fmt::Display for ChainHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rows == 0 {
            return write!(f, "empty chain");
        }
        write!(
            f,
            "{} rows (ids {}..{}), head {} ({} at {}) {}",
            self.rows, self.first_id, self.id, self.id, self.kind, self.time, self.hash
        )?;
        if self.pruned > 0 {
            write!(f, "; {} older rows pruned by retention", self.pruned)?;
        }
        Ok(())
    }
}

/// Where and why the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenRow {
    pub id: i64,
    pub kind: String,
    pub time: Timestamp,
    pub reason: Break,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// The row's content or its hash was changed.
    HashMismatch,
    /// `prev_hash` is not the hash of row `previous`: that row's content and
    /// hash were both changed, or this row's `prev_hash` was.
    NotLinked { previous: i64 },
    /// Rows `from..=to` are gone.
    Missing { from: i64, to: i64 },
    /// The first row is neither the first ever written nor covered by a
    /// retention anchor: rows before it were deleted.
    BadStart,
    /// A column holds something no writer of this log writes.
    Malformed(String),
}

impl fmt::Display for BrokenRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {} ({} at {}): ", self.id, self.kind, self.time)?;
        match &self.reason {
            Break::HashMismatch => write!(f, "its content does not match its hash: the row was changed"),
            Break::NotLinked { previous } => write!(
                f,
                "prev_hash is not the hash of row {previous}: row {previous} was changed and rehashed, or this row's link was"
            ),
            Break::Missing { from, to } if from == to => write!(f, "row {from} before it is missing (deleted)"),
            Break::Missing { from, to } => write!(f, "rows {from} to {to} before it are missing (deleted)"),
            Break::BadStart => write!(
                f,
                "the chain starts here, but no retention anchor records the pruning of the rows before it: they were deleted"
            ),
            Break::Malformed(what) => write!(f, "{what}"),
        }
    }
}

/// Why `verify` failed.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{}: no such file", path.display())]
    NotFound { path: PathBuf },
    #[error("{}: cannot read the audit database: {source}", path.display())]
    Database {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{}: the database file is damaged: {detail}", path.display())]
    Damaged { path: PathBuf, detail: String },
    #[error("{}: {row}", path.display())]
    Broken { path: PathBuf, row: BrokenRow },
}

impl VerifyError {
    /// The message without the database's path.
    pub fn reason(&self) -> String {
        match self {
            VerifyError::NotFound { .. } => "no such file".to_owned(),
            VerifyError::Database { source, .. } => format!("cannot read the audit database: {source}"),
            VerifyError::Damaged { detail, .. } => format!("the database file is damaged: {detail}"),
            VerifyError::Broken { row, .. } => row.to_string(),
        }
    }

    /// The first broken row, when the chain (not the file) is at fault.
    pub fn broken_row(&self) -> Option<&BrokenRow> {
        match self {
            VerifyError::Broken { row, .. } => Some(row),
            _ => None,
        }
    }
}

/// Opens an audit database read-only for checking or exporting. Never
/// creates it; never writes to it.
pub(crate) fn open_read_only(path: &Path) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn)
}

/// Walks the whole chain in one read transaction (a consistent snapshot,
/// even while the engine writes) and returns its head, or the first broken
/// row. Runs SQLite's `quick_check` first.
pub fn verify(path: &Path) -> Result<ChainHead, VerifyError> {
    if !path.exists() {
        return Err(VerifyError::NotFound { path: path.to_owned() });
    }
    let db = |source| VerifyError::Database {
        path: path.to_owned(),
        source,
    };
    let mut conn = open_read_only(path).map_err(db)?;
    let tx = conn.transaction().map_err(db)?;
    let mut problems = Vec::new();
    tx.pragma_query(None, "quick_check", |row| {
        let line: String = row.get(0)?;
        if line != "ok" {
            problems.push(line);
        }
        Ok(())
    })
    .map_err(|source| match source {
        rusqlite::Error::SqliteFailure(e, msg)
            if e.code == rusqlite::ErrorCode::DatabaseCorrupt || e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            VerifyError::Damaged {
                path: path.to_owned(),
                detail: msg.unwrap_or_else(|| e.to_string()),
            }
        }
        other => db(other),
    })?;
    if !problems.is_empty() {
        return Err(VerifyError::Damaged {
            path: path.to_owned(),
            detail: problems.join("; "),
        });
    }
    walk(&tx, path)
}

pub(crate) fn walk(conn: &Connection, path: &Path) -> Result<ChainHead, VerifyError> {
    let db = |source| VerifyError::Database {
        path: path.to_owned(),
        source,
    };
    let broken = |id, kind: &str, t, reason| VerifyError::Broken {
        path: path.to_owned(),
        row: BrokenRow {
            id,
            kind: kind.to_owned(),
            time: Timestamp(t),
            reason,
        },
    };
    let has_chain = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'chain'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map_err(db)?
        > 0;
    if !has_chain {
        return Ok(ChainHead::empty());
    }
    let first: Option<(i64, String, String, i64)> = conn
        .query_row(
            "SELECT id, prev_hash, kind, t_ms FROM chain ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .map_err(db)?;
    let Some((first_id, first_prev, first_kind, first_t)) = first else {
        return Ok(ChainHead::empty());
    };
    // The start: the first row ever written, or one whose predecessor a
    // retention anchor (later in the chain, and checked with it) accounts for.
    if !(first_id == 1 && first_prev == GENESIS) && anchor_for(conn, first_id, &first_prev).map_err(db)?.is_none() {
        return Err(broken(first_id, &first_kind, first_t, Break::BadStart));
    }
    let mut head = ChainHead::empty();
    head.first_id = first_id;
    let mut previous: Option<(i64, String)> = None;
    let mut stmt = conn
        .prepare("SELECT id, t_ms, kind, part, body, prev_hash, hash FROM chain ORDER BY id")
        .map_err(db)?;
    let mut rows = stmt.query([]).map_err(db)?;
    while let Some(row) = rows.next().map_err(db)? {
        let id: i64 = row.get(0).map_err(db)?;
        let t_ms: i64 = row.get(1).map_err(db)?;
        let kind: String = row.get(2).map_err(db)?;
        let part: Option<i64> = row.get(3).map_err(db)?;
        let body: String = row.get(4).map_err(db)?;
        let prev_hash: String = row.get(5).map_err(db)?;
        let hash: String = row.get(6).map_err(db)?;
        if let Some((prev_id, prev_row_hash)) = &previous {
            if id != prev_id + 1 {
                let missing = Break::Missing {
                    from: prev_id + 1,
                    to: id - 1,
                };
                return Err(broken(id, &kind, t_ms, missing));
            }
            if &prev_hash != prev_row_hash {
                return Err(broken(id, &kind, t_ms, Break::NotLinked { previous: *prev_id }));
            }
        }
        if row_hash(&prev_hash, id, t_ms, &kind, part, &body) != hash {
            return Err(broken(id, &kind, t_ms, Break::HashMismatch));
        }
        if kind == "anchor" {
            let anchor: serde_json::Value = serde_json::from_str(&body).map_err(|e| {
                broken(
                    id,
                    &kind,
                    t_ms,
                    Break::Malformed(format!("anchor body is not JSON: {e}")),
                )
            })?;
            head.pruned = anchor["total_pruned_rows"].as_u64().unwrap_or(0);
        }
        previous = Some((id, hash.clone()));
        head.id = id;
        head.hash = hash;
        head.kind = kind;
        head.time = Timestamp(t_ms);
        head.rows += 1;
    }
    Ok(head)
}

/// The id of the anchor row that records `first_id - 1` as the last pruned
/// row, with `prev_hash` as its hash.
fn anchor_for(conn: &Connection, first_id: i64, prev_hash: &str) -> Result<Option<i64>, rusqlite::Error> {
    let mut stmt = conn.prepare("SELECT id, body FROM chain WHERE kind = 'anchor' ORDER BY id DESC")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let body: String = row.get(1)?;
        let Ok(anchor) = serde_json::from_str::<serde_json::Value>(&body) else {
            continue;
        };
        if anchor["last_pruned_id"].as_i64() == Some(first_id - 1)
            && anchor["last_pruned_hash"].as_str() == Some(prev_hash)
        {
            return row.get(0).map(Some);
        }
    }
    Ok(None)
}

/// The last row as stored (not verified), with the row count and the
/// pruned total from the last anchor.
pub(crate) fn walk_head(conn: &Connection) -> Result<ChainHead, rusqlite::Error> {
    let head = conn
        .query_row(
            "SELECT id, hash, kind, t_ms, (SELECT count(*) FROM chain), (SELECT min(id) FROM chain)
             FROM chain ORDER BY id DESC LIMIT 1",
            [],
            |r| {
                Ok(ChainHead {
                    id: r.get(0)?,
                    hash: r.get(1)?,
                    kind: r.get(2)?,
                    time: Timestamp(r.get(3)?),
                    rows: r.get::<_, i64>(4)?.unsigned_abs(),
                    first_id: r.get(5)?,
                    pruned: 0,
                })
            },
        )
        .optional()?;
    let Some(mut head) = head else {
        return Ok(ChainHead::empty());
    };
    let anchor: Option<String> = conn
        .query_row(
            "SELECT body FROM chain WHERE kind = 'anchor' ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    head.pruned = anchor
        .and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok())
        .and_then(|a| a["total_pruned_rows"].as_u64())
        .unwrap_or(0);
    Ok(head)
}
