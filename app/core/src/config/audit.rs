//! `[audit]`: the audit database, its retention, and where USB sticks for
//! exports are mounted.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::StationConfig;
use crate::diag::Report;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Audit {
    /// SQLite file; relative to `station.data_dir`.
    pub path: PathBuf,
    /// Retention by size: the oldest rows beyond this many MiB of database
    /// are pruned (an anchor row keeps the chain verifiable). Default 1024.
    #[serde(default = "default_audit_max_megabytes")]
    pub max_megabytes: u32,
    /// Retention by age: rows older than this many days are pruned too.
    /// Absent: rows are kept whatever their age, within `max_megabytes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_days: Option<u32>,
    /// Where removable media (USB sticks) are mounted, for exports. Written
    /// back in full: an empty list (no exports) is not the default.
    #[serde(default = "default_mount_roots")]
    pub mount_roots: Vec<PathBuf>,
}

fn default_audit_max_megabytes() -> u32 {
    1024
}
fn default_mount_roots() -> Vec<PathBuf> {
    vec![PathBuf::from("/run/media"), PathBuf::from("/media")]
}

impl StationConfig {
    /// The audit database, resolved against the data directory.
    pub fn audit_path(&self, config_dir: &Path) -> PathBuf {
        self.data_dir(config_dir).join(&self.audit.path)
    }
}

pub(super) fn validate_audit(audit: &Audit, report: &mut Report<'_, '_>) {
    if audit.path.as_os_str().is_empty() {
        report.at("audit.path", "path is empty");
    }
    if !(1..=1_048_576).contains(&audit.max_megabytes) {
        report.at(
            "audit.max_megabytes",
            format!("max_megabytes = {} must be from 1 to 1048576", audit.max_megabytes),
        );
    }
    if let Some(days) = audit.max_days
        && !(1..=36_500).contains(&days)
    {
        report.at(
            "audit.max_days",
            format!("max_days = {days} must be from 1 to 36500; leave it out to keep rows whatever their age"),
        );
    }
    for (i, root) in audit.mount_roots.iter().enumerate() {
        let field = format!("audit.mount_roots[{i}]");
        if !root.is_absolute() || root.parent().is_none() {
            report.at(
                field,
                format!("mount root `{}` must be an absolute path below /", root.display()),
            );
        } else if audit.mount_roots[..i].contains(root) {
            report.at(field, format!("mount root `{}` is listed twice", root.display()));
        }
    }
}
