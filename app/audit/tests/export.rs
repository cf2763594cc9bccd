//! The export folder: contents, spreadsheet format, integrity, safe writing.

mod common;

use std::path::{Path, PathBuf};

use actrec_audit::{
    Audit, ExportError, ExportProblem, ExportProgress, Record, Settings, Timestamp, export, verify, verify_export,
};
use actrec_core::event::Verdict;
use common::*;

const TRICKY: &str = "camera \"line 3\", port 5000\nretrying";
const FORMULA: &str = "=cmd|' /C calc'!A0";

struct Station {
    dir: Scratch,
    db: PathBuf,
    clips: PathBuf,
    usb: PathBuf,
}

/// Six parts (3 and 6 rejected, with clips; one of them recorded by an
/// absolute path), a rejected part whose clip is gone, and two faults.
fn station(name: &str) -> Station {
    let dir = scratch(name);
    let db = dir.join("data/audit.sqlite");
    let clips = dir.join("data/clips");
    let usb = dir.join("usb");
    std::fs::create_dir_all(&clips).expect("clips");
    std::fs::create_dir_all(&usb).expect("usb");
    let clip = |n: u32| -> Vec<u8> { (0..300_000u32).map(|i| (i.wrapping_mul(n + 7) >> 3) as u8).collect() };
    std::fs::write(clips.join("part-000003.mp4"), clip(3)).expect("clip 3");
    std::fs::write(clips.join("part-000006.mp4"), clip(6)).expect("clip 6");
    let mut audit = filled(&db, 0);
    for n in 1..=6 {
        for label in ["place_gear", "spacer"] {
            audit.record(&step(n, label)).expect("step");
        }
        let (verdict, clip) = match n {
            3 => (Verdict::Reject, Some("part-000003.mp4".to_owned())),
            6 => (
                Verdict::Reject,
                Some(clips.join("part-000006.mp4").display().to_string()),
            ),
            _ => (Verdict::Pass, None),
        };
        audit
            .commit_verdict(&part(n, verdict, clip.as_deref()))
            .expect("verdict");
    }
    audit
        .commit_verdict(&part(7, Verdict::Reject, Some("gone.mp4")))
        .expect("verdict");
    audit.commit(&fault(TRICKY)).expect("fault");
    audit.commit(&fault(FORMULA)).expect("fault");
    audit.close().expect("close");
    Station { dir, db, clips, usb }
}

fn run_export(s: &Station, progress: impl FnMut(ExportProgress)) -> Result<actrec_audit::Exported, ExportError> {
    export(&s.db, &s.usb, None, None, "line-3", &s.clips, progress)
}

/// RFC 4180 records of a CSV file (BOM removed).
fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).expect("csv");
    let text = text.strip_prefix('\u{feff}').expect("BOM");
    let mut records = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => assert_eq!(chars.next(), Some('\n'), "CRLF"),
            (false, '\n') => panic!("a bare LF ends a line"),
            (false, c) => field.push(c),
        }
        if !quoted && c == '\r' {
            record.push(std::mem::take(&mut field));
            records.push(std::mem::take(&mut record));
        }
    }
    assert!(record.is_empty() && field.is_empty(), "the last line ends in CRLF");
    records
}

