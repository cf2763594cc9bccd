//! USB export, shared by `actrec export` and the engine: which removable
//! media are mounted under the configured mount roots, and the export of
//! the audit log with its evidence clips onto one of them.

use std::path::{Path, PathBuf};

use actrec_audit::{ExportError, Exported, Progress, Timestamp};
use actrec_core::config::StationConfig;

/// Mount points strictly below one of `roots`, read from `/proc/self/mounts`
/// (the image's mount units put sticks at `/run/media/actrec/<label>`).
pub fn removable_mounts(roots: &[PathBuf]) -> Vec<PathBuf> {
    match std::fs::read_to_string("/proc/self/mounts") {
        Ok(mounts) => mounts_below(&mounts, roots),
        Err(err) => {
            tracing::warn!(%err, "cannot read /proc/self/mounts: no USB sticks are seen");
            Vec::new()
        }
    }
}

/// The mount points in a mounts table (fstab format) strictly below one of `roots`.
pub fn mounts_below(mounts: &str, roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = mounts
        .lines()
        .filter_map(|line| line.split_whitespace().nth(1))
        .map(|field| PathBuf::from(unescape_mount_path(field)))
        .filter(|point| roots.iter().any(|root| point.starts_with(root) && point != root))
        .collect();
    found.sort();
    found.dedup();
    found
}

/// The kernel writes space, tab, newline and backslash in mount paths as octal escapes.
fn unescape_mount_path(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let digits: String = chars.clone().take(3).collect();
            if digits.len() == 3
                && let Ok(code) = u8::from_str_radix(&digits, 8)
            {
                out.push(char::from(code));
                for _ in 0..3 {
                    chars.next();
                }
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Exports the audit log (and the clips of the exported parts) into `to`.
pub fn export(
    config: &StationConfig,
    config_dir: &Path,
    to: &Path,
    from: Option<Timestamp>,
    until: Option<Timestamp>,
    progress: impl FnMut(Progress),
) -> Result<Exported, ExportError> {
    actrec_audit::export(
        &config.audit_path(config_dir),
        to,
        from,
        until,
        &config.station.id,
        &config.clips_dir(config_dir),
        progress,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sticks_are_the_mounts_below_a_root() {
        let mounts = "\
/dev/mmcblk0p1 / ext4 rw,relatime 0 0
tmpfs /run tmpfs rw,nosuid,nodev 0 0
/dev/sda1 /run/media/actrec/KINGSTON vfat rw,nosuid,nodev,noexec 0 0
/dev/sdb /media/LINE\\0403 exfat rw,nosuid,nodev,noexec 0 0
/dev/sdc1 /mnt/other vfat rw 0 0
tmpfs /media tmpfs rw 0 0
";
        let roots = [PathBuf::from("/run/media"), PathBuf::from("/media")];
        assert_eq!(
            mounts_below(mounts, &roots),
            [
                PathBuf::from("/media/LINE 3"),
                PathBuf::from("/run/media/actrec/KINGSTON")
            ]
        );
    }
}
