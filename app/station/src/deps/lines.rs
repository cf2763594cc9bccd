//! The hardware seam: the station's outputs to the line (the tower light,
//! the reject relay and the heartbeat), driven from what the engine knows
//! (faults, parts, verdicts, warnings) through the pure policy in
//! `actrec_core::light`. The lines themselves are actrec-gpio's
//! [`OutputLines`]: GPIO character device or sysfs on a station, and
//! [`actrec_gpio::sim::SimLines`] (the fake: no hardware) everywhere else.
//!
//! Faults are kept as a set, since several can hold at once (no video while
//! the audit log is unwritable); the tower shows the first in `FaultKind`'s
//! order, and each fault's start and end is reported.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use actrec_core::config::Gpio;
use actrec_core::event::{Event, Verdict};
use actrec_core::light::{FaultKind, Health, LastVerdict, Lights, StationState};
use actrec_core::sync::lock;
use actrec_gpio::{Actuators, OutputLines, Settings, Ticker};

use crate::StationError;
use crate::clock::Clock;

pub struct LineOutputs {
    actuators: Arc<Mutex<Actuators>>,
    clock: Arc<dyn Clock>,
    ticker: Option<Ticker>,
    state: StationState,
    faults: BTreeSet<FaultKind>,
    /// What the tower showed when last reported.
    reported: Option<Lights>,
}

/// A fault that started or ended, for the event stream and the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultChange {
    pub fault: FaultKind,
    pub active: bool,
}

impl LineOutputs {
    /// Opens the configured backend with every line safe, and its ticker
    /// thread (blinking, the end of a reject pulse).
    pub fn open(gpio: &Gpio, data_dir: &Path, clock: Arc<dyn Clock>) -> Result<Self, StationError> {
        let actuators = Actuators::open(gpio, data_dir, clock.now()).map_err(|err| StationError::Path {
            path: data_dir.join("[gpio]"),
            message: format!("output lines: {err}"),
        })?;
        actuators.install_panic_hook();
        let mut outputs = Self::new(actuators, clock);
        let ticker = Ticker::spawn(Arc::clone(&outputs.actuators)).map_err(|err| StationError::Path {
            path: "output ticker thread".into(),
            message: err.to_string(),
        })?;
        outputs.ticker = Some(ticker);
        Ok(outputs)
    }

    /// Drives `lines` with every line safe; no ticker thread (tests call
    /// [`LineOutputs::tick`] with their clock).
    pub fn with_lines(lines: Arc<dyn OutputLines>, gpio: &Gpio, clock: Arc<dyn Clock>) -> Result<Self, StationError> {
        let actuators =
            Actuators::new(lines, Settings::from_config(gpio), clock.now()).map_err(|err| StationError::Path {
                path: "[gpio]".into(),
                message: format!("output lines: {err}"),
            })?;
        Ok(Self::new(actuators, clock))
    }

    fn new(actuators: Actuators, clock: Arc<dyn Clock>) -> Self {
        Self {
            actuators: Arc::new(Mutex::new(actuators)),
            clock,
            ticker: None,
            state: StationState::START,
            faults: BTreeSet::new(),
            reported: None,
        }
    }

    /// Blinking and pulse ends, by the engine's clock, where no ticker thread runs.
    pub fn tick(&mut self) {
        if self.ticker.is_none()
            && let Err(err) = lock(&self.actuators).tick(self.clock.now())
        {
            tracing::error!(%err, "output lines");
        }
    }

    /// Starts or ends a fault; returns the change, if it is one.
    pub fn fault(&mut self, kind: FaultKind, active: bool) -> Option<FaultChange> {
        let changed = if active {
            self.faults.insert(kind)
        } else {
            self.faults.remove(&kind)
        };
        if !changed {
            return None;
        }
        self.apply();
        Some(FaultChange { fault: kind, active })
    }

    pub fn has_fault(&self, kind: FaultKind) -> bool {
        self.faults.contains(&kind)
    }

    /// One inference window: the heartbeat toggles, and the warning lamp follows its confidence.
    pub fn window(&mut self, low_confidence: bool) {
        if let Err(err) = lock(&self.actuators).heartbeat() {
            tracing::warn!(%err, "heartbeat line");
        }
        if self.state.low_confidence != low_confidence {
            self.state.low_confidence = low_confidence;
            self.apply();
        }
    }

    /// A station event. A rejected part fires the relay; the caller commits
    /// the verdict to the audit log first.
    pub fn event(&mut self, event: &Event) {
        match event {
            Event::Warning(_) => return,
            Event::Step(_) => self.state.part_in_progress = true,
            Event::Part(part) => {
                self.state.part_in_progress = false;
                self.state.last_verdict = LastVerdict::from(part.verdict);
                if part.verdict != Verdict::Pass {
                    self.state.reject_unacknowledged = true;
                    if let Err(err) = lock(&self.actuators).reject(self.clock.now()) {
                        tracing::error!(part = part.part, %err, "reject relay");
                    }
                }
            }
        }
        self.apply();
    }

    /// A reject holds until a supervisor acknowledges it.
    pub fn reject_waiting(&self) -> bool {
        self.state.reject_unacknowledged
    }

    /// The active faults, the one the tower shows first.
    pub fn faults(&self) -> impl Iterator<Item = FaultKind> + '_ {
        self.faults.iter().copied()
    }

    /// A supervisor acknowledged the reject. Returns whether one was waiting.
    pub fn acknowledge(&mut self) -> bool {
        let waiting = self.state.reject_unacknowledged;
        self.state.reject_unacknowledged = false;
        if let Err(err) = lock(&self.actuators).acknowledge(self.clock.now()) {
            tracing::error!(%err, "reject relay");
        }
        self.apply();
        waiting
    }

    fn apply(&mut self) {
        self.state.health = self.faults.first().map_or(Health::Healthy, |kind| Health::Fault(*kind));
        if let Err(err) = lock(&self.actuators).apply(&self.state, self.clock.now()) {
            tracing::error!(%err, "tower light");
        }
    }

    /// What the tower shows, if that changed since the last call: for the
    /// event stream (the panel draws it), whatever the backend.
    pub fn lights_changed(&mut self) -> Option<Lights> {
        let shown = lock(&self.actuators).shown();
        (self.reported != Some(shown)).then(|| {
            self.reported = Some(shown);
            shown
        })
    }

    /// Drives every line safe: the engine's orderly stop.
    pub fn shutdown(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.stop();
        }
        if let Err(err) = lock(&self.actuators).shutdown() {
            tracing::error!(%err, "cannot drive the output lines safe");
        }
    }
}

impl Drop for LineOutputs {
    fn drop(&mut self) {
        self.shutdown();
    }
}
