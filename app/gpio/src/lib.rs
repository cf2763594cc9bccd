//! actrec-gpio: the station's outputs to the line — the tower light (green,
//! amber, red, an optional buzzer), the reject relay, and a heartbeat for an
//! external watchdog relay.
//!
//! # Layers
//!
//! - [`OutputLines`] is the one trait at the hardware seam: set a named
//!   [`Line`] to a logical level (`true` = lamp lit, relay asserted). Each
//!   backend applies `active_low` itself. Backends, chosen by `[gpio] backend`:
//!   - [`cdev::CdevLines`]: the GPIO character device (`/dev/gpiochipN`)
//!     through the `gpiocdev` crate, built with both uAPI v1 (Jetson Nano,
//!     L4T 32, kernel 4.9) and v2 (kernel 5.10 and later), chosen per chip at
//!     run time. **Unverified on hardware**: no GPIO chip exists where this
//!     was written; its chip lookup is unit-tested, its requests are not.
//!   - [`sysfs::SysfsLines`]: `/sys/class/gpio` (L4T 32 and 35), with a
//!     configurable root so that tests run it against a temporary tree.
//!   - [`sim::SimLines`]: no hardware; every change goes to a JSON-lines file
//!     and to subscribers (the panel, `make demo`, tests).
//! - [`Actuators`] owns the policy side: a [`TowerLight`] (steady and
//!   blinking lamps), a [`RejectRelay`] (pulse or latch) and a [`Heartbeat`].
//!   The engine gives it the station state ([`actrec_core::light::StationState`]);
//!   the lamp pattern itself is the pure function
//!   [`actrec_core::light::lights`].
//!
//! # Time
//!
//! Nothing here reads the clock on its own: every call that can change a line
//! takes `now`. Blinking and the end of a reject pulse happen in
//! [`Actuators::tick`]; [`Ticker`] is a small helper thread that calls it
//! every [`TICK`] (so a pulse is up to one tick longer than configured, and
//! a blink edge up to one tick late). Tests call `tick` with made-up instants.
//!
//! # Fail-safe
//!
//! - Every line is requested (cdev) or set up (sysfs, sim) at start in its
//!   safe state ([`Line::safe_level`]): red lit, reject asserted, all else
//!   off. That is what a dead station shows when wired as `docs/WIRING.md`
//!   says (red and reject `active_low`, so the safe state puts every pin low).
//! - Lines go back to safe on [`Actuators::shutdown`], on drop of the
//!   [`Actuators`] and of each backend, and on a panic in any thread once
//!   [`Actuators::install_panic_hook`] is called. After a panic the outputs
//!   stay safe until the process restarts.
//! - A process that dies without unwinding (SIGKILL, power loss, a hang)
//!   leaves the pins where they were; the heartbeat and an external watchdog
//!   relay cover that case (`docs/WIRING.md`).
//!
//! # Why not `rppal`
//!
//! `rppal` works only on a Raspberry Pi: it identifies the Pi model at start
//! and refuses anything else (`Error::UnknownModel`), and its GPIO access is
//! through the Pi's register map. The station runs on Jetson boards, so it
//! uses the kernel's own interfaces, which work on any Linux board.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actrec_core::config::{Gpio, GpioBackend, GpioLine};

pub mod cdev;
mod outputs;
pub mod sim;
pub mod sysfs;

pub use outputs::{Actuators, Heartbeat, RejectRelay, RelayState, Settings, TICK, Ticker, TowerLight};

/// The lines the station drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Line {
    Green,
    Amber,
    Red,
    Buzzer,
    Reject,
    Heartbeat,
}

impl Line {
    pub const ALL: [Line; 6] = [
        Line::Green,
        Line::Amber,
        Line::Red,
        Line::Buzzer,
        Line::Reject,
        Line::Heartbeat,
    ];

    /// The lines a hardware backend must have: without any of them the
    /// station cannot show a fault or stop a bad part.
    pub const REQUIRED: [Line; 4] = [Line::Green, Line::Amber, Line::Red, Line::Reject];

