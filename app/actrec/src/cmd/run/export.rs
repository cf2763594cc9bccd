//! USB export from the running engine: sticks appearing and going under
//! the configured mount roots, and one export at a time on its own thread
//! (reading a snapshot of the audit log), with progress for the panel, then
//! a sync, then "safe to remove".

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actrec_audit::{Exported, Progress};
use actrec_core::config::StationConfig;
use crossbeam_channel::Sender;

/// What an export thread tells the main loop.
pub enum ExportUpdate {
    Progress(Progress),
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
