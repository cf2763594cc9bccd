//! `[gpio]`: the tower light, the reject relay and the heartbeat. The
//! wiring that makes these fail-safe is in `docs/WIRING.md`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::diag::Report;

/// The `[gpio]` section: the tower light, the reject relay and the heartbeat.
/// The wiring that makes these fail-safe is in `docs/WIRING.md`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Gpio {
    pub backend: GpioBackend,
    /// Root of the sysfs GPIO tree, for the `sysfs` backend.
    #[serde(default = "default_sysfs_root")]
    pub sysfs_root: PathBuf,
    /// What the reject relay does on a rejected part. Default `latch`.
    #[serde(default)]
    pub reject_mode: RejectMode,
    /// Length of the reject pulse, with `reject_mode = "pulse"` only; default
    /// [`Gpio::DEFAULT_PULSE_MS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pulse_ms: Option<u32>,
    /// Full period (on and off) of a blinking lamp or an intermittent buzzer.
    #[serde(default = "default_blink_ms")]
    pub blink_ms: u32,
    /// For the `sim` backend: the file that records every line change (JSON
    /// lines), relative to `station.data_dir`. Rewritten at each start.
    #[serde(default = "default_sim_file")]
    pub sim_file: PathBuf,
    #[serde(default, skip_serializing_if = "super::is_default")]
    pub lines: GpioLines,
}

impl Gpio {
    /// The reject pulse when `pulse_ms` is not given.
    pub const DEFAULT_PULSE_MS: u32 = 500;

    /// The reject pulse length in milliseconds: `None` in latch mode.
    pub fn reject_pulse_ms(&self) -> Option<u32> {
        match self.reject_mode {
            RejectMode::Pulse => Some(self.pulse_ms.unwrap_or(Self::DEFAULT_PULSE_MS)),
            RejectMode::Latch => None,
        }
    }

    /// The sim backend's record, resolved against the (resolved) data directory.
    pub fn sim_file_in(&self, data_dir: &Path) -> PathBuf {
        data_dir.join(&self.sim_file)
    }
}

fn default_sysfs_root() -> PathBuf {
    PathBuf::from("/sys/class/gpio")
}
fn default_blink_ms() -> u32 {
    1000
}
fn default_sim_file() -> PathBuf {
    PathBuf::from("gpio-sim.jsonl")
}

/// What the reject relay does on a rejected part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectMode {
    /// Held until a supervisor acknowledges the reject (stops the line).
    #[default]
    Latch,
    /// Held for `pulse_ms` per rejected part (a diverter gate).
    Pulse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GpioBackend {
    /// The GPIO character device (`/dev/gpiochipN`).
    Cdev,
    /// `/sys/class/gpio`, for older L4T.
    Sysfs,
    /// No hardware: states are recorded for the panel and tests.
    Sim,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GpioLines {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub green: Option<GpioLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amber: Option<GpioLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub red: Option<GpioLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buzzer: Option<GpioLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject: Option<GpioLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<GpioLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GpioLine {
    /// Chip label, e.g. `tegra-gpio` (Nano) or `tegra194-gpio` (AGX Xavier).
    pub chip: String,
    pub offset: u32,
    #[serde(default)]
    pub active_low: bool,
}

pub(super) fn validate_gpio(gpio: &Gpio, report: &mut Report<'_, '_>) {
    let lines = &gpio.lines;
    let named = [
        ("green", &lines.green),
        ("amber", &lines.amber),
        ("red", &lines.red),
        ("buzzer", &lines.buzzer),
        ("reject", &lines.reject),
        ("heartbeat", &lines.heartbeat),
    ];
    if gpio.backend != GpioBackend::Sim {
        for (name, line) in &named[..5] {
            if line.is_none() && *name != "buzzer" {
                report.at(
                    "gpio.lines",
                    format!("the `{name}` line is required with a hardware backend (fail-safe needs all of green, amber, red and reject)"),
                );
            }
        }
    }
    match (gpio.reject_mode, gpio.pulse_ms) {
        (RejectMode::Latch, Some(_)) => {
            report.at("gpio.pulse_ms", "pulse_ms only applies with reject_mode = \"pulse\"");
        }
        (RejectMode::Pulse, Some(ms)) if !(50..=10_000).contains(&ms) => {
            report.at("gpio.pulse_ms", format!("pulse_ms = {ms} must be from 50 to 10000"));
        }
        _ => {}
    }
    if !(200..=5000).contains(&gpio.blink_ms) {
        report.at(
            "gpio.blink_ms",
            format!("blink_ms = {} must be from 200 to 5000", gpio.blink_ms),
        );
    }
    if gpio.sim_file.as_os_str().is_empty() {
        report.at("gpio.sim_file", "sim_file is empty");
    }
    if gpio.backend == GpioBackend::Sysfs && gpio.sysfs_root.as_os_str().is_empty() {
        report.at("gpio.sysfs_root", "sysfs_root is empty");
    }
    let mut seen: Vec<(&str, &GpioLine)> = Vec::new();
    for (name, line) in named {
        let Some(line) = line else { continue };
        if line.chip.trim().is_empty() {
            report.at(format!("gpio.lines.{name}.chip"), "chip is empty");
        }
        if let Some((other, _)) = seen
            .iter()
            .find(|(_, l)| l.chip == line.chip && l.offset == line.offset)
        {
            report.at(
                format!("gpio.lines.{name}"),
                format!("{} line {} is already used by `{other}`", line.chip, line.offset),
            );
        }
        seen.push((name, line));
    }
}
