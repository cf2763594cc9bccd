//! Files of JSON lines, flushed as written: every window's prediction
//! (`Options::predictions`), or its timing (`Options::timings`, for
//! `actrec-lab bench`).

use std::io::Write;
use std::path::{Path, PathBuf};

use actrec_core::decode::Window;

use crate::StationError;

/// A file of JSON lines, flushed as written: every window's prediction
/// (`--predictions`), or its timing (`--timings`, for `actrec bench`).
pub struct JsonLines {
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
}

impl JsonLines {
    pub fn create(path: &Path) -> Result<Self, StationError> {
        Self::open(
            path,
            std::fs::OpenOptions::new().write(true).create(true).truncate(true),
        )
    }

    pub fn append(path: &Path) -> Result<Self, StationError> {
        Self::open(path, std::fs::OpenOptions::new().append(true).create(true))
    }

    fn open(path: &Path, options: &std::fs::OpenOptions) -> Result<Self, StationError> {
        let file = options.open(path).map_err(|err| StationError::Path {
            path: path.to_owned(),
            message: format!("cannot create: {err}"),
        })?;
        Ok(Self {
            path: path.to_owned(),
            file: std::io::BufWriter::new(file),
        })
    }

    /// A window as `actrec check --windows` and `actrec run --windows` read it.
    pub fn window(&mut self, window: &Window) -> Result<(), StationError> {
        self.write(&serde_json::json!({"t": window.t, "label": window.label, "p": window.p}))
    }

    pub fn write(&mut self, line: &serde_json::Value) -> Result<(), StationError> {
        writeln!(self.file, "{line}")
            .and_then(|()| self.file.flush())
            .map_err(|err| StationError::Path {
                path: self.path.clone(),
                message: format!("cannot write: {err}"),
            })
    }
}
