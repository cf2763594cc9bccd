//! Schema migrations from an empty file and from every older version.

mod common;

use actrec_audit::chain::row_hash;
use actrec_audit::schema::{LATEST, MIGRATIONS};
use actrec_audit::{Audit, Error, GENESIS, Settings, verify};
use common::*;
use rusqlite::Connection;

fn version(path: &std::path::Path) -> u32 {
    let conn = Connection::open(path).expect("open");
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("version")
}

/// A database as a program at `version` left it, holding two rows when it
/// has a chain at all.
fn at_version(path: &std::path::Path, version: u32) {
    let mut conn = Connection::open(path).expect("open");
    conn.pragma_update(None, "journal_mode", "WAL").expect("wal");
    let tx = conn.transaction().expect("tx");
    for sql in &MIGRATIONS[..version as usize] {
        tx.execute_batch(sql).expect("old migration");
    }
    tx.pragma_update(None, "user_version", version).expect("version");
    if version >= 1 {
        let mut prev = GENESIS.to_owned();
        for (id, body) in [
            (1, r#"{"from":0,"software":"old","to":1}"#),
            (2, r#"{"detail":"x","fault":"no_video","state":"raised"}"#),
        ] {
            let kind = if id == 1 { "schema" } else { "fault" };
            let hash = row_hash(&prev, id, 1_000 * id, kind, None, body);
            tx.execute(
                "INSERT INTO chain (id, t_ms, kind, part, body, prev_hash, hash) VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?6)",
                rusqlite::params![id, 1_000 * id, kind, body, prev, hash],
            )
            .expect("old row");
            prev = hash;
        }
    }
    tx.commit().expect("commit");
}

#[test]
fn an_empty_file_gets_the_latest_schema() {
    let dir = scratch("mig-empty");
    let path = dir.join("audit.sqlite");
    std::fs::write(&path, b"").expect("zero-byte file");
    let audit = Audit::open(&path, Settings::default()).expect("open");
    let head = audit.head().expect("head");
    assert_eq!((head.id, head.kind.as_str()), (1, "schema"));
    let rows = audit.rows_after(actrec_audit::RowId(0), 5).expect("rows");
    assert!(rows[0].body.contains(r#""from":0"#), "{}", rows[0].body);
    assert!(rows[0].body.contains(&format!(r#""to":{LATEST}"#)), "{}", rows[0].body);
    audit.close().expect("close");
    assert_eq!(version(&path), LATEST);
    let conn = Connection::open(&path).expect("open");
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .expect("mode");
    let vacuum: i64 = conn
        .pragma_query_value(None, "auto_vacuum", |r| r.get(0))
        .expect("vacuum");
    assert_eq!((mode.as_str(), vacuum), ("wal", 2));
    drop(conn);
    // Opening again migrates nothing and adds no row.
    let again = Audit::open(&path, Settings::default()).expect("reopen");
    assert_eq!(again.head().expect("head").id, 1);
}

#[test]
fn every_older_version_migrates_and_keeps_its_rows() {
    for from in 0..LATEST {
        let dir = scratch(&format!("mig-{from}"));
        let path = dir.join("audit.sqlite");
        at_version(&path, from);
        let mut audit = Audit::open(&path, Settings::default()).expect("migrates");
        audit.record(&step(1, "spacer")).expect("new row");
        audit.close().expect("close");
        assert_eq!(version(&path), LATEST, "from {from}");
        let head = verify(&path).expect("chain intact after migration");
        let old_rows = if from >= 1 { 2 } else { 0 };
        assert_eq!(
            head.rows,
            old_rows + 2,
            "from {from}: old rows, the schema row, the new row"
        );
        let conn = Connection::open(&path).expect("open");
        let body: String = conn
            .query_row(
                "SELECT body FROM chain WHERE kind = 'schema' ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .expect("schema row");
        assert!(body.contains(&format!(r#""from":{from}"#)), "{body}");
        // The latest schema's views and triggers are there.
        let steps: i64 = conn
            .query_row("SELECT count(*) FROM steps", [], |r| r.get(0))
            .expect("view");
        assert_eq!(steps, 1);
        let update = conn.execute("UPDATE chain SET kind = 'x'", []);
        assert!(update.is_err(), "from {from}: triggers installed");
    }
}

#[test]
fn a_newer_schema_is_refused_and_left_alone() {
    let dir = scratch("mig-newer");
    let path = dir.join("audit.sqlite");
    filled(&path, 1).close().expect("close");
    tamper(&path, &format!("PRAGMA user_version = {};", LATEST + 1));
    let before = sha256_of(&path);
    match Audit::open(&path, Settings::default()) {
        Err(Error::NewerSchema { found, known, .. }) => assert_eq!((found, known), (LATEST + 1, LATEST)),
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
    assert_eq!(sha256_of(&path), before);
}
