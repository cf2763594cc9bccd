//! The evidence clips of the exported parts: each found once, given a
//! unique name under `clips/`, and copied with progress.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::writer::Output;
use super::{ExportError, ExportProgress, ManifestFile, io_error, sync_dir};

struct ClipRef {
    recorded: String,
    source: PathBuf,
    /// Relative to the export folder.
    dest: String,
    bytes: Option<u64>,
}

/// The evidence clips referenced by exported parts, each once, with a
/// unique name under `clips/`.
#[derive(Default)]
pub(super) struct Clips {
    list: Vec<ClipRef>,
    by_recorded: BTreeMap<String, usize>,
    names: BTreeSet<String>,
}

impl Clips {
    /// Notes the clip a part row (`id`) recorded; returns its path in the
    /// export, empty when there is none or it is gone from the station.
    pub(super) fn reference(&mut self, recorded: &str, id: i64, clips_dir: &Path) -> String {
        if recorded.is_empty() {
            return String::new();
        }
        let index = match self.by_recorded.get(recorded) {
            Some(&i) => i,
            None => {
                let source = if Path::new(recorded).is_absolute() {
                    PathBuf::from(recorded)
                } else {
                    clips_dir.join(recorded)
                };
                let base = Path::new(recorded)
                    .file_name()
                    .map_or_else(|| format!("clip-{id}"), |n| n.to_string_lossy().into_owned());
                let name = if self.names.contains(&base) {
                    format!("{id}-{base}")
                } else {
                    base
                };
                self.names.insert(name.clone());
                let bytes = std::fs::metadata(&source).ok().filter(|m| m.is_file()).map(|m| m.len());
                self.list.push(ClipRef {
                    recorded: recorded.to_owned(),
                    source,
                    dest: format!("clips/{name}"),
                    bytes,
                });
                self.by_recorded.insert(recorded.to_owned(), self.list.len() - 1);
                self.list.len() - 1
            }
        };
        let clip = &self.list[index];
        if clip.bytes.is_some() {
            clip.dest.clone()
        } else {
            String::new()
        }
    }
}

/// The clips copied into an export, and those referenced but gone.
pub(super) struct Copied {
    pub files: Vec<ManifestFile>,
    /// As the audit log recorded them.
    pub missing: Vec<String>,
}

impl Clips {
    /// Copies every clip still on the station into `dir/clips/` (made only
    /// when there is one), fsynced.
    pub(super) fn copy_into(
        self,
        dir: &Path,
        progress: &mut impl FnMut(ExportProgress),
    ) -> Result<Copied, ExportError> {
        let clips = self.list;
        let missing: Vec<String> = clips
            .iter()
            .filter(|c| c.bytes.is_none())
            .map(|c| c.recorded.clone())
            .collect();
        for clip in &missing {
            tracing::debug!(clip = %clip, "evidence clip referenced by the audit log is gone; not exported");
        }
        let mut files = Vec::new();
        let clip_total: u64 = clips.iter().filter_map(|c| c.bytes).sum();
        if clips.iter().any(|c| c.bytes.is_some()) {
            let clips_dir = dir.join("clips");
            std::fs::create_dir(&clips_dir).map_err(io_error("create", &clips_dir))?;
            let mut copied = 0u64;
            progress(ExportProgress::Clips {
                done: 0,
                total: clip_total,
            });
            for clip in clips.iter().filter(|c| c.bytes.is_some()) {
                files.push(copy_clip(clip, dir, &mut copied, clip_total, progress)?);
            }
            sync_dir(&clips_dir).map_err(io_error("sync", &clips_dir))?;
        }
        Ok(Copied { files, missing })
    }
}

fn copy_clip(
    clip: &ClipRef,
    dir: &Path,
    copied: &mut u64,
    total: u64,
    progress: &mut impl FnMut(ExportProgress),
) -> Result<ManifestFile, ExportError> {
    let mut input = File::open(&clip.source).map_err(io_error("read the evidence clip", &clip.source))?;
    let mut out = Output::create(dir, &clip.dest)?;
    let mut buf = vec![0; 1024 * 1024];
    loop {
        let n = input
            .read(&mut buf)
            .map_err(io_error("read the evidence clip", &clip.source))?;
        if n == 0 {
            break;
        }
        out.write(&buf[..n])?;
        *copied += n as u64;
        progress(ExportProgress::Clips { done: *copied, total });
    }
    out.finish()
}
