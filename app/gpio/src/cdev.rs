//! The `cdev` backend: the GPIO character device (`/dev/gpiochipN`) through
//! the `gpiocdev` crate.
//!
//! **Unverified on hardware.** No GPIO chip exists where this backend was
//! written: it compiles, and its chip lookup ([`find_chip`]) is unit-tested
//! on made-up chip lists, but no line has been requested or driven through it.
//! Check it on the board (`gpioinfo` shows the lines as `actrec-<line>`)
//! before a station relies on it.
//!
//! - **uAPI v1 and v2.** `gpiocdev` is built with both; it picks v2 where the
//!   kernel has it (5.10 and later: L4T 35, 36) and v1 on the Nano's 4.9
//!   kernel (L4T 32). Each line is its own request, because v1 can only set
//!   all the lines of a request together.
//! - **Chip by label.** The chip is the one `/dev/gpiochipN` whose label
//!   (`gpiodetect` shows it) equals the config's `chip`, e.g. `tegra-gpio`
//!   (Nano) or `tegra194-gpio` (AGX Xavier): `gpiochipN` numbers depend on
//!   probe order, labels do not. No match, or two, is an error that lists the
//!   chips found.
//! - **Active low** is given to the kernel with the request, so the levels
//!   passed here are logical.
//! - **Safe at request.** Each line is requested as an output at its safe
//!   level, so it never shows another state first; on drop it is driven safe
//!   before the request is released (after release, the kernel leaves the
//!   line as it was in practice, but the uAPI does not promise it: the
//!   driver's pull-down in `docs/WIRING.md` covers the rest).

use std::path::{Path, PathBuf};

use actrec_core::config::GpioLine;
use gpiocdev::line::Value;

use crate::{Error, Line, OutputLines, pick_chip};

/// A GPIO chip as listed: its device path, label and number of lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipInfo {
    pub path: PathBuf,
    pub label: String,
    pub lines: u32,
}

/// The one chip labelled `label` among `chips` (pure: tested without a chip).
pub fn find_chip<'a>(label: &str, chips: &'a [ChipInfo]) -> Result<&'a ChipInfo, Error> {
    pick_chip(label, chips, |c| &c.label, |c| &c.path)
}

/// Checks a line's offset against its chip.
pub fn check_offset(line: Line, config: &GpioLine, chip: &ChipInfo) -> Result<(), Error> {
    if config.offset < chip.lines {
        Ok(())
    } else {
        Err(Error::OffsetOutOfRange {
            line,
            label: config.chip.clone(),
            offset: config.offset,
            lines: chip.lines,
        })
    }
}

/// Every GPIO character device on this machine. A chip that cannot be opened
/// or asked (permissions) is listed with a label saying so, so that a
/// "not found" error shows it.
pub fn list_chips() -> Result<Vec<ChipInfo>, Error> {
    let paths = gpiocdev::chip::chips().map_err(|source| Error::CdevChips { source })?;
    Ok(paths
        .into_iter()
        .map(|path| match gpiocdev::Chip::from_path(&path).and_then(|c| c.info()) {
            Ok(info) => ChipInfo {
                path,
                label: info.label,
                lines: info.num_lines,
            },
            Err(err) => ChipInfo {
                label: format!("(unreadable: {err})"),
                path,
                lines: 0,
            },
        })
        .collect())
}

struct CdevLine {
    line: Line,
    label: String,
    offset: u32,
    request: gpiocdev::Request,
}

/// Output lines on the GPIO character device.
pub struct CdevLines {
    lines: Vec<CdevLine>,
}

impl CdevLines {
    /// Finds each line's chip by label and requests the line as an output at
    /// its safe level.
    pub fn open(lines: &[(Line, GpioLine)]) -> Result<Self, Error> {
        let chips = list_chips()?;
        let mut opened = CdevLines { lines: Vec::new() };
        for (line, config) in lines {
            let chip = find_chip(&config.chip, &chips)?;
            check_offset(*line, config, chip)?;
            let request = request(*line, config, &chip.path)?;
            opened.lines.push(CdevLine {
                line: *line,
                label: config.chip.clone(),
                offset: config.offset,
                request,
            });
        }
        Ok(opened)
    }
}

fn request(line: Line, config: &GpioLine, chip: &Path) -> Result<gpiocdev::Request, Error> {
    let fail = |source| Error::Cdev {
        line,
        label: config.chip.clone(),
        offset: config.offset,
        source,
    };
    let abi = gpiocdev::Chip::from_path(chip)
        .and_then(|c| c.detect_abi_version())
        .map_err(fail)?;
    let mut builder = gpiocdev::Request::builder();
    builder
        .on_chip(chip)
        .with_consumer(format!("actrec-{}", line.name()))
        .with_line(config.offset);
    if config.active_low {
        builder.as_active_low();
    }
    let request = builder.as_output(value(line.safe_level())).request().map_err(fail)?;
    tracing::info!(
        line = line.name(),
        chip = %config.chip,
        path = %chip.display(),
        offset = config.offset,
        active_low = config.active_low,
        abi = %abi,
        "cdev line requested"
    );
    Ok(request)
}

