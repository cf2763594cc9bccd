//! The event seam: where the engine's events go. Every event is one JSON
//! object (the contract of `docs/SEQUENCES.md` and `docs/PANEL.md`), with an
//! operator's text line where it has one. Sinks: [`Stdout`] (JSON lines or
//! the readable log), the panel's link ([`PanelLink`], the last parts'
//! events for a client that comes late), and [`Collect`] (in memory: `actrec-lab
//! eval` and the tests).

use std::collections::VecDeque;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use actrec_audit::{Exported, Progress};
use actrec_core::event::Event;
use actrec_core::light::Lights;
use actrec_core::sync::lock;
use actrec_media::event::MediaEvent;
use serde::Serialize;

use super::clients::Clients;
use super::lines::FaultChange;
use crate::report::{self, Record};

/// How events are written on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    Json,
    /// An operator's readable log; events without a text line are left out.
    Text,
}

pub trait EventSink {
    fn emit(&mut self, event: &serde_json::Value, text: Option<&str>);
}

/// Events on the process's stdout.
pub struct Stdout {
    pub format: Format,
    /// Colour codes in the text log (a terminal, no `NO_COLOR`).
    pub colour: bool,
}

impl Stdout {
    /// Colour only for the text log on a terminal, unless `NO_COLOR` is set.
    pub fn new(format: Format) -> Self {
        Self {
            format,
            colour: format == Format::Text
                && std::io::IsTerminal::is_terminal(&std::io::stdout())
                && std::env::var_os("NO_COLOR").is_none(),
        }
    }
}

impl EventSink for Stdout {
    fn emit(&mut self, event: &serde_json::Value, text: Option<&str>) {
        let line = match (self.format, text) {
            (Format::Json, _) => event.to_string(),
            (Format::Text, Some(text)) => text.to_owned(),
            (Format::Text, None) => return,
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// Every event, kept in memory, for the caller that made it.
#[derive(Debug, Clone, Default)]
pub struct Collect(pub Arc<Mutex<Vec<serde_json::Value>>>);

impl Collect {
    pub fn events(&self) -> Vec<serde_json::Value> {
        lock(&self.0).clone()
    }
}

impl EventSink for Collect {
    fn emit(&mut self, event: &serde_json::Value, _text: Option<&str>) {
        lock(&self.0).push(event.clone());
    }
}

/// Events the panel gets on connecting: the last parts' steps and verdicts.
const RECENT_EVENTS: usize = 400;

/// The engine's socket for panels and tools, and the events a newcomer needs.
pub struct PanelLink {
    pub clients: Box<dyn Clients>,
    recent: VecDeque<serde_json::Value>,
}

impl PanelLink {
    pub fn new(clients: Box<dyn Clients>) -> Self {
        Self {
            clients,
            recent: VecDeque::new(),
        }
    }

    fn publish(&mut self, event: &serde_json::Value) {
        if matches!(event["kind"].as_str(), Some("step" | "part")) {
            if self.recent.len() == RECENT_EVENTS {
                self.recent.pop_front();
            }
            self.recent.push_back(event.clone());
        }
        self.clients
            .publish(&actrec_ipc::ToClient::Event { event: event.clone() });
    }

    /// The recent step and part events, oldest first.
    pub fn recent(&self) -> impl Iterator<Item = &serde_json::Value> {
        self.recent.iter()
    }
}

/// Every sink the engine writes to, and one method per kind of event.
pub struct EventOut {
    /// Colour codes in text lines.
    pub colour: bool,
    pub sinks: Vec<Box<dyn EventSink>>,
    pub panel: Option<PanelLink>,
}

impl EventOut {
    /// One event, to every sink and the panels.
    fn emit(&mut self, event: serde_json::Value, text: Option<String>) {
        for sink in &mut self.sinks {
            sink.emit(&event, text.as_deref());
        }
        if let Some(panel) = &mut self.panel {
            panel.publish(&event);
        }
    }

    fn emit_serialized(&mut self, event: &impl Serialize, text: Option<String>) {
        match serde_json::to_value(event) {
            Ok(value) => self.emit(value, text),
            Err(err) => tracing::error!(%err, "cannot serialise an event"),
        }
    }

    pub fn station(&mut self, event: &Event) {
        let text = Some(report::text(event, self.colour));
        self.emit_serialized(&Record::from(event), text);
    }

    pub fn media(&mut self, event: &MediaEvent) {
        self.emit_serialized(event, Some(format!("{:10}  {}", "", media_text(event))));
    }

    pub fn fault(&mut self, change: &FaultChange) {
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
    pub fn outage(&mut self, seconds: f64) {
        self.emit(
            serde_json::json!({"kind": "outage", "seconds": seconds}),
            Some(format!(
                "{:10}  the engine was down (up to {seconds:.1} s): recorded as a fault",
                ""
            )),
        );
    }

    /// A part's verdict is in the audit log, durably, at `row`.
    pub fn committed(&mut self, part: u32, row: i64) {
        self.emit(serde_json::json!({"kind": "committed", "part": part, "row": row}), None);
    }

    pub fn lights(&mut self, lights: &Lights) {
        self.emit(serde_json::json!({"kind": "lights", "lights": lights}), None);
    }

    pub fn stick(&mut self, path: &Path, present: bool) {
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

    pub fn export_started(&mut self, to: &Path) {
        self.emit(
            serde_json::json!({"kind": "export_started", "to": to}),
            Some(format!("{:10}  exporting to {}", "", to.display())),
        );
    }

    /// Progress for the panel's bar; the text log shows only the phases.
    pub fn export_progress(&mut self, progress: &Progress) {
        let (phase, done, total) = progress_parts(progress);
        self.emit(
            serde_json::json!({"kind": "export_progress", "phase": phase, "done": done, "total": total}),
            None,
        );
    }

    pub fn export_done(&mut self, exported: &Exported) {
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

    pub fn export_failed(&mut self, message: &str) {
        self.emit(
            serde_json::json!({"kind": "export_failed", "error": message}),
            Some(format!("{:10}  EXPORT FAILED: {message}", "")),
        );
    }

    pub fn acknowledged(&mut self, waiting: bool) {
        self.emit(
            serde_json::json!({"kind": "acknowledged", "reject_was_waiting": waiting}),
            Some(format!("{:10}  reject acknowledged", "")),
        );
    }

    /// An operator's command that the engine refused (a wrong PIN, say).
    pub fn refused(&mut self, command: &str, reason: &str) {
        self.emit(
            serde_json::json!({"kind": "refused", "command": command, "reason": reason}),
            Some(format!("{:10}  {command} refused: {reason}", "")),
        );
    }

    pub fn sequence_selected(&mut self, name: &str) {
        self.emit(
            serde_json::json!({"kind": "sequence_selected", "sequence": name}),
            Some(format!("{:10}  sequence {name} selected", "")),
        );
    }

    pub fn stopped(&mut self, frames: u64, display_frames: u64) {
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
