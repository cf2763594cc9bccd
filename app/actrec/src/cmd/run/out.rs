//! What the engine writes: events on stdout (JSON lines with the `actrec
//! check` schema for station events, or an operator's readable log), and
//! every window's prediction and timing to files when asked.

use std::cell::RefCell;
use std::collections::VecDeque;
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

/// A file of JSON lines, flushed as written: every window's prediction
/// (`--predictions`), or its timing (`--timings`, for `actrec bench`).
pub struct JsonLines {
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
}

impl JsonLines {
    pub fn create(path: &Path) -> Result<Self, StartError> {
        Self::open(
            path,
            std::fs::OpenOptions::new().write(true).create(true).truncate(true),
        )
    }

    pub fn append(path: &Path) -> Result<Self, StartError> {
        Self::open(path, std::fs::OpenOptions::new().append(true).create(true))
    }

    fn open(path: &Path, options: &std::fs::OpenOptions) -> Result<Self, StartError> {
        let file = options.open(path).map_err(|err| StartError::Path {
            path: path.to_owned(),
            message: format!("cannot create: {err}"),
        })?;
        Ok(Self {
            path: path.to_owned(),
            file: std::io::BufWriter::new(file),
        })
    }

    /// A window as `actrec check --windows` and `actrec run --windows` read it.
    pub fn window(&mut self, window: &Window) -> Result<(), StartError> {
        self.write(&serde_json::json!({"t": window.t, "label": window.label, "p": window.p}))
    }

    pub fn write(&mut self, line: &serde_json::Value) -> Result<(), StartError> {
        writeln!(self.file, "{line}")
            .and_then(|()| self.file.flush())
            .map_err(|err| StartError::Path {
                path: self.path.clone(),
                message: format!("cannot write: {err}"),
            })
    }
}

/// Where the engine's events go: JSON lines on stdout (the `actrec check`
/// schema for station events) or an operator's readable log, and the same
/// JSON to every panel connected.
pub struct EventOut {
    pub format: Format,
    pub colour: bool,
    pub panel: Option<Panel>,
}

/// Events the panel gets on connecting: the last parts' steps and verdicts.
const RECENT_EVENTS: usize = 400;

/// The engine's socket for panels and tools, and the events a newcomer needs.
pub struct Panel {
    pub server: actrec_ipc::Server,
    recent: RefCell<VecDeque<serde_json::Value>>,
}

impl Panel {
    pub fn new(server: actrec_ipc::Server) -> Self {
        Self {
            server,
            recent: RefCell::default(),
        }
    }

    fn publish(&self, event: serde_json::Value) {
        if matches!(event["kind"].as_str(), Some("step" | "part")) {
            let mut recent = self.recent.borrow_mut();
            if recent.len() == RECENT_EVENTS {
                recent.pop_front();
            }
            recent.push_back(event.clone());
        }
        self.server.publish(&actrec_ipc::ToClient::Event { event });
    }

    /// The recent step and part events, oldest first.
    pub fn recent(&self) -> Vec<serde_json::Value> {
        self.recent.borrow().iter().cloned().collect()
    }
}