fn value(on: bool) -> Value {
    if on { Value::Active } else { Value::Inactive }
}

impl OutputLines for CdevLines {
    fn backend(&self) -> &'static str {
        "cdev"
    }

    fn has(&self, line: Line) -> bool {
        self.lines.iter().any(|l| l.line == line)
    }

    fn set(&self, line: Line, on: bool) -> Result<(), Error> {
        let Some(l) = self.lines.iter().find(|l| l.line == line) else {
            return Ok(());
        };
        l.request.set_lone_value(value(on)).map_err(|source| Error::Cdev {
            line,
            label: l.label.clone(),
            offset: l.offset,
            source,
        })
    }
}

impl Drop for CdevLines {
    fn drop(&mut self) {
        let _ = self.drive_safe();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chip(n: u32, label: &str, lines: u32) -> ChipInfo {
        ChipInfo {
            path: PathBuf::from(format!("/dev/gpiochip{n}")),
            label: label.to_owned(),
            lines,
        }
    }

    fn nano() -> Vec<ChipInfo> {
        vec![chip(0, "tegra-gpio", 256), chip(1, "max77620-gpio", 8)]
    }

    fn xavier() -> Vec<ChipInfo> {
        vec![chip(0, "tegra194-gpio", 224), chip(1, "tegra194-gpio-aon", 40)]
    }

    #[test]
    fn finds_the_chip_by_exact_label() {
        assert_eq!(
            find_chip("tegra-gpio", &nano()).expect("found").path,
            PathBuf::from("/dev/gpiochip0")
        );
        // A label that is a prefix of another's is not confused with it.
        assert_eq!(
            find_chip("tegra194-gpio", &xavier()).expect("found").path,
            PathBuf::from("/dev/gpiochip0")
        );
        assert_eq!(
            find_chip("tegra194-gpio-aon", &xavier()).expect("found").path,
            PathBuf::from("/dev/gpiochip1")
        );
    }

    #[test]
    fn a_missing_chip_names_the_chips_found() {
        let err = find_chip("tegra194-gpio", &nano()).expect_err("not there");
        assert_eq!(
            err.to_string(),
            "no GPIO chip is labelled `tegra194-gpio` (chips found: /dev/gpiochip0 `tegra-gpio`, /dev/gpiochip1 `max77620-gpio`)"
        );
        let err = find_chip("tegra-gpio", &[]).expect_err("none");
        assert!(err.to_string().ends_with("(chips found: none)"), "{err}");
    }

    #[test]
    fn two_chips_with_one_label_are_refused() {
        let chips = vec![chip(0, "gpio-mockup-A", 8), chip(3, "gpio-mockup-A", 8)];
        let err = find_chip("gpio-mockup-A", &chips).expect_err("ambiguous");
        assert_eq!(
            err.to_string(),
            "2 GPIO chips are labelled `gpio-mockup-A`: /dev/gpiochip0, /dev/gpiochip3; name the lines on one chip only"
        );
    }

    #[test]
    fn offsets_are_checked_against_the_chip() {
        let config = GpioLine {
            chip: "tegra194-gpio-aon".into(),
            offset: 40,
            active_low: false,
        };
        let chips = xavier();
        let aon = find_chip(&config.chip, &chips).expect("found");
        let err = check_offset(Line::Heartbeat, &config, aon).expect_err("out of range");
        assert_eq!(
            err.to_string(),
            "the heartbeat line: offset 40 is beyond chip `tegra194-gpio-aon`, which has 40 lines"
        );
        assert!(check_offset(Line::Heartbeat, &GpioLine { offset: 8, ..config }, aon).is_ok());
    }

    /// On a machine without GPIO chips (this one), listing works and opening
    /// fails with a clear error rather than a panic.
    #[test]
    fn no_chip_here_is_a_clear_error() {
        let Ok(chips) = list_chips() else { return };
        if !chips.is_empty() {
            return;
        }
        let lines = [(
            Line::Green,
            GpioLine {
                chip: "tegra-gpio".into(),
                offset: 149,
                active_low: false,
            },
        )];
        let err = CdevLines::open(&lines).err().expect("no chip");
        assert!(matches!(err, Error::ChipNotFound { .. }), "{err}");
    }
}
