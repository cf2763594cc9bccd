//! Retention: the oldest rows go, an anchor stays, and the chain verifies.

mod common;

use actrec_audit::{Audit, Break, Retention, RowId, Settings, Timestamp, VerifyError, verify};
use actrec_core::event::Verdict;
use common::*;

const DAY: i64 = 86_400_000;

fn settings(max_bytes: u64, max_days: Option<u32>) -> Settings {
    Settings {
        retention: Retention { max_bytes, max_days },
        ..Settings::default()
    }
}

fn anchor_body(audit: &Audit, id: RowId) -> serde_json::Value {
    let rows = audit.rows_after(RowId(id.0 - 1), 1).expect("anchor row");
    assert_eq!(rows[0].kind, "anchor");
    serde_json::from_str(&rows[0].body).expect("anchor JSON")
}

#[test]
fn rows_older_than_max_days_go_and_an_anchor_records_them() {
    let dir = scratch("ret-age");
    let path = dir.join("audit.sqlite");
    let now = Timestamp::parse("2026-11-25T12:00:00Z").expect("now");
    let first_day = now.0 - 60 * DAY;
    // ids 2..=61: one part a day for 60 days, then the 1970 stamp of a
    // station that booted without a clock (id 62), then today (id 63).
    let mut audit = open_with_old_schema_row(&path, first_day - DAY, settings(1 << 30, Some(30)));
    for day in 0..60 {
        let verdict = if day % 4 == 0 { Verdict::Reject } else { Verdict::Pass };
        audit
            .commit_at(
                Timestamp(first_day + day * DAY),
                &actrec_audit::Record::Part(part(day as u32 + 1, verdict, None)),
            )
            .expect("part");
    }
    audit
        .record_at(Timestamp(0), &fault("clock not set"))
        .expect("1970 row");
    audit.record_at(now, &step(61, "spacer")).expect("today");
    let before = audit.head().expect("head");
    assert_eq!(before.rows, 63);

    let pruned = audit.prune(now).expect("prune").expect("something pruned");
    // The schema row and days 0..=29 (ids 2..=31) are older than 30 days;
    // day 30 is exactly at the limit and stays.
    assert_eq!((pruned.rows, pruned.through), (31, RowId(31)));
    assert_eq!(pruned.anchor, RowId(64));
    let anchor = anchor_body(&audit, pruned.anchor);
    assert_eq!(anchor["last_pruned_id"], 31);
    assert_eq!(anchor["first_pruned_id"], 1);
    assert_eq!(anchor["pruned_rows"], 31);
    assert_eq!(anchor["total_pruned_rows"], 31);
    assert_eq!(anchor["reason"], "age");
    assert_eq!(anchor["kinds"], serde_json::json!({"part": 30, "schema": 1}));
    assert_eq!(anchor["verdicts"], serde_json::json!({"pass": 22, "reject": 8}));
    assert!(
        anchor["signed_off_by"]
            .as_str()
            .is_some_and(|s| s.contains("retention"))
    );
    audit.close().expect("close");

    let head = verify(&path).expect("verifies after pruning");
    assert_eq!((head.first_id, head.id, head.rows, head.pruned), (32, 64, 33, 31));
    // The 1970 row is kept: newer rows come before it.
    let conn = rusqlite::Connection::open(&path).expect("open");
    let kept: i64 = conn
        .query_row("SELECT count(*) FROM chain WHERE t_ms = 0", [], |r| r.get(0))
        .expect("count");
    assert_eq!(kept, 1);
}

