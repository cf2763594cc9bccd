//! The event seam: where the engine's events go. Every event is one
//! [`EngineEvent`], the typed contract of `docs/SEQUENCES.md` and
//! `docs/PANEL.md`. Sinks: [`Stdout`] (JSON lines or
//! the readable log), the panel's link ([`PanelLink`], the last parts'
//! events for a client that comes late), and [`Collect`] (in memory: `actrec-lab
//! eval` and the tests).

use std::collections::VecDeque;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use actrec_audit::{ExportProgress, Exported};
use actrec_core::event::Event;
use actrec_core::light::Lights;
use actrec_core::sync::lock;
use actrec_ipc::event::MediaEvent;
use actrec_ipc::{EngineEvent, ToClient};

use super::clients::Clients;
use super::lines::FaultChange;
use crate::report;

/// How events are written on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    Json,
    /// An operator's readable log; events without a text line are left out.
    Text,
}

pub trait EventSink {
    fn emit(&mut self, event: &EngineEvent);
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
    fn emit(&mut self, event: &EngineEvent) {
        let line = match self.format {
            // Through a `Value`, as on the socket: the documented bytes (sorted keys).
            Format::Json => match serde_json::to_value(event) {
                Ok(value) => value.to_string(),
                Err(err) => {
                    tracing::error!(%err, kind = event.kind(), "cannot serialise an event");
                    return;
                }
            },
            Format::Text => match report::line(event, self.colour) {
                Some(line) => line,
                None => return,
            },
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// Every event, kept in memory, for the caller that made it.
#[derive(Debug, Clone, Default)]
pub struct Collect(pub Arc<Mutex<Vec<EngineEvent>>>);

impl Collect {
    pub fn events(&self) -> Vec<EngineEvent> {
        lock(&self.0).clone()
    }
}

impl EventSink for Collect {
    fn emit(&mut self, event: &EngineEvent) {
        lock(&self.0).push(event.clone());
    }
}

/// Events the panel gets on connecting: the last parts' steps and verdicts.
const RECENT_EVENTS: usize = 400;

/// The engine's socket for panels and tools, and the events a newcomer needs.
pub struct PanelLink {
    pub clients: Box<dyn Clients>,
    recent: VecDeque<ToClient>,
}

impl PanelLink {
    pub fn new(clients: Box<dyn Clients>) -> Self {
        Self {
            clients,
            recent: VecDeque::new(),
        }
    }

    fn publish(&mut self, event: &EngineEvent) {
        let message = match ToClient::event(event) {
            Ok(message) => message,
            Err(err) => {
                tracing::error!(%err, kind = event.kind(), "cannot serialise an event");
                return;
            }
        };
        if matches!(event, EngineEvent::Step(_) | EngineEvent::Part(_)) {
            if self.recent.len() == RECENT_EVENTS {
                self.recent.pop_front();
            }
            self.recent.push_back(message.clone());
        }
        self.clients.publish(&message);
    }

    /// The recent step and part events, oldest first, as sent.
    pub fn recent(&self) -> impl Iterator<Item = &ToClient> {
        self.recent.iter()
    }
}

/// Every sink the engine writes to, and one method per event it makes.
pub struct EventOut {
    pub sinks: Vec<Box<dyn EventSink>>,
    pub panel: Option<PanelLink>,
}

impl EventOut {
    /// One event, to every sink and the panels.
    pub fn emit(&mut self, event: EngineEvent) {
        for sink in &mut self.sinks {
            sink.emit(&event);
        }
        if let Some(panel) = &mut self.panel {
            panel.publish(&event);
        }
    }

    pub fn station(&mut self, event: &Event) {
        self.emit(EngineEvent::from(event));
    }

    pub fn media(&mut self, event: &MediaEvent) {
        self.emit(EngineEvent::from(event.clone()));
    }

    pub fn fault(&mut self, change: &FaultChange) {
        self.emit(EngineEvent::Fault {
            fault: change.fault,
            active: change.active,
        });
    }

    /// The previous run was cut off; the outage, at most `seconds` long, is in the audit log.
    pub fn outage(&mut self, seconds: f64) {
        self.emit(EngineEvent::Outage { seconds });
    }

    /// A part's verdict is in the audit log, durably, at `row`.
    pub fn committed(&mut self, part: u32, row: i64) {
        self.emit(EngineEvent::Committed { part, row });
    }

    pub fn lights(&mut self, lights: &Lights) {
        self.emit(EngineEvent::Lights { lights: *lights });
    }

    pub fn stick(&mut self, path: &Path, present: bool) {
        self.emit(EngineEvent::Stick {
            path: path.to_owned(),
            present,
        });
    }

    pub fn export_started(&mut self, to: &Path) {
        self.emit(EngineEvent::ExportStarted { to: to.to_owned() });
    }

    /// Progress for the panel's bar; the text log shows only the phases.
    pub fn export_progress(&mut self, progress: &ExportProgress) {
        let (phase, done, total) = progress_parts(progress);
        self.emit(EngineEvent::ExportProgress {
            phase: phase.into(),
            done,
            total,
        });
    }

    pub fn export_done(&mut self, exported: &Exported) {
        self.emit(EngineEvent::ExportDone {
            folder: exported.dir.clone(),
            rows: exported.rows,
            parts: exported.parts,
            head: exported.head.hash.clone(),
            safe_to_remove: true,
        });
    }

    pub fn export_failed(&mut self, message: &str) {
        self.emit(EngineEvent::ExportFailed { error: message.into() });
    }

    pub fn acknowledged(&mut self, waiting: bool) {
        self.emit(EngineEvent::Acknowledged {
            reject_was_waiting: waiting,
        });
    }

    /// An operator's command that the engine refused (a wrong PIN, say).
    pub fn refused(&mut self, command: &str, reason: &str) {
        self.emit(EngineEvent::Refused {
            command: command.into(),
            reason: reason.into(),
        });
    }

    pub fn sequence_selected(&mut self, name: &str) {
        self.emit(EngineEvent::SequenceSelected { sequence: name.into() });
    }

    pub fn stopped(&mut self, frames: u64, display_frames: u64) {
        self.emit(EngineEvent::Stopped { frames, display_frames });
    }
}

/// An export's phase and counts, as the event stream and the panel name them.
pub fn progress_parts(progress: &ExportProgress) -> (&'static str, u64, u64) {
    match *progress {
        ExportProgress::Rows { done, total } => ("rows", done, total),
        ExportProgress::Clips { done, total } => ("clips", done, total),
        ExportProgress::Syncing => ("syncing", 0, 0),
    }
}
