//! USB export from the running engine: sticks appearing and going under
//! the configured mount roots, and one export at a time on its own thread
//! (reading a snapshot of the audit log), with progress for the panel, then
//! a sync, then "safe to remove".

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actrec_audit::record::OperatorAction;
use actrec_audit::{ExportProgress, Exported};
use actrec_core::config::StationConfig;
use actrec_ipc::ExportState;
use crossbeam_channel::Sender;

use super::Engine;
use crate::deps::events::progress_parts;

impl Engine {
    pub(super) fn poll_sticks(&mut self) {
        let now = self.mounts.removable(&self.config.audit.mount_roots);
        for gone in self.sticks.iter().filter(|p| !now.contains(p)) {
            tracing::info!(stick = %gone.display(), "removable medium gone");
            self.out.stick(gone, false);
        }
        for new in now.iter().filter(|p| !self.sticks.contains(p)) {
            tracing::info!(stick = %new.display(), "removable medium mounted");
            self.out.stick(new, true);
        }
        self.sticks = now;
    }

    /// Starts an export to `to`, or to the one stick mounted.
    pub(super) fn start_export(&mut self, to: Option<PathBuf>) -> Result<PathBuf, String> {
        if let Some(busy) = self
            .export
            .as_ref()
            .filter(|e| matches!(e.state, ExportState::Running { .. }))
        {
            return Err(format!("an export to {} is running", busy.to.display()));
        }
        self.poll_sticks();
        let target = match (to, self.sticks.as_slice()) {
            (Some(to), _) => to,
            (None, [one]) => one.clone(),
            (None, []) => return Err("no USB stick is mounted".into()),
            (None, _) => return Err("several USB sticks are mounted: say which (`to`)".into()),
        };
        start(
            Arc::clone(&self.config),
            self.config_dir.clone(),
            target.clone(),
            self.export_updates.clone(),
        )
        .map_err(|err| format!("cannot start the export: {err}"))?;
        self.export = Some(actrec_ipc::Export {
            to: target.clone(),
            state: ExportState::Running {
                phase: "starting".into(),
                done: 0,
                total: 0,
            },
        });
        self.out.export_started(&target);
        Ok(target)
    }

    pub fn on_export(&mut self, update: ExportUpdate) {
        match update {
            ExportUpdate::Progress(progress) => {
                let (phase, done, total) = progress_parts(&progress);
                self.set_export_state(ExportState::Running {
                    phase: phase.into(),
                    done,
                    total,
                });
                self.out.export_progress(&progress);
            }
            ExportUpdate::Done(result) => match result {
                Ok(exported) => {
                    let recorded = self
                        .audit
                        .operator(OperatorAction::Export {
                            to: exported.dir.display().to_string(),
                            from: exported.from.rfc3339(),
                            until: exported.until.rfc3339(),
                            rows: exported.rows,
                            head_hash: exported.head.hash.clone(),
                        })
                        .map(drop);
                    self.audited(recorded, "export");
                    tracing::info!(folder = %exported.dir.display(), rows = exported.rows, "export done: safe to remove");
                    self.set_export_state(ExportState::Done {
                        folder: exported.dir.clone(),
                        rows: exported.rows,
                    });
                    self.out.export_done(&exported);
                }
                Err(message) => {
                    tracing::error!("{message}");
                    self.set_export_state(ExportState::Failed { error: message.clone() });
                    self.out.export_failed(&message);
                }
            },
        }
    }

    pub(super) fn set_export_state(&mut self, state: ExportState) {
        if let Some(export) = self.export.as_mut() {
            export.state = state;
        }
    }
}

/// What an export thread tells the main loop.
pub enum ExportUpdate {
    Progress(ExportProgress),
    /// Exported and synced to the medium, or why not.
    Done(Result<Exported, String>),
}

/// Starts an export into `to`; updates arrive on `updates`.
pub fn start(
    config: Arc<StationConfig>,
    config_dir: PathBuf,
    to: PathBuf,
    updates: Sender<ExportUpdate>,
) -> std::io::Result<()> {
    std::thread::Builder::new().name("export".into()).spawn(move || {
        let progress = updates.clone();
        let result = crate::usb::export(&config, &config_dir, &to, None, None, |p| {
            let _ = progress.send(ExportUpdate::Progress(p));
        })
        .map_err(|err| format!("export to {} failed: {err}; nothing was written there", to.display()))
        .and_then(|exported| sync(&exported.dir).map(|()| exported));
        let _ = updates.send(ExportUpdate::Done(result));
    })?;
    Ok(())
}

/// Flushes the whole filesystem the export is on (`sync -f`, i.e. syncfs):
/// the files were fsynced one by one, this also covers the filesystem's own
/// metadata before the stick is pulled.
fn sync(dir: &Path) -> Result<(), String> {
    let status = std::process::Command::new("sync")
        .arg("-f")
        .arg(dir)
        .status()
        .map_err(|err| format!("{}: cannot run sync: {err}", dir.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}: sync failed ({status}); do not remove the stick",
            dir.display()
        ))
    }
}