#[test]
fn an_export_holds_tables_rows_clips_and_a_manifest() {
    let s = station("exp-full");
    let mut seen = Vec::new();
    let exported = run_export(&s, |p| seen.push(p)).expect("export");
    let head = verify(&s.db).expect("intact");

    let name = exported.dir.file_name().expect("name").to_string_lossy().into_owned();
    assert_eq!(
        name,
        format!("actrec-line-3-{}-{}", exported.from.compact(), exported.until.compact())
    );
    assert_eq!(exported.head, head);
    assert_eq!(exported.rows, head.rows);
    assert_eq!(exported.parts, 7);
    assert_eq!(exported.missing_clips, vec!["gone.mp4".to_owned()]);
    // Nothing else in the target: no partial folder left behind.
    let entries: Vec<_> = std::fs::read_dir(&s.usb)
        .expect("usb")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(entries, vec![std::ffi::OsString::from(&name)]);

    let listed: Vec<_> = exported.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        listed,
        [
            "events.jsonl",
            "parts.csv",
            "steps.csv",
            "faults.csv",
            "audit.sqlite",
            "clips/part-000003.mp4",
            "clips/part-000006.mp4"
        ]
    );
    // The whole database, as the snapshot the tables came from, checkable on its own.
    assert_eq!(
        verify(&exported.dir.join("audit.sqlite")).expect("the copy verifies"),
        head
    );
    for clip in ["part-000003.mp4", "part-000006.mp4"] {
        assert_eq!(
            sha256_of(&exported.dir.join("clips").join(clip)),
            sha256_of(&s.clips.join(clip))
        );
    }

    let parts = read_csv(&exported.dir.join("parts.csv"));
    assert_eq!(
        parts[0][..7],
        [
            "row_id",
            "time_utc",
            "part",
            "verdict",
            "missing_steps",
            "errors",
            "clip"
        ]
    );
    assert_eq!(parts.len(), 8);
    assert!(parts.iter().all(|r| r.len() == parts[0].len()));
    let p3 = &parts[3];
    assert_eq!(
        (p3[2].as_str(), p3[3].as_str(), p3[4].as_str()),
        ("3", "reject", "greased_disk spacer")
    );
    assert_eq!(p3[6], "clips/part-000003.mp4");
    assert_eq!(parts[7][6], "", "a gone clip is not linked");
    assert_eq!(parts[7][7], "gone.mp4");
    assert_eq!(p3[9], "0.3.0");
    assert!(p3[1].len() == 23 && p3[1].as_bytes()[10] == b' ', "{}", p3[1]);

    let steps = read_csv(&exported.dir.join("steps.csv"));
    assert_eq!(steps.len(), 1 + 12);
    assert_eq!(steps[1][3..6], ["place_gear", "ok", "0.875"]);

    let faults = read_csv(&exported.dir.join("faults.csv"));
    assert_eq!(faults.len(), 3);
    assert_eq!(faults[1][2..], ["no_video", "raised", TRICKY]);
    assert_eq!(faults[2][4], format!("'{FORMULA}"), "a formula is never live");

    let events = std::fs::read_to_string(exported.dir.join("events.jsonl")).expect("events");
    let lines: Vec<serde_json::Value> = events
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len() as u64, head.rows);
    assert_eq!(lines.last().expect("last")["hash"], head.hash.as_str());
    assert_eq!(lines[1]["kind"], "step");
    assert_eq!(lines[1]["body"]["step"], "place_gear");

    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(exported.dir.join("MANIFEST.json")).expect("manifest"))
            .expect("JSON");
    assert_eq!(manifest["station"], "line-3");
    assert_eq!(manifest["audit_chain_head"]["hash"], head.hash.as_str());
    assert_eq!(manifest["rows"]["count"], head.rows);
    assert_eq!(manifest["missing_clips"], serde_json::json!(["gone.mp4"]));

    let check = verify_export(&exported.dir).expect("readable");
    assert!(check.is_ok(), "{:?}", check.problems);
    assert_eq!(check.files, 7);

    assert_eq!(
        seen.first(),
        Some(&ExportProgress::Rows {
            done: 0,
            total: head.rows
        })
    );
    assert!(seen.contains(&ExportProgress::Rows {
        done: head.rows,
        total: head.rows
    }));
    assert!(seen.contains(&ExportProgress::Clips {
        done: 600_000,
        total: 600_000
    }));
    assert_eq!(seen.last(), Some(&ExportProgress::Syncing));
}

