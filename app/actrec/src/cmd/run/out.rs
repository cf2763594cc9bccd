//! What the engine writes: events on stdout (JSON lines with the `actrec
//! check` schema for station events, or an operator's readable log), and
//! every window's prediction to a file when asked.

use std::io::Write;
use std::path::{Path, PathBuf};

use actrec_audit::{Exported, Progress};
use actrec_core::decode::Window;
use actrec_core::event::Event;
use actrec_core::light::Lights;
use actrec_media::event::MediaEvent;
use serde::Serialize;

use super::StartError;
use super::line::FaultChange;
use crate::Format;
use crate::report::{self, Record};

/// Every window's prediction, one JSON line each, flushed as written.
pub struct PredictionLog {
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
}

impl PredictionLog {
    pub fn create(path: &Path) -> Result<Self, StartError> {
        let file = std::fs::File::create(path).map_err(|err| StartError::Path {
            path: path.to_owned(),
            message: format!("cannot create: {err}"),
        })?;
        Ok(Self {
            path: path.to_owned(),
            file: std::io::BufWriter::new(file),
        })
    }

    pub fn write(&mut self, window: &Window) -> Result<(), StartError> {
        let line = serde_json::json!({"t": window.t, "label": window.label, "p": window.p});
        writeln!(self.file, "{line}")
            .and_then(|()| self.file.flush())
            .map_err(|err| StartError::Path {
                path: self.path.clone(),
                message: format!("cannot write: {err}"),
            })
    }
}

/// Where the engine's events go: JSON lines (the `actrec check` schema for
/// station events), or an operator's readable log.
pub struct EventOut {
    pub format: Format,
    pub colour: bool,
}

impl EventOut {
    fn line(&self, line: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    fn json(&self, value: &impl Serialize) {
        if let Ok(line) = serde_json::to_string(value) {
            self.line(&line);
        }
    }

    pub fn station(&self, event: &Event) {
        match self.format {
            Format::Json => self.json(&Record::from(event)),
            Format::Text => self.line(&report::text(event, self.colour)),
        }
    }

    pub fn media(&self, event: &MediaEvent) {
        match self.format {
            Format::Json => self.json(event),
            Format::Text => self.line(&format!("{:10}  {}", "", media_text(event))),
        }
    }

    pub fn fault(&self, change: &FaultChange) {
        let fault = change.fault.as_str();
        match self.format {
            Format::Json => self.json(&serde_json::json!({"kind": "fault", "fault": fault, "active": change.active})),
            Format::Text if change.active => self.line(&format!("{:10}  FAULT {fault}: not inspecting", "")),
            Format::Text => self.line(&format!("{:10}  fault {fault} cleared", "")),
        }
    }

    /// A part's verdict is in the audit log, durably, at `row`.
    pub fn committed(&self, part: u32, row: i64) {
        if let Format::Json = self.format {
            self.json(&serde_json::json!({"kind": "committed", "part": part, "row": row}));
        }
    }

    pub fn lights(&self, lights: &Lights) {
        match self.format {
            Format::Json => self.json(&serde_json::json!({"kind": "lights", "lights": lights})),
            Format::Text => {}
        }
    }

    pub fn stick(&self, path: &Path, present: bool) {
        match self.format {
            Format::Json => self.json(&serde_json::json!({"kind": "stick", "path": path, "present": present})),
            Format::Text if present => self.line(&format!("{:10}  USB stick at {}", "", path.display())),
            Format::Text => self.line(&format!("{:10}  USB stick at {} gone", "", path.display())),
        }
    }

    pub fn export_started(&self, to: &Path) {
        match self.format {
            Format::Json => self.json(&serde_json::json!({"kind": "export_started", "to": to})),
            Format::Text => self.line(&format!("{:10}  exporting to {}", "", to.display())),
        }
    }

    /// Progress for the panel's bar; the text log shows only the phases.
    pub fn export_progress(&self, progress: &Progress) {
        let (phase, done, total) = match *progress {
            Progress::Rows { done, total } => ("rows", done, total),
            Progress::Clips { done, total } => ("clips", done, total),
            Progress::Syncing => ("syncing", 0, 0),
        };
        if let Format::Json = self.format {
            self.json(&serde_json::json!({"kind": "export_progress", "phase": phase, "done": done, "total": total}));
        }
    }

    pub fn export_done(&self, exported: &Exported) {
        match self.format {
            Format::Json => self.json(&serde_json::json!({
                "kind": "export_done",
                "folder": exported.dir,
                "rows": exported.rows,
                "parts": exported.parts,
                "head": exported.head.hash,
                "safe_to_remove": true,
            })),
            Format::Text => self.line(&format!(
                "{:10}  exported {} rows to {}: safe to remove the stick",
                "",
                exported.rows,
                exported.dir.display()
            )),
        }
    }

    pub fn export_failed(&self, message: &str) {
        match self.format {
            Format::Json => self.json(&serde_json::json!({"kind": "export_failed", "error": message})),
            Format::Text => self.line(&format!("{:10}  EXPORT FAILED: {message}", "")),
        }
    }

    pub fn acknowledged(&self, waiting: bool) {
        match self.format {
            Format::Json => self.json(&serde_json::json!({"kind": "acknowledged", "reject_was_waiting": waiting})),
            Format::Text => self.line(&format!("{:10}  reject acknowledged", "")),
        }
    }

    pub fn stopped(&self, frames: u64, display_frames: u64) {
        match self.format {
            Format::Json => {
                self.json(&serde_json::json!({"kind": "stopped", "frames": frames, "display_frames": display_frames}))
            }
            Format::Text => self.line(&format!("# stopped after {frames} frames ({display_frames} shown)")),
        }
    }
}

fn media_text(event: &MediaEvent) -> String {
    match event {
        MediaEvent::SourceStarted { source, .. } => format!("source {source}: started"),
        MediaEvent::SourceLost { source, reason } => format!("source {source}: LOST ({reason})"),
        MediaEvent::SourceRestored { source } => format!("source {source}: restored"),
        MediaEvent::SourceError { source, message } => format!("source {source}: ERROR {message}"),
        MediaEvent::SourceEnded { source } => format!("source {source}: ended"),
        MediaEvent::SourceSwitched { from, to } => format!("source switched from {from} to {to}"),
        MediaEvent::FramesDropped {
            source,
            branch,
            count,
            total,
        } => {
            format!("source {source}: {count} frames dropped ({branch:?} branch, {total} in all)")
        }
        MediaEvent::OutputError { message } => format!("output ERROR {message}"),
        MediaEvent::ClipWritten { part, path } => format!("part {part}: evidence clip {}", path.display()),
        MediaEvent::ClipFailed { part, message } => format!("part {part}: evidence clip FAILED {message}"),
    }
}
