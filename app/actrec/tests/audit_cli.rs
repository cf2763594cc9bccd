//! `actrec verify-audit`, `export` and `verify-export` as a person runs them.
//!
//! Failing targets are real: root writes into any chmod'ed folder, so the
//! read-only target is a tmpfs mounted read-only and the full one a 64 KiB
//! tmpfs, each mounted in a private mount namespace (`unshare --user
//! --map-root-user --mount`, util-linux), which works for root and, where
//! user namespaces are allowed, for other users, and leaves no mount behind.
//! The tamper test uses the `sqlite3` command-line shell.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use actrec_audit::{
    Artifact, Audit, Fault, FaultRecord, FaultState, JudgedWith, PartRecord, Record, Settings, StepRecord,
};
use actrec_core::event::{StepStatus, Verdict};

struct Station {
    dir: PathBuf,
    config: PathBuf,
    db: PathBuf,
    clips: PathBuf,
}

impl Drop for Station {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const CONFIG: &str = r#"[station]
id = "line-3"
data_dir = "data"
source = "cam"

[sources.cam.test]

[model]
dir = "models/demo"

[sequence]
file = "sequences/gear-housing.toml"

[outputs]
clips = { dir = "clips" }

[gpio]
backend = "sim"

[audit]
path = "audit.sqlite"
max_megabytes = 64
"#;

/// A station folder with a config and an audit log of `parts` parts (every
/// third rejected, with a clip of `clip_bytes`), plus `padding` fault rows.
fn station(name: &str, parts: u32, clip_bytes: usize, padding: u32) -> Station {
    let dir = std::env::temp_dir().join(format!("actrec-audit-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let clips = dir.join("data/clips");
    std::fs::create_dir_all(&clips).expect("clips");
    let config = dir.join("station.toml");
    std::fs::write(&config, CONFIG).expect("config");
    let db = dir.join("data/audit.sqlite");
    let mut audit = Audit::open(&db, Settings::default()).expect("open");
    for n in 1..=parts {
        for step in ["place_gear", "spacer", "install_lid"] {
            audit
                .record(&Record::Step(StepRecord {
                    part: n,
                    stream_t: f64::from(n) * 30.0,
                    step: step.into(),
                    p: 0.9,
                    status: StepStatus::Ok,
                    expected: Vec::new(),
                }))
                .expect("step");
        }
        let reject = n % 3 == 0;
        let clip = reject.then(|| format!("part-{n:06}.mp4"));
        if let Some(clip) = &clip {
            std::fs::write(clips.join(clip), vec![n as u8; clip_bytes]).expect("clip");
        }
        audit
            .commit_verdict(&PartRecord {
                part: n,
                stream_t: f64::from(n) * 30.0 + 20.0,
                verdict: if reject { Verdict::Reject } else { Verdict::Pass },
                missing: if reject {
                    vec!["greased_disk".into()]
                } else {
                    Vec::new()
                },
                errors: 0,
                clip,
                judged_with: JudgedWith {
                    model: Artifact {
                        name: "demo".into(),
                        version: "0.3.0".into(),
                        sha256: "0".repeat(64),
                    },
                    ..JudgedWith::default()
                },
            })
            .expect("verdict");
    }
    for i in 0..padding {
        audit
            .record(&Record::Fault(FaultRecord {
                fault: Fault::NoVideo,
                state: FaultState::Raised,
                detail: format!("camera {i} lost, retrying the connection to the line camera"),
            }))
            .expect("fault");
    }
    audit.close().expect("close");
    Station { dir, config, db, clips }
}

fn actrec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_actrec"))
        .args(args)
        .env_remove("ACTREC_CONFIG")
        .env("RUST_LOG", "warn")
        .output()
        .expect("actrec runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn sha256(path: &Path) -> String {
    actrec_audit::sha256_file(path).expect("hash")
}

#[test]
fn verify_audit_names_the_row_changed_with_sqlite3() {
    let s = station("tamper", 4, 10, 0);
    let config = s.config.display().to_string();
    let ok = actrec(&["verify-audit", "--config", &config]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert!(
        text(&ok.stdout).contains(": ok: 17 rows (ids 1..17)"),
        "{}",
        text(&ok.stdout)
    );

    // Row 9 is part 2's verdict. A tamperer drops the guard and edits it.
    let sqlite3 = Command::new("sqlite3")
        .arg(&s.db)
        .arg(
            "DROP TRIGGER chain_no_update; UPDATE chain SET body = replace(body, '\"pass\"', '\"reject\"') WHERE id = 9;",
        )
        .output()
        .expect("the sqlite3 shell is installed (Debian package sqlite3)");
    assert!(sqlite3.status.success(), "{}", text(&sqlite3.stderr));

    let out = actrec(&["verify-audit", "--config", &config]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    let db = s.db.display().to_string();
    assert!(
        err.starts_with(&format!("{db}: row 9 (part at ")),
        "names the database and the row: {err}"
    );
    assert!(
        err.contains("its content does not match its hash: the row was changed"),
        "{err}"
    );
    let direct = actrec(&["verify-audit", "--db", &db]);
    assert_eq!((direct.status.code(), text(&direct.stderr)), (Some(2), err));

    let missing = actrec(&["verify-audit", "--db", "/nonexistent/audit.sqlite"]);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(text(&missing.stderr), "/nonexistent/audit.sqlite: no such file\n");
}

#[test]
fn export_then_verify_export_catches_one_flipped_byte() {
    let s = station("export", 6, 5000, 0);
    let usb = s.dir.join("usb");
    std::fs::create_dir(&usb).expect("usb");
    let out = actrec(&[
        "export",
        "--to",
        &usb.display().to_string(),
        "--config",
        &s.config.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Not a terminal: plain progress lines.
    let progress = text(&out.stderr);
    assert!(
        progress.contains("export: rows 0/25\n") && progress.contains("export: rows 25/25\n"),
        "{progress}"
    );
    assert!(progress.contains("export: clips 10000/10000 bytes\n"), "{progress}");
    let folders: Vec<PathBuf> = std::fs::read_dir(&usb)
        .expect("usb")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(folders.len(), 1);
    let export = &folders[0];
    let name = export.file_name().expect("name").to_string_lossy().into_owned();
    assert!(
        name.starts_with("actrec-line-3-") && name.len() == "actrec-line-3-20261125T083000Z-20261125T083000Z".len(),
        "{name}"
    );
    assert!(
        text(&out.stdout).contains("25 rows (6 parts), 7 files"),
        "{}",
        text(&out.stdout)
    );
    for clip in ["part-000003.mp4", "part-000006.mp4"] {
        assert_eq!(sha256(&export.join("clips").join(clip)), sha256(&s.clips.join(clip)));
    }

    let dir = export.display().to_string();
    let ok = actrec(&["verify-export", &dir]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains(": ok: 7 files match MANIFEST.json; station line-3, 25 rows"));

    let steps = export.join("steps.csv");
    let mut bytes = std::fs::read(&steps).expect("steps");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    std::fs::write(&steps, &bytes).expect("flip");
    let out = actrec(&["verify-export", &dir]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!("{dir}: steps.csv: content differs from MANIFEST.json (the file was changed)\n")
    );

    let not_an_export = actrec(&["verify-export", &s.dir.display().to_string()]);
    assert_eq!(not_an_export.status.code(), Some(2));
    assert_eq!(
        text(&not_an_export.stderr),
        format!(
            "{}: cannot read: No such file or directory (os error 2)\n",
            s.dir.join("MANIFEST.json").display()
        )
    );

    // The export is itself in the audit log, after the rows it exported.
    let verified = actrec(&["verify-audit", "--db", &s.db.display().to_string()]);
    assert!(
        text(&verified.stdout).contains("26 rows (ids 1..26), head 26 (operator at"),
        "{}",
        text(&verified.stdout)
    );
}

#[test]
fn export_refuses_bad_input_with_exit_2() {
    let s = station("bad-input", 2, 10, 0);
    let config = s.config.display().to_string();
    let usb = s.dir.join("usb");
    std::fs::create_dir(&usb).expect("usb");
    let to = usb.display().to_string();
    let backwards = actrec(&[
        "export",
        "--to",
        &to,
        "--config",
        &config,
        "--from",
        "2026-02-01",
        "--until",
        "2026-01-01",
    ]);
    assert_eq!(backwards.status.code(), Some(2));
    assert!(text(&backwards.stderr).contains("nothing to export: from 2026-02-01T00:00:00.000Z is not before until"));
    let not_a_time = actrec(&["export", "--to", &to, "--config", &config, "--from", "last tuesday"]);
    assert_eq!(not_a_time.status.code(), Some(2));
    assert!(text(&not_a_time.stderr).contains("`last tuesday` is not a time"));
    std::fs::remove_file(&s.db).expect("remove db");
    let no_db = actrec(&["export", "--to", &to, "--config", &config]);
    assert_eq!(no_db.status.code(), Some(2));
    assert_eq!(
        text(&no_db.stderr),
        format!("{}: no audit database there\n", s.db.display())
    );
    assert_eq!(std::fs::read_dir(&usb).expect("usb").count(), 0);
}

/// Runs `actrec export` with the target a fresh tmpfs mounted with
/// `options` in a private mount namespace; returns its output and what the
/// target holds afterwards (seen from inside, before the mount goes away).
fn export_to_tmpfs(s: &Station, options: &str) -> (Output, String) {
    let target = s.dir.join("stick");
    std::fs::create_dir_all(&target).expect("mount point");
    let script = r#"mount -t tmpfs -o "$1" actrec-test "$2" || { echo "cannot mount a tmpfs" >&2; exit 97; }
target=$2; shift 2
"$@"; rc=$?
echo "--- left on the stick:"; ls -A "$target"
exit $rc"#;
    let out = Command::new("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            script,
            "sh",
            options,
        ])
        .arg(&target)
        .arg(env!("CARGO_BIN_EXE_actrec"))
        .args(["export", "--to"])
        .arg(&target)
        .arg("--config")
        .arg(&s.config)
        .env_remove("ACTREC_CONFIG")
        .env("RUST_LOG", "warn")
        .output()
        .expect("unshare (util-linux) runs");
    assert_ne!(
        out.status.code(),
        Some(97),
        "this test needs a private mount namespace (root, or user namespaces allowed): {}",
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    let left = stdout
        .split_once("--- left on the stick:\n")
        .map(|(_, l)| l.trim().to_owned())
        .unwrap_or_else(|| panic!("no listing: {stdout} {}", text(&out.stderr)));
    (out, left)
}

#[test]
fn export_to_a_read_only_stick_fails_cleanly() {
    let s = station("read-only", 6, 5000, 0);
    let before = sha256(&s.db);
    let (out, left) = export_to_tmpfs(&s, "ro,size=1m");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    let stick = s.dir.join("stick").display().to_string();
    assert!(
        err.starts_with(&format!(
            "actrec: cannot write output: export to {stick} failed: cannot create the export folder {stick}/.actrec-line-3-"
        )),
        "{err}"
    );
    assert!(
        err.contains("Read-only file system") && err.contains("nothing was written there"),
        "{err}"
    );
    assert_eq!(left, "", "nothing on the stick");
    assert_eq!(sha256(&s.db), before, "the database is untouched");
    let verified = actrec(&["verify-audit", "--db", &s.db.display().to_string()]);
    assert_eq!(verified.status.code(), Some(0));
}

#[test]
fn export_to_a_full_stick_fails_cleanly() {
    // Clips larger than the stick: it fills while they are copied.
    let s = station("full-clips", 6, 200_000, 0);
    let before = sha256(&s.db);
    let (out, left) = export_to_tmpfs(&s, "size=64k");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot write ") && err.contains("/clips/part-00000"),
        "{err}"
    );
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(left, "", "no folder, final or partial, on the stick");
    assert_eq!(sha256(&s.db), before, "the database is untouched");

    // Rows alone beyond the stick: it fills while the tables are written.
    let s = station("full-rows", 30, 10, 3000);
    let before = sha256(&s.db);
    let (out, left) = export_to_tmpfs(&s, "size=64k");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("No space left on device"), "{err}");
    assert!(
        err.contains(".csv") || err.contains("events.jsonl") || err.contains("MANIFEST.json"),
        "{err}"
    );
    assert_eq!(left, "");
    assert_eq!(sha256(&s.db), before);
    let verified = actrec(&["verify-audit", "--db", &s.db.display().to_string()]);
    assert_eq!(verified.status.code(), Some(0));
}
