//! The `sysfs` backend: `/sys/class/gpio`, for L4T 32 and 35 (L4T 36 has no
//! sysfs GPIO; use `cdev` there).
//!
//! Lines are named like the `cdev` backend's, by chip label and offset. The
//! backend finds the chip among the root's `gpiochipN` directories by its
//! `label` file and adds the chip's `base` to the offset: the Nano's
//! `tegra-gpio` has base 0, the AGX Xavier's chips have bases that change
//! between L4T releases, so numbers are never written in the config.
//!
//! For each line, at open:
//!
//! 1. If `gpioN` is absent, `N` is written to `export`, and the backend waits
//!    (up to [`EXPORT_WAIT`]) for the line's directory to appear with a
//!    writable `direction` (udev may change its group a moment later). L4T 35
//!    names exported lines by pin (e.g. `PQ.06`) instead of `gpioN`; the
//!    backend takes the one new directory that the export made.
//! 2. `active_low` is set to `0`, and the backend inverts active-low lines in
//!    software: the `value` file then always reads the electrical level, what
//!    a meter on the pin shows, and a stale `active_low = 1` left by another
//!    program cannot invert a second time.
//! 3. `direction` is set to `high` or `low` (the kernel takes these as raw
//!    levels and switches to output at that level at once, with no glitch),
//!    for the line's safe level; `value` is then written with the same level.
//!
//! Lines stay exported at the end (they are driven safe first): unexporting
//! would turn them into inputs, and the driver's pull-down would decide.
//!
//! Tests point the root at a temporary tree of plain files: `gpiochipN`
//! directories with `label`, `base` and `ngpio`, an `export` file, and a
//! thread that plays the kernel by making `gpioN/` when `N` is written to
//! `export`.

use std::ffi::OsString;
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use actrec_core::config::GpioLine;

use crate::{Error, Line, OutputLines, pick_chip};

/// How long an exported line may take to appear, writable.
pub const EXPORT_WAIT: Duration = Duration::from_secs(2);

/// A `gpiochipN` directory under the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysfsChip {
    pub dir: PathBuf,
    pub label: String,
    pub base: u32,
    pub ngpio: u32,
}

/// The chips under a sysfs GPIO root, in name order.
pub fn chips(root: &Path) -> Result<Vec<SysfsChip>, Error> {
    let mut chips = Vec::new();
    for entry in fs::read_dir(root).map_err(|e| Error::io(root, e))? {
        let entry = entry.map_err(|e| Error::io(root, e))?;
        if !entry.file_name().to_string_lossy().starts_with("gpiochip") {
            continue;
        }
        let dir = entry.path();
        chips.push(SysfsChip {
            label: read_trimmed(&dir.join("label"))?,
            base: read_number(&dir.join("base"), "a chip base")?,
            ngpio: read_number(&dir.join("ngpio"), "a line count")?,
            dir,
        });
    }
    chips.sort_by(|a, b| a.dir.cmp(&b.dir));
    Ok(chips)
}

/// One exported line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysfsLine {
    pub line: Line,
    /// The global GPIO number: chip base + offset.
    pub number: u32,
    /// The line's directory, `gpioN` (or a pin name on L4T 35).
    pub dir: PathBuf,
    pub active_low: bool,
}

/// Output lines through `/sys/class/gpio` (or another root).
#[derive(Debug)]
pub struct SysfsLines {
    root: PathBuf,
    lines: Vec<SysfsLine>,
}

impl SysfsLines {
    /// Exports and sets up every line, at its safe level.
    pub fn open(root: &Path, lines: &[(Line, GpioLine)]) -> Result<Self, Error> {
        Self::open_with_wait(root, lines, EXPORT_WAIT)
    }

