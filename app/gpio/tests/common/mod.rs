//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use actrec_gpio::Line;
use actrec_gpio::sim::{LineEvent, SimLines};

/// A fresh directory under the system's temp dir, for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("actrec-gpio-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The records of a sim file, as `(line, on)` pairs, in order.
pub fn changes(path: &Path) -> Vec<(Line, bool)> {
    SimLines::read_records(path)
        .unwrap()
        .into_iter()
        .map(|e: LineEvent| (e.line, e.state.is_on()))
        .collect()
}

/// The level of every line after the records of a sim file.
pub fn final_levels(path: &Path) -> BTreeMap<Line, bool> {
    changes(path).into_iter().collect()
}

/// The safe level of every line.
pub fn safe_levels() -> BTreeMap<Line, bool> {
    Line::ALL.into_iter().map(|l| (l, l.safe_level())).collect()
}

/// Levels written as a map, from `(line, on)` pairs.
pub fn levels(pairs: &[(Line, bool)]) -> BTreeMap<Line, bool> {
    pairs.iter().copied().collect()
}
