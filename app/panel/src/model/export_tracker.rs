//! Where a USB export stands, for the export button and its strip: from the
//! status snapshots and the export events between them.

use std::path::PathBuf;

use actrec_ipc::event::EngineEvent;
use actrec_ipc::{ExportState, Status};

use super::{Tone, display_label};

/// Where an export stands, from the status and the export events between statuses.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportPhase {
    Idle,
    /// Asked for; the engine has not said it started.
    Requested,
    /// As the engine tells it (or the engine's refusal, as a failure).
    Engine(ExportState),
}

/// The export button and its strip.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportView {
    /// The button may be pressed.
    pub enabled: bool,
    /// Under the button: `No USB stick`, or the stick.
    pub stick: String,
    /// The strip: shown when not idle.
    pub visible: bool,
    pub busy: bool,
    pub fraction: f32,
    pub message: String,
    pub tone: Tone,
}

#[derive(Debug, Clone)]
pub struct ExportTracker {
    phase: ExportPhase,
    sticks: Vec<PathBuf>,
    /// The operator closed the strip showing this phase.
    dismissed: Option<ExportPhase>,
}

impl Default for ExportTracker {
    fn default() -> Self {
        Self {
            phase: ExportPhase::Idle,
            sticks: Vec::new(),
            dismissed: None,
        }
    }
}

impl ExportTracker {
    pub fn phase(&self) -> &ExportPhase {
        &self.phase
    }

    pub fn apply_status(&mut self, status: &Status) {
        self.sticks.clone_from(&status.sticks);
        self.phase = match &status.export {
            Some(export) => ExportPhase::Engine(export.state.clone()),
            // A snapshot taken before the engine took the command.
            None if self.phase == ExportPhase::Requested => ExportPhase::Requested,
            None => ExportPhase::Idle,
        };
    }

    /// Takes an event; true when it concerned the export.
    pub fn apply_event(&mut self, event: &EngineEvent) -> bool {
        let state = match event {
            EngineEvent::ExportStarted { .. } => ExportState::Running {
                phase: "starting".to_owned(),
                done: 0,
                total: 0,
            },
            EngineEvent::ExportProgress { phase, done, total } => ExportState::Running {
                phase: phase.clone(),
                done: *done,
                total: *total,
            },
            EngineEvent::ExportDone { folder, rows, .. } => ExportState::Done {
                folder: folder.clone(),
                rows: *rows,
            },
            EngineEvent::ExportFailed { error } => ExportState::Failed { error: error.clone() },
            _ => return false,
        };
        self.phase = ExportPhase::Engine(state);
        true
    }

    /// The button was pressed.
    pub fn requested(&mut self) {
        self.phase = ExportPhase::Requested;
        self.dismissed = None;
    }

    /// The engine refused the command.
    pub fn refused(&mut self, error: String) {
        self.phase = ExportPhase::Engine(ExportState::Failed { error });
    }

    pub fn dismiss(&mut self) {
        self.dismissed = Some(self.phase.clone());
    }

    pub fn view(&self) -> ExportView {
        let busy = matches!(
            self.phase,
            ExportPhase::Requested | ExportPhase::Engine(ExportState::Running { .. })
        );
        let stick = match self.sticks.as_slice() {
            [] => "No USB stick".to_owned(),
            [one] => one
                .file_name()
                .map_or_else(|| one.display().to_string(), |n| n.to_string_lossy().into_owned()),
            more => format!("{} sticks", more.len()),
        };
        let (fraction, message, tone) = match &self.phase {
            ExportPhase::Idle => (0.0, String::new(), Tone::Normal),
            ExportPhase::Requested => (0.0, "Export: starting…".to_owned(), Tone::Normal),
            ExportPhase::Engine(ExportState::Running { phase, done, total }) => {
                let fraction = if *total > 0 {
                    (*done.min(total) as f64 / *total as f64) as f32
                } else {
                    0.0
                };
                let counts = if *total > 0 {
                    format!(" {done}/{total}")
                } else {
                    String::new()
                };
                (
                    fraction,
                    format!(
                        "Exporting {}{counts}: do not remove the USB stick",
                        display_label(phase)
                    ),
                    Tone::Normal,
                )
            }
            ExportPhase::Engine(ExportState::Done { folder, rows }) => (
                1.0,
                format!(
                    "Export done: {rows} rows in {}. Safe to remove the USB stick.",
                    folder.display()
                ),
                Tone::Pass,
            ),
            ExportPhase::Engine(ExportState::Failed { error }) => {
                (0.0, format!("Export failed: {error}"), Tone::Reject)
            }
        };
        let visible = self.phase != ExportPhase::Idle && self.dismissed.as_ref() != Some(&self.phase);
        ExportView {
            enabled: !self.sticks.is_empty() && !busy,
            stick,
            visible,
            busy,
            fraction,
            message,
            tone,
        }
    }
}

#[cfg(test)]
mod tests {
    use actrec_ipc::Export;

    use super::*;
    use crate::model::test_events::other;

    fn status_with(sticks: &[&str], state: Option<ExportState>) -> Status {
        Status {
            sticks: sticks.iter().map(PathBuf::from).collect(),
            export: state.map(|state| Export {
                to: "/media/usb0".into(),
                state,
            }),
            ..Status::default()
        }
    }

    #[test]
    fn the_export_goes_from_request_to_safe_to_remove() {
        let mut export = ExportTracker::default();
        export.apply_status(&status_with(&[], None));
        let view = export.view();
        assert!(!view.enabled);
        assert_eq!(view.stick, "No USB stick");
        assert!(!view.visible);

        export.apply_status(&status_with(&["/media/usb0"], None));
        assert!(export.view().enabled);
        assert_eq!(export.view().stick, "usb0");
        export.requested();
        // A status from before the engine took the command keeps the request.
        export.apply_status(&status_with(&["/media/usb0"], None));
        assert_eq!(export.phase(), &ExportPhase::Requested);
        let view = export.view();
        assert!(view.visible && view.busy && !view.enabled);

        assert!(export.apply_event(&EngineEvent::ExportProgress {
            phase: "rows".into(),
            done: 25,
            total: 100
        }));
        let view = export.view();
        assert_eq!(view.fraction, 0.25);
        assert!(view.message.contains("do not remove"), "{}", view.message);

        export.apply_status(&status_with(
            &["/media/usb0"],
            Some(ExportState::Done {
                folder: "/media/usb0/actrec-2026".into(),
                rows: 42,
            }),
        ));
        let view = export.view();
        assert!(view.enabled && !view.busy && view.visible);
        assert_eq!(view.tone, Tone::Pass);
        assert_eq!(
            view.message,
            "Export done: 42 rows in /media/usb0/actrec-2026. Safe to remove the USB stick."
        );
        export.dismiss();
        assert!(!export.view().visible);
        assert!(!export.apply_event(&other()));

        export.apply_event(&EngineEvent::ExportFailed {
            error: "no space left".into(),
        });
        let view = export.view();
        assert!(view.visible, "a new phase shows again");
        assert_eq!(view.message, "Export failed: no space left");
        export.requested();
        export.refused("no USB stick mounted".into());
        assert_eq!(export.view().message, "Export failed: no USB stick mounted");
        export.apply_status(&status_with(&["/a", "/b"], None));
        assert_eq!(export.view().stick, "2 sticks");
        assert_eq!(export.phase(), &ExportPhase::Idle);
    }
}