    /// [`SysfsLines::open`] with another export wait.
    pub fn open_with_wait(root: &Path, lines: &[(Line, GpioLine)], wait: Duration) -> Result<Self, Error> {
        let chips = chips(root)?;
        let mut opened = SysfsLines {
            root: root.to_owned(),
            lines: Vec::new(),
        };
        for (line, config) in lines {
            let chip = pick_chip(&config.chip, &chips, |c| &c.label, |c| &c.dir)?;
            if config.offset >= chip.ngpio {
                return Err(Error::OffsetOutOfRange {
                    line: *line,
                    label: config.chip.clone(),
                    offset: config.offset,
                    lines: chip.ngpio,
                });
            }
            let number = chip.base + config.offset;
            let deadline = Instant::now() + wait;
            let dir = export(root, number, deadline, wait)?;
            write_retrying(&dir.join("active_low"), "0", deadline)?;
            let high = line.safe_level() != config.active_low;
            write_retrying(&dir.join("direction"), if high { "high" } else { "low" }, deadline)?;
            let sysfs_line = SysfsLine {
                line: *line,
                number,
                dir,
                active_low: config.active_low,
            };
            write_value(&sysfs_line, line.safe_level())?;
            tracing::info!(
                line = line.name(),
                chip = %config.chip,
                offset = config.offset,
                gpio = number,
                dir = %sysfs_line.dir.display(),
                active_low = config.active_low,
                "sysfs line ready"
            );
            // Pushed at once, so a later line's failure drops this one safe.
            opened.lines.push(sysfs_line);
        }
        Ok(opened)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The exported lines.
    pub fn lines(&self) -> &[SysfsLine] {
        &self.lines
    }

    fn find(&self, line: Line) -> Option<&SysfsLine> {
        self.lines.iter().find(|l| l.line == line)
    }
}

impl OutputLines for SysfsLines {
    fn backend(&self) -> &'static str {
        "sysfs"
    }

    fn has(&self, line: Line) -> bool {
        self.find(line).is_some()
    }

    fn set(&self, line: Line, on: bool) -> Result<(), Error> {
        match self.find(line) {
            Some(l) => write_value(l, on),
            None => Ok(()),
        }
    }
}

impl Drop for SysfsLines {
    fn drop(&mut self) {
        let _ = self.drive_safe();
    }
}

fn write_value(line: &SysfsLine, on: bool) -> Result<(), Error> {
    let high = on != line.active_low;
    write_attr(&line.dir.join("value"), if high { "1" } else { "0" })
}

/// Writes a sysfs attribute as `echo` does: open for writing, truncating,
/// without creating (a missing attribute is an error, also in test trees).
fn write_attr(path: &Path, text: &str) -> Result<(), Error> {
    fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| Error::io(path, e))
}

/// [`write_attr`], retried while the attribute is missing or not yet
/// writable (udev fixing permissions after an export).
fn write_retrying(path: &Path, text: &str, deadline: Instant) -> Result<(), Error> {
    loop {
        match write_attr(path, text) {
            Err(Error::Io { source, .. })
                if matches!(source.kind(), ErrorKind::NotFound | ErrorKind::PermissionDenied)
                    && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

/// Exports GPIO `number` unless it is already, and returns its directory.
fn export(root: &Path, number: u32, deadline: Instant, wait: Duration) -> Result<PathBuf, Error> {
    let named = root.join(format!("gpio{number}"));
    if named.is_dir() {
        tracing::debug!(gpio = number, "already exported");
        return Ok(named);
    }
    let before = line_dirs(root)?;
    let export = root.join("export");
    let busy = match write_attr(&export, &number.to_string()) {
        Ok(()) => false,
        // Exported already, under a name other than gpioN.
        Err(Error::Io { source, .. }) if source.kind() == ErrorKind::ResourceBusy => true,
        Err(err) => return Err(err),
    };
    if busy {
        return Err(Error::Io {
            path: export,
            source: std::io::Error::new(
                ErrorKind::ResourceBusy,
                format!(
                    "GPIO {number} is exported already under a name of its own (L4T 35 names lines by pin, e.g. PQ.06); unexport it and start again"
                ),
            ),
        });
    }
    loop {
        if named.join("direction").exists() {
            return Ok(named);
        }
        let new: Vec<OsString> = line_dirs(root)?
            .into_iter()
            .filter(|name| !before.contains(name))
            .collect();
        if let [one] = new.as_slice() {
            let dir = root.join(one);
            if dir.join("direction").exists() {
                return Ok(dir);
            }
        }
        if Instant::now() >= deadline {
            return Err(Error::ExportTimeout {
                path: named,
                number,
                waited_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            });
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The entries of the root that can be exported lines.
fn line_dirs(root: &Path) -> Result<Vec<OsString>, Error> {
    let mut names = Vec::new();
    for entry in fs::read_dir(root).map_err(|e| Error::io(root, e))? {
        let name = entry.map_err(|e| Error::io(root, e))?.file_name();
        let text = name.to_string_lossy();
        if !(text.starts_with("gpiochip") || text == "export" || text == "unexport") {
            names.push(name);
        }
    }
    Ok(names)
}

fn read_trimmed(path: &Path) -> Result<String, Error> {
    fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|e| Error::io(path, e))
}

fn read_number(path: &Path, what: &'static str) -> Result<u32, Error> {
    let text = read_trimmed(path)?;
    text.parse().map_err(|_| Error::Parse {
        path: path.to_owned(),
        what,
        text,
    })
}