    pub fn name(self) -> &'static str {
        match self {
            Line::Green => "green",
            Line::Amber => "amber",
            Line::Red => "red",
            Line::Buzzer => "buzzer",
            Line::Reject => "reject",
            Line::Heartbeat => "heartbeat",
        }
    }

    /// The logical level the line takes whenever the station is not running
    /// normally (start, shutdown, drop, panic): red lit and reject asserted
    /// (stop the line, or divert), everything else off. The buzzer is off:
    /// a station being shut down on purpose must not sound.
    pub fn safe_level(self) -> bool {
        matches!(self, Line::Red | Line::Reject)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The line's settings in a `[gpio.lines]` table.
    pub fn configured(self, gpio: &Gpio) -> Option<&GpioLine> {
        let lines = &gpio.lines;
        match self {
            Line::Green => lines.green.as_ref(),
            Line::Amber => lines.amber.as_ref(),
            Line::Red => lines.red.as_ref(),
            Line::Buzzer => lines.buzzer.as_ref(),
            Line::Reject => lines.reject.as_ref(),
            Line::Heartbeat => lines.heartbeat.as_ref(),
        }
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Errors from the output lines.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the {line} line is required with the {backend} backend")]
    MissingLine { line: Line, backend: &'static str },
    #[error("no GPIO chip is labelled `{label}` (chips found: {found})")]
    ChipNotFound { label: String, found: String },
    #[error("{} GPIO chips are labelled `{label}`: {}; name the lines on one chip only", paths.len(), paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    ChipAmbiguous { label: String, paths: Vec<PathBuf> },
    #[error("the {line} line: offset {offset} is beyond chip `{label}`, which has {lines} lines")]
    OffsetOutOfRange {
        line: Line,
        label: String,
        offset: u32,
        lines: u32,
    },
    #[error("the {line} line ({label} {offset}): {source}")]
    Cdev {
        line: Line,
        label: String,
        offset: u32,
        source: gpiocdev::Error,
    },
    #[error("listing GPIO chips: {source}")]
    CdevChips { source: gpiocdev::Error },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: cannot read {what} from `{text}`")]
    Parse {
        path: PathBuf,
        what: &'static str,
        text: String,
    },
    #[error("{path} did not appear within {waited_ms} ms of exporting GPIO {number}")]
    ExportTimeout { path: PathBuf, number: u32, waited_ms: u64 },
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// The hardware seam: named output lines at logical levels.
///
/// `on = true` means lit, sounding, asserted (reject: stop or divert),
/// whatever the electrical level: each backend applies the line's
/// `active_low`. Methods take `&self` (backends lock inside), so the same
/// backend can be driven safe from a panic hook while the engine holds the
/// [`Actuators`].
pub trait OutputLines: Send + Sync {
    /// The backend's name, as in the config: `cdev`, `sysfs` or `sim`.
    fn backend(&self) -> &'static str;

    /// Whether the line exists (is configured) on this backend.
    fn has(&self, line: Line) -> bool;

    /// Sets a line's logical level. A line the backend does not have is
    /// ignored (`Ok`): the buzzer and heartbeat are optional.
    fn set(&self, line: Line, on: bool) -> Result<(), Error>;

    /// Drives every line to its safe level ([`Line::safe_level`]), going on
    /// past failures; returns the first.
    fn drive_safe(&self) -> Result<(), Error> {
        let mut first = None;
        for line in Line::ALL {
            if self.has(line)
                && let Err(err) = self.set(line, line.safe_level())
            {
                tracing::error!(line = line.name(), backend = self.backend(), %err, "cannot drive line safe");
                first.get_or_insert(err);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

/// Opens the backend that `[gpio]` names, every line in its safe state.
/// `data_dir` is the resolved `station.data_dir` (the sim file lives there).
pub fn open(gpio: &Gpio, data_dir: &Path) -> Result<Arc<dyn OutputLines>, Error> {
    let lines: Arc<dyn OutputLines> = match gpio.backend {
        GpioBackend::Cdev => Arc::new(cdev::CdevLines::open(&hardware_lines(gpio, "cdev")?)?),
        GpioBackend::Sysfs => Arc::new(sysfs::SysfsLines::open(
            &gpio.sysfs_root,
            &hardware_lines(gpio, "sysfs")?,
        )?),
        GpioBackend::Sim => Arc::new(sim::SimLines::create(Some(&gpio.sim_file_in(data_dir)))?),
    };
    tracing::info!(backend = lines.backend(), "output lines ready, all safe");
    Ok(lines)
}

/// The configured lines of a hardware backend, checking that the fail-safe
/// ones are there (the config loader checks this too).
pub fn hardware_lines(gpio: &Gpio, backend: &'static str) -> Result<Vec<(Line, GpioLine)>, Error> {
    for line in Line::REQUIRED {
        if line.configured(gpio).is_none() {
            return Err(Error::MissingLine { line, backend });
        }
    }
    Ok(Line::ALL
        .into_iter()
        .filter_map(|line| line.configured(gpio).map(|c| (line, c.clone())))
        .collect())
}

/// The core's lock that carries on after a panic elsewhere: the values
/// guarded here (line levels, open files) stay meaningful, and the lines must
/// still be driven safe.
pub(crate) use actrec_core::sync::lock;

/// The one chip labelled `label` among `chips`: an error naming every chip
/// found when there is none, and every match when there are several.
pub(crate) fn pick_chip<'a, C>(
    label: &str,
    chips: &'a [C],
    label_of: impl Fn(&C) -> &str,
    path_of: impl Fn(&C) -> &Path,
) -> Result<&'a C, Error> {
    let matches: Vec<&C> = chips.iter().filter(|c| label_of(c) == label).collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(Error::ChipNotFound {
            label: label.to_owned(),
            found: if chips.is_empty() {
                "none".to_owned()
            } else {
                chips
                    .iter()
                    .map(|c| format!("{} `{}`", path_of(c).display(), label_of(c)))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        }),
        many => Err(Error::ChipAmbiguous {
            label: label.to_owned(),
            paths: many.iter().map(|c| path_of(c).to_owned()).collect(),
        }),
    }
}