/// A database whose first row (the schema row) carries an old time, as if
/// it had been created then.
fn open_with_old_schema_row(path: &std::path::Path, t: i64, settings: Settings) -> Audit {
    let audit = Audit::open(path, settings.clone()).expect("open");
    audit.close().expect("close");
    let conn = rusqlite::Connection::open(path).expect("raw");
    let (prev, body): (String, String) = conn
        .query_row("SELECT prev_hash, body FROM chain WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("schema row");
    let hash = actrec_audit::chain::row_hash(&prev, 1, t, "schema", None, &body);
    conn.execute_batch("DROP TRIGGER chain_no_update").expect("drop");
    conn.execute(
        "UPDATE chain SET t_ms = ?1, hash = ?2 WHERE id = 1",
        rusqlite::params![t, hash],
    )
    .expect("backdate");
    // Put the trigger back as migration 2 made it.
    conn.execute_batch(
        "CREATE TRIGGER chain_no_update BEFORE UPDATE ON chain BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;",
    )
    .expect("trigger");
    drop(conn);
    Audit::open(path, settings).expect("reopen")
}

#[test]
fn a_database_beyond_max_bytes_is_pruned_below_it() {
    let dir = scratch("ret-size");
    let path = dir.join("audit.sqlite");
    let max = 512 * 1024;
    let mut audit = Audit::open(&path, settings(max, None)).expect("open");
    let detail = "x".repeat(1500);
    for n in 0..1500 {
        audit.record(&fault(&format!("{n} {detail}"))).expect("row");
    }
    let size = |path: &std::path::Path| {
        let conn = rusqlite::Connection::open(path).expect("open");
        let pages: i64 = conn
            .pragma_query_value(None, "page_count", |r| r.get(0))
            .expect("pages");
        let free: i64 = conn
            .pragma_query_value(None, "freelist_count", |r| r.get(0))
            .expect("free");
        let page: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0)).expect("page");
        (((pages - free) * page).unsigned_abs(), (pages * page).unsigned_abs())
    };
    let (used_before, _) = size(&path);
    assert!(used_before > 2 * max, "{used_before}");
    let pruned = audit.prune(Timestamp::now()).expect("prune").expect("pruned");
    assert!(pruned.rows > 1000, "{pruned:?}");
    let (used, file) = size(&path);
    assert!(used <= max, "used {used} > {max}");
    assert!(
        file <= max + 64 * 1024,
        "freed pages went back to the file system: {file}"
    );
    let anchor = anchor_body(&audit, pruned.anchor);
    assert_eq!(anchor["reason"], "size");
    assert_eq!(anchor["limits"]["max_bytes"], max);
    // Within the limit now: nothing more goes.
    assert_eq!(audit.prune(Timestamp::now()).expect("prune again"), None);
    audit.close().expect("close");
    let head = verify(&path).expect("verifies");
    assert_eq!(head.pruned, pruned.rows);
}

#[test]
fn pruned_totals_add_up_over_several_passes_and_everything_may_go() {
    let dir = scratch("ret-passes");
    let path = dir.join("audit.sqlite");
    let t0 = Timestamp::parse("2026-01-01").expect("t0");
    let mut audit = open_with_old_schema_row(&path, t0.0, settings(1 << 30, Some(10)));
    for day in 0..20 {
        audit
            .record_at(Timestamp(t0.0 + day * DAY), &step(day as u32, "spacer"))
            .expect("row");
    }
    let first = audit.prune(Timestamp(t0.0 + 15 * DAY)).expect("prune").expect("pruned");
    // The schema row and days 0..=4 (t < day 5).
    assert_eq!(first.rows, 6);
    verify(&path).expect("after one pass");
    let second = audit.prune(Timestamp(t0.0 + 40 * DAY)).expect("prune").expect("pruned");
    // Everything: the rest of the steps and the first anchor; the new anchor
    // alone remains and still accounts for the start.
    assert_eq!(second.rows, 15 + 1);
    let anchor = anchor_body(&audit, second.anchor);
    assert_eq!(anchor["total_pruned_rows"], 6 + 16);
    assert_eq!(anchor["kinds"], serde_json::json!({"anchor": 1, "step": 15}));
    audit.close().expect("close");
    let head = verify(&path).expect("an anchor alone verifies");
    assert_eq!((head.rows, head.kind.as_str(), head.pruned), (1, "anchor", 22));
    // Deleting that anchor is caught: nothing accounts for the pruned rows.
    let mut audit = Audit::open(&path, Settings::default()).expect("open");
    audit.record(&step(99, "spacer")).expect("row after the anchor");
    audit.close().expect("close");
    tamper(
        &path,
        "DROP TRIGGER chain_no_delete; DELETE FROM chain WHERE kind = 'anchor';",
    );
    match verify(&path) {
        Err(VerifyError::Broken { row, .. }) => assert_eq!(row.reason, Break::BadStart),
        other => panic!("expected a bad start, got {other:?}"),
    }
}

#[test]
fn nothing_is_pruned_within_the_limits() {
    let dir = scratch("ret-none");
    let path = dir.join("audit.sqlite");
    let mut audit = filled(&path, 5);
    let head = audit.head().expect("head");
    assert_eq!(audit.prune(Timestamp::now()).expect("prune"), None);
    assert_eq!(audit.head().expect("head"), head);
}
