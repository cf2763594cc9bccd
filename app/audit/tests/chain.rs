//! Tamper evidence: every kind of change to the chain is found and named.

mod common;

use actrec_audit::{
    Audit, Break, GENESIS, Kind, OperatorAction, OperatorRecord, Record, RowId, Settings, Timestamp, VerifyError,
    verify,
};
use actrec_core::event::Verdict;
use common::*;
use sha2::{Digest, Sha256};

fn broken(path: &std::path::Path) -> actrec_audit::BrokenRow {
    match verify(path) {
        Err(VerifyError::Broken { row, .. }) => row,
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[test]
fn a_fresh_log_verifies_and_reports_its_head() {
    let dir = scratch("fresh");
    let path = dir.join("audit.sqlite");
    let audit = filled(&path, 4);
    let head = audit.head().expect("head");
    audit.close().expect("close");
    let verified = verify(&path).expect("intact");
    // 1 schema row + 4 parts of 3 steps and a verdict.
    assert_eq!(verified.rows, 17);
    assert_eq!((verified.first_id, verified.id), (1, 17));
    assert_eq!(verified.kind, "part");
    assert_eq!(verified, head);
    assert_ne!(verified.hash, GENESIS);
}

#[test]
fn rows_are_stored_as_documented() {
    let dir = scratch("documented");
    let path = dir.join("audit.sqlite");
    let mut audit = Audit::open(&path, Settings::default()).expect("open");
    let t = Timestamp::parse("2026-11-25T08:30:00Z").expect("time");
    let id = audit.record_at(t, &step(7, "spacer")).expect("step");
    let ack = Record::Operator(OperatorRecord {
        operator: Some("lead".into()),
        action: OperatorAction::Acknowledge { part: Some(7) },
    });
    audit.commit(&ack).expect("ack");
    let rows = audit.rows_after(RowId(0), 10).expect("rows");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].kind, "schema");
    assert_eq!(rows[0].prev_hash, GENESIS);
    let row = &rows[1];
    assert_eq!(
        (RowId(row.id), row.time, row.kind.as_str(), row.part),
        (id, t, "step", Some(7))
    );
    assert_eq!(
        row.body,
        r#"{"expected":[],"p":0.875,"part":7,"status":"ok","step":"spacer","stream_t":421.5}"#
    );
    // The formula in the crate's documentation, computed independently.
    let text = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        row.prev_hash, row.id, row.time.0, row.kind, 7, row.body
    );
    let digest: String = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(digest, row.hash);
    assert_eq!(rows[1].prev_hash, rows[0].hash);
    assert_eq!(rows[2].part, Some(7));
    assert!(rows[2].body.contains(r#""action":"acknowledge""#));
    assert!(rows.iter().all(|r| r.hash_ok()));
    for kind in Kind::ALL {
        assert_eq!(Kind::parse(kind.as_str()), Some(kind));
    }
}

#[test]
fn the_views_read_the_chain() {
    let dir = scratch("views");
    let path = dir.join("audit.sqlite");
    let mut audit = filled(&path, 3);
    audit.record(&fault("camera unplugged")).expect("fault");
    audit.close().expect("close");
    let conn = rusqlite::Connection::open(&path).expect("open");
    let (verdict, missing, model_version): (String, String, String) = conn
        .query_row(
            "SELECT verdict, missing, model_version FROM parts WHERE part = 3",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("part 3");
    assert_eq!(verdict, "reject");
    assert_eq!(missing, r#"["greased_disk","spacer"]"#);
    assert_eq!(model_version, "0.3.0");
    let steps: i64 = conn
        .query_row("SELECT count(*) FROM steps WHERE status = 'ok'", [], |r| r.get(0))
        .expect("steps");
    assert_eq!(steps, 9);
    let detail: String = conn
        .query_row("SELECT detail FROM faults", [], |r| r.get(0))
        .expect("fault");
    assert_eq!(detail, "camera unplugged");
}

#[test]
fn the_log_refuses_updates_and_deletes() {
    let dir = scratch("append-only");
    let path = dir.join("audit.sqlite");
    filled(&path, 2).close().expect("close");
    let conn = rusqlite::Connection::open(&path).expect("open");
    let update = conn.execute("UPDATE chain SET body = '{}' WHERE id = 3", []);
    assert!(format!("{update:?}").contains("append-only"), "{update:?}");
    let delete = conn.execute("DELETE FROM chain WHERE id = 3", []);
    assert!(
        format!("{delete:?}").contains("only removed by retention"),
        "{delete:?}"
    );
    let insert = conn.execute(
        "INSERT INTO chain (id, t_ms, kind, body, prev_hash, hash) VALUES (100, 0, 'step', '{}', '', '')",
        [],
    );
    assert!(format!("{insert:?}").contains("only appended"), "{insert:?}");
    drop(conn);
    verify(&path).expect("still intact");
}

#[test]
fn a_changed_body_names_that_row() {
    let dir = scratch("body");
    let path = dir.join("audit.sqlite");
    filled(&path, 3).close().expect("close");
    tamper(
        &path,
        "DROP TRIGGER chain_no_update; UPDATE chain SET body = replace(body, '\"reject\"', '\"pass\"') WHERE id = 13;",
    );
    let row = broken(&path);
    assert_eq!(
        (row.id, row.kind.as_str(), row.reason.clone()),
        (13, "part", Break::HashMismatch)
    );
    let message = verify(&path).expect_err("broken").to_string();
    assert!(message.contains("row 13 (part at "), "{message}");
    assert!(message.contains("the row was changed"), "{message}");
}

#[test]
fn a_changed_hash_names_that_row() {
    let dir = scratch("hash");
    let path = dir.join("audit.sqlite");
    filled(&path, 3).close().expect("close");
    tamper(
        &path,
        "DROP TRIGGER chain_no_update; UPDATE chain SET hash = iif(hash LIKE '0%', '1', '0') || substr(hash, 2) WHERE id = 6;",
    );
    let row = broken(&path);
    assert_eq!((row.id, row.reason), (6, Break::HashMismatch));
}

#[test]
fn a_changed_time_names_that_row() {
    let dir = scratch("time");
    let path = dir.join("audit.sqlite");
    filled(&path, 3).close().expect("close");
    tamper(
        &path,
        "DROP TRIGGER chain_no_update; UPDATE chain SET t_ms = t_ms - 3600000 WHERE id = 9;",
    );
    let row = broken(&path);
    assert_eq!((row.id, row.reason), (9, Break::HashMismatch));
}

#[test]
fn a_row_changed_and_rehashed_breaks_the_next_link() {
    let dir = scratch("rehash");
    let path = dir.join("audit.sqlite");
    filled(&path, 3).close().expect("close");
    let conn = rusqlite::Connection::open(&path).expect("open");
    let (id, t, kind, part, prev): (i64, i64, String, Option<i64>, String) = conn
        .query_row(
            "SELECT id, t_ms, kind, part, prev_hash FROM chain WHERE id = 5",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .expect("row 5");
    let body = r#"{"forged":true}"#;
    let hash = actrec_audit::chain::row_hash(&prev, id, t, &kind, part, body);
    conn.execute_batch("DROP TRIGGER chain_no_update").expect("drop");
    conn.execute("UPDATE chain SET body = ?1, hash = ?2 WHERE id = 5", [body, &hash])
        .expect("forge");
    drop(conn);
    let row = broken(&path);
    assert_eq!((row.id, row.reason), (6, Break::NotLinked { previous: 5 }));
}

#[test]
fn a_deleted_row_in_the_middle_is_named() {
    let dir = scratch("deleted");
    let path = dir.join("audit.sqlite");
    filled(&path, 3).close().expect("close");
    tamper(
        &path,
        "DROP TRIGGER chain_no_delete; DELETE FROM chain WHERE id IN (7, 8);",
    );
    let row = broken(&path);
    assert_eq!((row.id, row.kind.as_str()), (9, "part"));
    assert_eq!(row.reason, Break::Missing { from: 7, to: 8 });
    let message = verify(&path).expect_err("broken").to_string();
    assert!(
        message.contains("rows 7 to 8 before it are missing (deleted)"),
        "{message}"
    );
}

#[test]
fn deleted_oldest_rows_without_an_anchor_are_caught() {
    let dir = scratch("oldest");
    let path = dir.join("audit.sqlite");
    filled(&path, 3).close().expect("close");
    tamper(&path, "DROP TRIGGER chain_no_delete; DELETE FROM chain WHERE id <= 4;");
    let row = broken(&path);
    assert_eq!((row.id, row.reason), (5, Break::BadStart));
}

#[test]
fn a_forged_genesis_after_deleting_the_oldest_rows_is_caught() {
    let dir = scratch("genesis");
    let path = dir.join("audit.sqlite");
    filled(&path, 3).close().expect("close");
    tamper(
        &path,
        &format!(
            "DROP TRIGGER chain_no_delete; DROP TRIGGER chain_no_update; DELETE FROM chain WHERE id <= 4; UPDATE chain SET prev_hash = '{GENESIS}' WHERE id = 5;"
        ),
    );
    let row = broken(&path);
    assert_eq!((row.id, row.reason), (5, Break::BadStart));
}

#[test]
fn dropping_the_newest_row_changes_the_head() {
    // The chain alone cannot show a truncated end; a head recorded earlier
    // (an export's manifest, the journal) does.
    let dir = scratch("truncate");
    let path = dir.join("audit.sqlite");
    let audit = filled(&path, 2);
    let recorded = audit.head().expect("head");
    audit.close().expect("close");
    tamper(
        &path,
        "DROP TRIGGER chain_no_delete; DELETE FROM chain WHERE id = (SELECT max(id) FROM chain);",
    );
    let now = verify(&path).expect("a shorter chain still verifies");
    assert_ne!(now.hash, recorded.hash);
    assert_eq!(now.id, recorded.id - 1);
}

#[test]
fn a_damaged_file_is_reported() {
    let dir = scratch("damaged");
    let path = dir.join("audit.sqlite");
    filled(&path, 30).close().expect("close");
    let mut bytes = std::fs::read(&path).expect("read");
    let len = bytes.len();
    for b in &mut bytes[len / 2..len / 2 + 600] {
        *b = 0xA5;
    }
    std::fs::write(&path, bytes).expect("write");
    let err = verify(&path).expect_err("damaged");
    assert!(
        matches!(
            err,
            VerifyError::Damaged { .. } | VerifyError::Database { .. } | VerifyError::Broken { .. }
        ),
        "{err:?}"
    );
    let missing = verify(&dir.join("nothing.sqlite")).expect_err("missing");
    assert!(
        missing.to_string().ends_with("nothing.sqlite: no such file"),
        "{missing}"
    );
}

#[test]
fn two_writers_share_one_chain() {
    let dir = scratch("writers");
    let path = dir.join("audit.sqlite");
    let mut engine = Audit::open(&path, Settings::default()).expect("engine");
    let mut cli = Audit::open(&path, Settings::default()).expect("cli");
    for n in 1..=20 {
        engine.record(&step(n, "spacer")).expect("engine row");
        if n % 4 == 0 {
            cli.commit(&fault("from the other process")).expect("cli row");
        }
        engine.commit_verdict(&part(n, Verdict::Pass, None)).expect("verdict");
    }
    drop(cli);
    engine.close().expect("close");
    assert_eq!(verify(&path).expect("intact").rows, 1 + 20 * 2 + 5);
}

#[test]
fn a_run_without_its_stopped_row_was_cut_off() {
    use actrec_audit::{PreviousRun, StationEvent, StationRecord};
    let dir = scratch("previous-run");
    let path = dir.join("audit.sqlite");
    let station = |event| {
        Record::Station(StationRecord {
            event,
            software: "test".into(),
            detail: String::new(),
        })
    };
    let mut audit = Audit::open(&path, Settings::default()).expect("open");
    assert_eq!(audit.previous_run().expect("read"), PreviousRun::None);
    audit
        .record_at(Timestamp(1_000), &station(StationEvent::Started))
        .expect("row");
    audit
        .record_at(Timestamp(2_000), &station(StationEvent::Stopped))
        .expect("row");
    assert_eq!(audit.previous_run().expect("read"), PreviousRun::Stopped);
    audit
        .record_at(Timestamp(3_000), &station(StationEvent::Started))
        .expect("row");
    audit
        .record_at(Timestamp(4_000), &fault("the last sign of life"))
        .expect("row");
    assert_eq!(
        audit.previous_run().expect("read"),
        PreviousRun::CutOff {
            last_row: Timestamp(4_000)
        }
    );
}
