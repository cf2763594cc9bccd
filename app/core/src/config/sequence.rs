//! `[sequence]`: the sequence definition checked at start and those the
//! operator may select instead.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::StationConfig;
use crate::diag::Report;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SequenceRef {
    /// The sequence definition checked at start.
    pub file: PathBuf,
    /// Other sequences the operator may select on the panel, between parts.
    #[serde(default)]
    pub alternatives: Vec<PathBuf>,
}

impl StationConfig {
    /// The sequence definition file, resolved against the config file's directory.
    pub fn sequence_file(&self, config_dir: &Path) -> PathBuf {
        config_dir.join(&self.sequence.file)
    }

    /// Every selectable sequence file, the one used at start first, resolved
    /// against the config file's directory.
    pub fn sequence_files(&self, config_dir: &Path) -> Vec<PathBuf> {
        std::iter::once(&self.sequence.file)
            .chain(&self.sequence.alternatives)
            .map(|file| config_dir.join(file))
            .collect()
    }
}

pub(super) fn validate_sequence(sequence: &SequenceRef, report: &mut Report<'_, '_>) {
    if sequence.file.as_os_str().is_empty() {
        report.at("sequence.file", "file is empty");
    }
    for (i, file) in sequence.alternatives.iter().enumerate() {
        if file.as_os_str().is_empty() {
            report.at(format!("sequence.alternatives[{i}]"), "file is empty");
        } else if *file == sequence.file || sequence.alternatives[..i].contains(file) {
            report.at(
                format!("sequence.alternatives[{i}]"),
                format!("`{}` is listed twice", file.display()),
            );
        }
    }
}
