//! Schema migrations: `PRAGMA user_version` counts the ones applied.
//!
//! A migration is appended to [`MIGRATIONS`], never edited once shipped:
//! stations in the field hold databases at every older version. `open`
//! applies the missing ones in order, in one transaction together with a
//! `schema` row in the chain that records the change; a database newer than
//! this program is refused, never downgraded.

use rusqlite::{Connection, Transaction};

/// Version 1 onwards, in order; `MIGRATIONS[i]` takes the schema to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: the chain, the source of truth.
    "CREATE TABLE chain (
        id        INTEGER PRIMARY KEY,
        t_ms      INTEGER NOT NULL,
        kind      TEXT NOT NULL,
        part      INTEGER,
        body      TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash      TEXT NOT NULL
    ) STRICT;",
    // 2: append-only. Rows are never updated; only retention deletes, and
    // only inside its own transaction (it fills `retention_permit` first);
    // new rows go at the end. These stop mistakes, not an attacker with the
    // file (who can drop them): the hashes are what show tampering.
    "CREATE TABLE retention_permit (one INTEGER PRIMARY KEY CHECK (one = 1)) STRICT;
    CREATE TRIGGER chain_no_update BEFORE UPDATE ON chain
    BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
    CREATE TRIGGER chain_no_delete BEFORE DELETE ON chain
    WHEN NOT EXISTS (SELECT 1 FROM retention_permit)
    BEGIN SELECT RAISE(ABORT, 'audit rows are only removed by retention'); END;
    CREATE TRIGGER chain_append_only BEFORE INSERT ON chain
    WHEN NEW.id IS NOT (SELECT ifnull(max(id), 0) + 1 FROM chain)
    BEGIN SELECT RAISE(ABORT, 'audit rows are only appended'); END;",
    // 3: lookups by time (export, retention) and part, and typed views for
    // people reading the database with sqlite3. The views hold no data of
    // their own: everything in them is covered by the chain's hashes.
    "CREATE INDEX chain_time ON chain (t_ms);
    CREATE INDEX chain_part ON chain (part) WHERE part IS NOT NULL;
    CREATE VIEW parts AS SELECT id, t_ms, part,
        body ->> '$.verdict' AS verdict,
        body ->> '$.missing' AS missing,
        body ->> '$.errors' AS errors,
        body ->> '$.clip' AS clip,
        body ->> '$.judged_with.model.name' AS model,
        body ->> '$.judged_with.model.version' AS model_version,
        body ->> '$.judged_with.model.sha256' AS model_sha256,
        body ->> '$.judged_with.config.sha256' AS config_sha256,
        body ->> '$.judged_with.sequence.name' AS sequence,
        body ->> '$.judged_with.sequence.version' AS sequence_version,
        body ->> '$.judged_with.sequence.sha256' AS sequence_sha256,
        hash
        FROM chain WHERE kind = 'part';
    CREATE VIEW steps AS SELECT id, t_ms, part,
        body ->> '$.step' AS step,
        body ->> '$.status' AS status,
        body ->> '$.p' AS p,
        body ->> '$.expected' AS expected,
        hash
        FROM chain WHERE kind = 'step';
    CREATE VIEW faults AS SELECT id, t_ms,
        body ->> '$.fault' AS fault,
        body ->> '$.state' AS state,
        body ->> '$.detail' AS detail,
        hash
        FROM chain WHERE kind = 'fault';",
];

/// The schema version this program writes.
pub const LATEST: u32 = MIGRATIONS.len() as u32;

pub fn version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// Applies migrations `from + 1 ..= to` inside `tx`.
pub fn apply(tx: &Transaction<'_>, from: u32, to: u32) -> rusqlite::Result<()> {
    for version in from + 1..=to {
        tx.execute_batch(MIGRATIONS[version as usize - 1])?;
    }
    tx.pragma_update(None, "user_version", to)
}