impl EventOut {
    fn line(&self, line: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    /// One event: its JSON to stdout (or its text, if it has one) and to the panels.
    fn emit(&self, event: serde_json::Value, text: Option<String>) {
        match (self.format, text) {
            (Format::Json, _) => self.line(&event.to_string()),
            (Format::Text, Some(text)) => self.line(&text),
            (Format::Text, None) => {}
        }
        if let Some(panel) = &self.panel {
            panel.publish(event);
        }
    }

    fn emit_serialized(&self, event: &impl Serialize, text: Option<String>) {
        match serde_json::to_value(event) {
            Ok(value) => self.emit(value, text),
            Err(err) => tracing::error!(%err, "cannot serialise an event"),
        }
    }

    pub fn station(&self, event: &Event) {
        let text = matches!(self.format, Format::Text).then(|| report::text(event, self.colour));
        self.emit_serialized(&Record::from(event), text);
    }

    pub fn media(&self, event: &MediaEvent) {
        self.emit_serialized(event, Some(format!("{:10}  {}", "", media_text(event))));
    }

    pub fn fault(&self, change: &FaultChange) {
        let fault = change.fault.as_str();
        let text = if change.active {
            format!("{:10}  FAULT {fault}: not inspecting", "")
        } else {
            format!("{:10}  fault {fault} cleared", "")
        };
        self.emit(
            serde_json::json!({"kind": "fault", "fault": fault, "active": change.active}),
            Some(text),
        );
    }

    /// The previous run was cut off; the outage, at most `seconds` long, is in the audit log.
    pub fn outage(&self, seconds: f64) {
        self.emit(
            serde_json::json!({"kind": "outage", "seconds": seconds}),
            Some(format!(
                "{:10}  the engine was down (up to {seconds:.1} s): recorded as a fault",
                ""
            )),
        );
    }

    /// A part's verdict is in the audit log, durably, at `row`.
    pub fn committed(&self, part: u32, row: i64) {
        self.emit(serde_json::json!({"kind": "committed", "part": part, "row": row}), None);
    }

    pub fn lights(&self, lights: &Lights) {
        self.emit(serde_json::json!({"kind": "lights", "lights": lights}), None);
    }

    pub fn stick(&self, path: &Path, present: bool) {
        let text = if present {
            format!("{:10}  USB stick at {}", "", path.display())
        } else {
            format!("{:10}  USB stick at {} gone", "", path.display())
        };
        self.emit(
            serde_json::json!({"kind": "stick", "path": path, "present": present}),
            Some(text),
        );
    }

    pub fn export_started(&self, to: &Path) {
        self.emit(
            serde_json::json!({"kind": "export_started", "to": to}),
            Some(format!("{:10}  exporting to {}", "", to.display())),
        );
    }

    /// Progress for the panel's bar; the text log shows only the phases.
    pub fn export_progress(&self, progress: &Progress) {
        let (phase, done, total) = progress_parts(progress);
        self.emit(
            serde_json::json!({"kind": "export_progress", "phase": phase, "done": done, "total": total}),
            None,
        );
    }

    pub fn export_done(&self, exported: &Exported) {
        self.emit(
            serde_json::json!({
                "kind": "export_done",
                "folder": exported.dir,
                "rows": exported.rows,
                "parts": exported.parts,
                "head": exported.head.hash,
                "safe_to_remove": true,
            }),
            Some(format!(
                "{:10}  exported {} rows to {}: safe to remove the stick",
                "",
                exported.rows,
                exported.dir.display()
            )),
        );
    }

    pub fn export_failed(&self, message: &str) {
        self.emit(
            serde_json::json!({"kind": "export_failed", "error": message}),
            Some(format!("{:10}  EXPORT FAILED: {message}", "")),
        );
    }

    pub fn acknowledged(&self, waiting: bool) {
        self.emit(
            serde_json::json!({"kind": "acknowledged", "reject_was_waiting": waiting}),
            Some(format!("{:10}  reject acknowledged", "")),
        );
    }

    /// An operator's command that the engine refused (a wrong PIN, say).
    pub fn refused(&self, command: &str, reason: &str) {
        self.emit(
            serde_json::json!({"kind": "refused", "command": command, "reason": reason}),
            Some(format!("{:10}  {command} refused: {reason}", "")),
        );
    }

    pub fn sequence_selected(&self, name: &str) {
        self.emit(
            serde_json::json!({"kind": "sequence_selected", "sequence": name}),
            Some(format!("{:10}  sequence {name} selected", "")),
        );
    }

    pub fn stopped(&self, frames: u64, display_frames: u64) {
        self.emit(
            serde_json::json!({"kind": "stopped", "frames": frames, "display_frames": display_frames}),
            Some(format!("# stopped after {frames} frames ({display_frames} shown)")),
        );
    }
}

/// An export's phase and counts, as the event stream and the panel name them.
pub fn progress_parts(progress: &Progress) -> (&'static str, u64, u64) {
    match *progress {
        Progress::Rows { done, total } => ("rows", done, total),
        Progress::Clips { done, total } => ("clips", done, total),
        Progress::Syncing => ("syncing", 0, 0),
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
