//! Shared by the audit tests: scratch folders and sample records.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use actrec_audit::{
    Artifact, Audit, Fault, FaultRecord, FaultState, JudgedWith, PartRecord, Record, Settings, StepRecord,
};
use actrec_core::event::{StepStatus, Verdict};

/// A fresh, empty folder for one test, removed when the test ends.
pub struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("actrec-audit-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    Scratch(dir)
}

pub fn judged_with() -> JudgedWith {
    JudgedWith {
        model: Artifact {
            name: "demo".into(),
            version: "0.3.0".into(),
            sha256: "ab".repeat(32),
        },
        config: Artifact {
            name: "station.toml".into(),
            version: String::new(),
            sha256: "cd".repeat(32),
        },
        sequence: Artifact {
            name: "gear-housing".into(),
            version: "2".into(),
            sha256: "ef".repeat(32),
        },
    }
}

pub fn part(n: u32, verdict: Verdict, clip: Option<&str>) -> PartRecord {
    PartRecord {
        part: n,
        stream_t: f64::from(n) * 60.0,
        verdict,
        missing: if verdict == Verdict::Reject {
            vec!["greased_disk".into(), "spacer".into()]
        } else {
            Vec::new()
        },
        errors: u32::from(verdict == Verdict::Reject),
        clip: clip.map(str::to_owned),
        judged_with: judged_with(),
    }
}

pub fn step(n: u32, label: &str) -> Record {
    Record::Step(StepRecord {
        part: n,
        stream_t: f64::from(n) * 60.0 + 1.5,
        step: label.into(),
        p: 0.875,
        status: StepStatus::Ok,
        expected: Vec::new(),
    })
}

pub fn fault(detail: &str) -> Record {
    Record::Fault(FaultRecord {
        fault: Fault::NoVideo,
        state: FaultState::Raised,
        detail: detail.into(),
    })
}

/// A database with `parts` parts of three steps each (every third rejected).
pub fn filled(path: &Path, parts: u32) -> Audit {
    let mut audit = Audit::open(path, Settings::default()).expect("open");
    for n in 1..=parts {
        for label in ["place_gear", "spacer", "install_lid"] {
            audit.record(&step(n, label)).expect("step");
        }
        let verdict = if n % 3 == 0 { Verdict::Reject } else { Verdict::Pass };
        audit.commit_verdict(&part(n, verdict, None)).expect("verdict");
    }
    audit
}

/// Runs SQL on the file with a plain connection, as a tamperer would.
pub fn tamper(path: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(path).expect("open for tampering");
    conn.execute_batch(sql).expect("tampering SQL");
}

pub fn sha256_of(path: &Path) -> String {
    actrec_audit::sha256_file(path).expect("hash")
}