#[test]
fn a_range_exports_only_its_rows() {
    let s = station("exp-range");
    let mut audit = Audit::open(&s.db, Settings::default()).expect("open");
    let day = |d: &str| Timestamp::parse(d).expect("day");
    audit
        .record_at(day("2026-01-01T10:00:00Z"), &step(100, "spacer"))
        .expect("row");
    audit
        .record_at(day("2026-01-02T10:00:00Z"), &step(101, "spacer"))
        .expect("row");
    audit
        .record_at(day("2026-01-03T00:00:00Z"), &step(102, "spacer"))
        .expect("row");
    audit.close().expect("close");
    let exported = export(
        &s.db,
        &s.usb,
        Some(day("2026-01-01")),
        Some(day("2026-01-03")),
        "line-3",
        &s.clips,
        |_| {},
    )
    .expect("export");
    assert!(
        exported
            .dir
            .ends_with("actrec-line-3-20260101T000000Z-20260103T000000Z")
    );
    assert_eq!(exported.rows, 2, "until is exclusive");
    assert!(verify_export(&exported.dir).expect("readable").is_ok());
    let backwards = export(
        &s.db,
        &s.usb,
        Some(day("2026-01-03")),
        Some(day("2026-01-01")),
        "line-3",
        &s.clips,
        |_| {},
    );
    assert!(matches!(backwards, Err(ExportError::Range { .. })), "{backwards:?}");
}

#[test]
fn verify_export_catches_one_flipped_byte() {
    let s = station("exp-flip");
    let exported = run_export(&s, |_| {}).expect("export");
    for file in ["parts.csv", "events.jsonl", "audit.sqlite", "clips/part-000006.mp4"] {
        let path = exported.dir.join(file);
        let original = std::fs::read(&path).expect("read");
        let mut flipped = original.clone();
        flipped[original.len() / 2] ^= 0x01;
        std::fs::write(&path, &flipped).expect("flip");
        let check = verify_export(&exported.dir).expect("readable");
        assert_eq!(check.first_mismatch(), Some(file));
        assert!(!check.is_ok());
        std::fs::write(&path, &original).expect("restore");
        assert!(verify_export(&exported.dir).expect("readable").is_ok());
    }
}

#[test]
fn verify_export_reports_missing_and_extra_files() {
    let s = station("exp-extra");
    let exported = run_export(&s, |_| {}).expect("export");
    std::fs::remove_file(exported.dir.join("faults.csv")).expect("remove");
    std::fs::write(exported.dir.join("clips/notes.txt"), "added").expect("add");
    let check = verify_export(&exported.dir).expect("readable");
    assert_eq!(
        check.problems,
        vec![
            ExportProblem::Missing {
                path: "faults.csv".into()
            },
            ExportProblem::Extra {
                path: "clips/notes.txt".into()
            },
        ]
    );
    assert_eq!(
        check.problems[1].to_string(),
        "clips/notes.txt: not listed in MANIFEST.json (added later)"
    );
}

