//! USB export, shared by `actrec export` and the engine: which removable
//! media are mounted under the configured mount roots, and the export of
//! the audit log with its evidence clips onto one of them.

use std::path::{Path, PathBuf};

use actrec_audit::{ExportError, ExportProgress, Exported, Timestamp};
use actrec_core::config::StationConfig;

/// Mount points strictly below one of `roots`, read from
/// `/proc/self/mountinfo` (the image's export unit puts sticks at
/// `/run/media/actrec/<device>`).
pub fn removable_mounts(roots: &[PathBuf]) -> Vec<PathBuf> {
    match std::fs::read_to_string("/proc/self/mountinfo") {
        Ok(mounts) => mounts_below(&mounts, roots),
        Err(err) => {
            tracing::warn!(%err, "cannot read /proc/self/mountinfo: no USB sticks are seen");
            Vec::new()
        }
    }
}

/// The mount points in a mountinfo table strictly below one of `roots`,
/// of whole filesystems only: a bind mount of a folder (systemd's
/// `ReadWritePaths=/run/media/actrec` in the engine's sandbox, say) is not
/// a stick.
pub fn mounts_below(mountinfo: &str, roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = mountinfo
        .lines()
        .filter_map(|line| {
            // id parent major:minor root mount-point ...
            let mut fields = line.split_whitespace().skip(3);
            let root = fields.next()?;
            let point = fields.next()?;
            (root == "/").then(|| PathBuf::from(unescape_mount_path(point)))
        })
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
    progress: impl FnMut(ExportProgress),
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
    fn sticks_are_the_whole_filesystems_mounted_below_a_root() {
        let mounts = "\
22 1 179:1 / / rw,relatime shared:1 - ext4 /dev/mmcblk0p1 rw
24 22 0:22 / /run rw,nosuid,nodev shared:5 - tmpfs tmpfs rw
90 24 0:22 /media/actrec /run/media/actrec rw,nosuid,nodev - tmpfs tmpfs rw
91 90 8:1 / /run/media/actrec/KINGSTON rw,nosuid,nodev,noexec - vfat /dev/sda1 rw
92 22 8:16 / /media/LINE\\0403 rw,nosuid,nodev,noexec - exfat /dev/sdb rw
93 22 8:33 / /mnt/other rw - vfat /dev/sdc1 rw
94 22 0:40 / /media rw - tmpfs tmpfs rw
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
