//! The `sim` backend: no hardware. Every change of a line's level is written
//! to a JSON-lines file and sent to subscribers (the panel's event stream,
//! `make demo`, tests).
//!
//! One record per change, in order:
//!
//! ```json
//! {"unix_ms":1767225600123,"t_ms":0,"line":"red","state":"on"}
//! ```
//!
//! `unix_ms` is the wall clock; `t_ms` counts from the backend's creation on
//! the monotonic clock, so durations (a reject pulse) can be read from it even
//! when the wall clock steps. A set that does not change the level is not
//! recorded. The file is created anew at each start (it describes one run)
//! and written with one `write` per record, without fsync: it is a simulator,
//! not the audit log. The sim has all six lines, configured or not.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::{Error, Line, OutputLines, lock};

/// One recorded change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineEvent {
    /// Wall-clock time, milliseconds since the Unix epoch.
    pub unix_ms: u64,
    /// Milliseconds since the backend was created (monotonic).
    pub t_ms: u64,
    pub line: Line,
    pub state: LineState,
}

/// A line's logical level, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineState {
    Off,
    On,
}

impl LineState {
    pub fn is_on(self) -> bool {
        self == LineState::On
    }
}

impl From<bool> for LineState {
    fn from(on: bool) -> Self {
        if on { LineState::On } else { LineState::Off }
    }
}

/// Simulated output lines.
pub struct SimLines {
    start: Instant,
    path: Option<PathBuf>,
    inner: Mutex<Inner>,
}

struct Inner {
    levels: [Option<bool>; 6],
    file: Option<File>,
    subscribers: Vec<mpsc::Sender<LineEvent>>,
}

impl SimLines {
    /// A simulator recording to `path` (created, with its directory, and
    /// emptied), or to subscribers only. Every line starts in its safe state,
    /// and those first levels are the file's first records.
    pub fn create(path: Option<&Path>) -> Result<Self, Error> {
        let file = match path {
            Some(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                }
                Some(File::create(path).map_err(|e| Error::io(path, e))?)
            }
            None => None,
        };
        let sim = SimLines {
            start: Instant::now(),
            path: path.map(Path::to_owned),
            inner: Mutex::new(Inner {
                levels: [None; 6],
                file,
                subscribers: Vec::new(),
            }),
        };
        sim.drive_safe()?;
        tracing::debug!(path = ?sim.path, "sim output lines ready");
        Ok(sim)
    }

    /// The record file, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// A stream of every later change. Dropping the receiver unsubscribes.
    pub fn subscribe(&self) -> mpsc::Receiver<LineEvent> {
        let (tx, rx) = mpsc::channel();
        lock(&self.inner).subscribers.push(tx);
        rx
    }

    /// A line's current logical level.
    pub fn level(&self, line: Line) -> Option<bool> {
        lock(&self.inner).levels[line.index()]
    }

    /// Reads a record file back, e.g. in tests or to replay a run.
    pub fn read_records(path: &Path) -> Result<Vec<LineEvent>, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).map_err(|_| Error::Parse {
                    path: path.to_owned(),
                    what: "a line event",
                    text: l.to_owned(),
                })
            })
            .collect()
    }
}

impl OutputLines for SimLines {
    fn backend(&self) -> &'static str {
        "sim"
    }

    fn has(&self, _line: Line) -> bool {
        true
    }

    fn set(&self, line: Line, on: bool) -> Result<(), Error> {
        let mut inner = lock(&self.inner);
        if inner.levels[line.index()] == Some(on) {
            return Ok(());
        }
        inner.levels[line.index()] = Some(on);
        let event = LineEvent {
            unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            t_ms: u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX),
            line,
            state: on.into(),
        };
        tracing::debug!(line = line.name(), on, "sim line");
        inner.subscribers.retain(|tx| tx.send(event).is_ok());
        if let Some(file) = &mut inner.file {
            let mut record = serde_json::to_string(&event).map_err(|e| Error::Parse {
                path: self.path.clone().unwrap_or_default(),
                what: "a line event",
                text: e.to_string(),
            })?;
            record.push('\n');
            if let Err(e) = file.write_all(record.as_bytes()) {
                return Err(Error::io(self.path.as_deref().unwrap_or(Path::new("")), e));
            }
        }
        Ok(())
    }
}

impl Drop for SimLines {
    fn drop(&mut self) {
        let _ = self.drive_safe();
    }
}