#[test]
fn rows_edited_with_a_matching_manifest_are_still_caught() {
    let s = station("exp-forged");
    let exported = run_export(&s, |_| {}).expect("export");
    let events = exported.dir.join("events.jsonl");
    let text = std::fs::read_to_string(&events).expect("events");
    let forged = text.replacen("\"verdict\":\"reject\"", "\"verdict\":\"pass\"", 1);
    assert_ne!(forged, text);
    std::fs::write(&events, &forged).expect("forge");
    // The forger fixes the manifest too.
    let manifest_path = exported.dir.join("MANIFEST.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).expect("manifest")).expect("JSON");
    for file in manifest["files"].as_array_mut().expect("files") {
        if file["path"] == "events.jsonl" {
            file["sha256"] = sha256_of(&events).into();
            file["bytes"] = forged.len().into();
        }
    }
    std::fs::write(&manifest_path, serde_json::to_string_pretty(&manifest).expect("JSON")).expect("write");
    let check = verify_export(&exported.dir).expect("readable");
    assert_eq!(check.problems.len(), 1, "{:?}", check.problems);
    let problem = check.problems[0].to_string();
    assert!(problem.contains("its content does not match its hash"), "{problem}");
}

#[test]
fn a_database_snapshot_edited_with_a_matching_manifest_is_still_caught() {
    let s = station("exp-forged-db");
    let exported = run_export(&s, |_| {}).expect("export");
    let copy = exported.dir.join("audit.sqlite");
    // A forger appends a well-formed row, so the copy's own chain still verifies, and fixes the manifest.
    let mut audit = Audit::open(&copy, Settings::default()).expect("the copy opens");
    audit.record(&step(99, "spacer")).expect("row");
    audit.close().expect("close");
    let manifest_path = exported.dir.join("MANIFEST.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).expect("manifest")).expect("JSON");
    for file in manifest["files"].as_array_mut().expect("files") {
        if file["path"] == "audit.sqlite" {
            file["sha256"] = sha256_of(&copy).into();
            file["bytes"] = std::fs::metadata(&copy).expect("copy").len().into();
        }
    }
    std::fs::write(&manifest_path, serde_json::to_string_pretty(&manifest).expect("JSON")).expect("write");
    let check = verify_export(&exported.dir).expect("readable");
    let problems: Vec<String> = check.problems.iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("audit.sqlite: its audit chain ends at row")
            && problems[0].contains("MANIFEST.json says"),
        "{}",
        problems[0]
    );
}

#[test]
fn an_export_never_overwrites_one() {
    let s = station("exp-exists");
    let first = run_export(&s, |_| {}).expect("export");
    let again = export(
        &s.db,
        &s.usb,
        Some(first.from),
        Some(first.until),
        "line-3",
        &s.clips,
        |_| {},
    );
    match again {
        Err(ExportError::Exists(path)) => assert_eq!(path, first.dir),
        other => panic!("expected Exists, got {other:?}"),
    }
    assert!(verify_export(&first.dir).expect("readable").is_ok());
    assert_eq!(std::fs::read_dir(&s.usb).expect("usb").count(), 1);
}

#[test]
fn an_unwritable_target_fails_cleanly_and_leaves_the_database_alone() {
    // Root may write into any chmod'ed folder; /sys refuses even root.
    let s = station("exp-unwritable");
    let before = sha256_of(&s.db);
    let err = export(&s.db, Path::new("/sys"), None, None, "line-3", &s.clips, |_| {}).expect_err("refused");
    let message = err.to_string();
    assert!(
        message.starts_with("cannot create the export folder /sys/.actrec-line-3-"),
        "{message}"
    );
    assert!(message.contains("Operation not permitted"), "{message}");
    assert_eq!(sha256_of(&s.db), before);
    verify(&s.db).expect("intact");
    assert!(
        std::fs::read_dir("/sys").expect("sys").all(|e| !e
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .contains("actrec")),
    );

    let missing = export(
        &s.dir.join("none.sqlite"),
        &s.usb,
        None,
        None,
        "line-3",
        &s.clips,
        |_| {},
    );
    assert!(matches!(missing, Err(ExportError::NoDatabase(_))), "{missing:?}");
    let no_target = export(
        &s.db,
        &s.dir.join("not-mounted"),
        None,
        None,
        "line-3",
        &s.clips,
        |_| {},
    );
    let message = no_target.expect_err("no target").to_string();
    assert!(message.contains("not-mounted: No such file or directory"), "{message}");
}

#[test]
fn an_export_reads_one_snapshot_while_the_engine_writes() {
    let s = station("exp-live");
    let db = s.db.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut audit = Audit::open(&db, Settings::default()).expect("engine");
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || n < 200 {
                n += 1;
                audit.record(&step(n, "spacer")).expect("row");
                if n % 10 == 0 {
                    audit
                        .commit(&Record::Part(part(n, Verdict::Pass, None)))
                        .expect("verdict");
                }
            }
            n
        })
    };
    // Exports until one lands while the writer is still at work.
    let mut exports = 0;
    while !writer.is_finished() && exports < 20 {
        let until = Timestamp(Timestamp::now().0 + 1000 * (exports + 1));
        let exported = export(&s.db, &s.usb, None, Some(until), "line-3", &s.clips, |_| {}).expect("export");
        let check = verify_export(&exported.dir).expect("readable");
        assert!(check.is_ok(), "{:?}", check.problems);
        let rows = check.manifest.rows;
        // Contiguous ids ending at the head of the snapshot it read.
        assert_eq!(rows.last_id, Some(exported.head.id));
        assert_eq!(
            rows.count as i64,
            rows.last_id.expect("last") - rows.first_id.expect("first") + 1
        );
        exports += 1;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().expect("writer");
    verify(&s.db).expect("intact");
}
