//! kill -9 during a burst of verdicts: every verdict reported as committed
//! is there afterwards, and the database is sound.
//!
//! The child is this test binary itself, started again with
//! `ACTREC_AUDIT_CHILD` naming the database: it commits verdicts (each after
//! a few ordinary rows) in a loop and prints `committed <id>` as soon as
//! `commit_verdict` returns. The parent kills it with SIGKILL after a short
//! random delay, 50 times, and checks after each kill.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use actrec_audit::{Audit, Settings, verify};
use actrec_core::event::Verdict;
use common::*;

const CHILD: &str = "ACTREC_AUDIT_CHILD";
const ROUNDS: u32 = 50;

/// The child's body; a no-op in a normal test run.
#[test]
fn verdict_burst_child() {
    let Some(path) = std::env::var_os(CHILD) else { return };
    let mut audit = Audit::open(std::path::Path::new(&path), Settings::default()).expect("open");
    for n in 1.. {
        audit.record(&step(n, "place_gear")).expect("step");
        audit.record(&step(n, "spacer")).expect("step");
        let verdict = if n % 2 == 0 { Verdict::Reject } else { Verdict::Pass };
        let id = audit.commit_verdict(&part(n, verdict, None)).expect("verdict");
        // Line-buffered: the whole line reaches the pipe in one write.
        println!("committed {id}");
    }
}

/// xorshift: the delays only need to vary, not to be unpredictable.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn sigkill_never_loses_a_committed_verdict() {
    let dir = scratch("durability");
    let path = dir.join("audit.sqlite");
    let exe = std::env::current_exe().expect("test binary");
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64 ^ u64::from(std::process::id());
    let mut committed: Vec<i64> = Vec::new();
    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .args(["--exact", "verdict_burst_child", "--nocapture", "--test-threads=1"])
            .env(CHILD, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("child starts");
        let stdout = child.stdout.take().expect("stdout");
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| {
                    l.strip_prefix("committed ")
                        .and_then(|id| id.trim().parse::<i64>().ok())
                })
                .collect::<Vec<_>>()
        });
        // 0 to 150 ms: some rounds die while opening, most mid-burst.
        std::thread::sleep(Duration::from_millis(next(&mut seed) % 150));
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        let ids = reader.join().expect("reader");
        committed.extend(&ids);

        let conn = rusqlite::Connection::open(&path).expect("reopen after kill");
        let integrity: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity_check");
        assert_eq!(integrity, "ok", "round {round}");
        // A child killed before it created the chain reported nothing.
        if !ids.is_empty() {
            let mut stmt = conn
                .prepare("SELECT count(*) FROM chain WHERE id = ?1 AND kind = 'part'")
                .expect("query");
            for id in &ids {
                let found: i64 = stmt.query_row([id], |r| r.get(0)).expect("lookup");
                assert_eq!(
                    found, 1,
                    "round {round}: verdict row {id} was reported committed but is gone"
                );
            }
        }
        drop(conn);
        verify(&path).unwrap_or_else(|e| panic!("round {round}: {e}"));
    }
    assert!(!committed.is_empty(), "no child ever committed a verdict");
    // Ids only grow across rounds: no reported row was ever reused.
    assert!(committed.windows(2).all(|w| w[0] < w[1]));
    eprintln!(
        "{} verdicts reported committed over {ROUNDS} kills, all found",
        committed.len()
    );
}
