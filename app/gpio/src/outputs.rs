//! The tower light, the reject relay and the heartbeat, and [`Actuators`],
//! which drives them through an [`OutputLines`] backend.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, TryLockError, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actrec_core::config::{Gpio, RejectMode};
use actrec_core::light::{self, Lamp, Lights, Relay, StationState};

use crate::{Error, Line, OutputLines, lock};

/// How often [`Ticker`] calls [`Actuators::tick`]: the resolution of blink
/// edges and of the end of a reject pulse.
pub const TICK: Duration = Duration::from_millis(20);

/// Timing and relay mode, from `[gpio]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub reject_mode: RejectMode,
    /// Length of a reject pulse (pulse mode).
    pub pulse: Duration,
    /// Full period of a blinking lamp: on for half, off for half.
    pub blink_period: Duration,
}

impl Settings {
    pub fn from_config(gpio: &Gpio) -> Self {
        Settings {
            reject_mode: gpio.reject_mode,
            pulse: Duration::from_millis(u64::from(gpio.reject_pulse_ms().unwrap_or(Gpio::DEFAULT_PULSE_MS))),
            blink_period: Duration::from_millis(u64::from(gpio.blink_ms)),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            reject_mode: RejectMode::Latch,
            pulse: Duration::from_millis(u64::from(Gpio::DEFAULT_PULSE_MS)),
            blink_period: Duration::from_secs(1),
        }
    }
}

/// Green, amber, red and an optional buzzer, each off, steady or blinking.
///
/// Blinking lamps blink together: on for the first half of each period,
/// counted from the moment a lamp last started to blink, so a new blink
/// shows at once.
#[derive(Debug, Clone)]
pub struct TowerLight {
    shown: Lights,
    blink_period: Duration,
    origin: Instant,
}

impl TowerLight {
    /// A tower showing "not inspecting" (steady red), as at start.
    pub fn new(blink_period: Duration, now: Instant) -> Self {
        TowerLight {
            shown: Lights::NOT_INSPECTING,
            blink_period: blink_period.max(Duration::from_millis(2)),
            origin: now,
        }
    }

    /// Shows new lights from `now`.
    pub fn show(&mut self, lights: Lights, now: Instant) {
        let blinking = |l: &Lights| [l.green, l.amber, l.red, l.buzzer].map(|lamp| lamp == Lamp::Blink);
        let before = blinking(&self.shown);
        let starts = blinking(&lights)
            .iter()
            .zip(before)
            .any(|(after, before)| *after && !before);
        if starts {
            self.origin = now;
        }
        self.shown = lights;
    }

    pub fn shown(&self) -> Lights {
        self.shown
    }

    /// Whether a blinking lamp is lit at `now`.
    pub fn blink_on(&self, now: Instant) -> bool {
        let half = (self.blink_period / 2).as_nanos().max(1);
        (now.saturating_duration_since(self.origin).as_nanos() / half).is_multiple_of(2)
    }

    fn lamp(&self, lamp: Lamp, now: Instant) -> bool {
        match lamp {
            Lamp::Off => false,
            Lamp::Steady => true,
            Lamp::Blink => self.blink_on(now),
        }
    }

    /// The four lines' levels at `now`.
    pub fn levels(&self, now: Instant) -> [(Line, bool); 4] {
        let s = self.shown;
        [
            (Line::Green, self.lamp(s.green, now)),
            (Line::Amber, self.lamp(s.amber, now)),
            (Line::Red, self.lamp(s.red, now)),
            (Line::Buzzer, self.lamp(s.buzzer, now)),
        ]
    }
}

/// What the reject relay is doing on its own account (the policy's hold
/// comes on top).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayState {
    Released,
    /// Pulse mode: a rejected part, until the instant given.
    Pulsing {
        until: Instant,
    },
    /// Latch mode: a rejected part, until a supervisor acknowledges.
    Latched,
}

/// The reject relay: asserted (stop the line, or divert) for a pulse per
/// rejected part, or latched until acknowledged, as configured; and held
/// while the policy says so (every fault; see
/// [`actrec_core::light::reject_relay`]). A reject during a pulse restarts
/// the pulse, so two close rejects give one longer pulse.
#[derive(Debug, Clone)]
pub struct RejectRelay {
    mode: RejectMode,
    pulse: Duration,
    state: RelayState,
    hold: bool,
}

impl RejectRelay {
    /// A relay held (asserted), as at start: nothing runs until the engine
    /// applies a healthy state.
    pub fn new(mode: RejectMode, pulse: Duration) -> Self {
        RejectRelay {
            mode,
            pulse,
            state: RelayState::Released,
            hold: true,
        }
    }

    /// A rejected part.
    pub fn reject(&mut self, now: Instant) {
        self.state = match self.mode {
            RejectMode::Pulse => RelayState::Pulsing {
                until: now + self.pulse,
            },
            RejectMode::Latch => RelayState::Latched,
        };
    }

    /// A supervisor acknowledged: a latch is released (a pulse runs out).
    pub fn acknowledge(&mut self) {
        if self.state == RelayState::Latched {
            self.state = RelayState::Released;
        }
    }

    /// The policy's hold.
    pub fn hold(&mut self, hold: bool) {
        self.hold = hold;
    }

    pub fn state(&self) -> RelayState {
        self.state
    }

    /// Whether the relay is asserted at `now` (ends a pulse that is over).
    pub fn level(&mut self, now: Instant) -> bool {
        if let RelayState::Pulsing { until } = self.state
            && now >= until
        {
            self.state = RelayState::Released;
        }
        self.hold || self.state != RelayState::Released
    }
}

/// A line that toggles once per inference window, for an external watchdog
/// relay: if it stops toggling (engine hung, dead, or driven safe), the
/// watchdog drops the line's permit and the red lamp's inhibit.
#[derive(Debug, Clone, Default)]
pub struct Heartbeat {
    level: bool,
}

impl Heartbeat {
    /// Toggles and returns the new level.
    pub fn toggle(&mut self) -> bool {
        self.level = !self.level;
        self.level
    }

    pub fn level(&self) -> bool {
        self.level
    }
}

/// The backend with a gate: once tripped (shutdown, a panic anywhere), no
/// write but a safe one gets through, so a tick racing a panic hook cannot
/// light green again after the hook drove the lines safe.
struct Gate {
    lines: Arc<dyn OutputLines>,
    tripped: Mutex<bool>,
}

impl Gate {
    /// Writes a running level unless tripped; `Ok(false)` when tripped.
    fn set(&self, line: Line, on: bool) -> Result<bool, Error> {
        let tripped = lock(&self.tripped);
        if *tripped {
            return Ok(false);
        }
        self.lines.set(line, on)?;
        Ok(true)
    }

    fn trip(&self) -> Result<(), Error> {
        let mut tripped = lock(&self.tripped);
        *tripped = true;
        self.lines.drive_safe()
    }

    /// Trips from a panic hook, which must not wait forever: the panicking
    /// thread may be the one holding the gate.
    fn trip_from_hook(&self) {
        for _ in 0..200 {
            match self.tripped.try_lock() {
                Ok(mut tripped) => {
                    *tripped = true;
                    let _ = self.lines.drive_safe();
                    return;
                }
                Err(TryLockError::Poisoned(p)) => {
                    *p.into_inner() = true;
                    let _ = self.lines.drive_safe();
                    return;
                }
                Err(TryLockError::WouldBlock) => std::thread::sleep(Duration::from_millis(1)),
            }
        }
        // The gate is held by the panicking thread itself (inside a write):
        // drive safe anyway; that thread writes nothing more.
        let _ = self.lines.drive_safe();
    }

    fn is_tripped(&self) -> bool {
        *lock(&self.tripped)
    }
}

/// The station's outputs to the line: tower light, reject relay, heartbeat.
///
/// The engine calls [`apply`](Actuators::apply) when the station state
/// changes, [`reject`](Actuators::reject) for each rejected part (after its
/// verdict is committed to the audit log), [`acknowledge`](Actuators::acknowledge)
/// when a supervisor acknowledges, [`heartbeat`](Actuators::heartbeat) once
/// per inference window, and [`tick`](Actuators::tick) often (or lets a
/// [`Ticker`] do it) for blinking and pulse ends. Each call writes the lines
/// whose level changed, at once.
///
/// Lines are safe from [`new`](Actuators::new) until the first `apply`, and
/// again after [`shutdown`](Actuators::shutdown), on drop, and after a panic
/// once [`install_panic_hook`](Actuators::install_panic_hook) was called;
/// after a shutdown or panic nothing but safe levels is written again.
pub struct Actuators {
    gate: Arc<Gate>,
    settings: Settings,
    tower: TowerLight,
    relay: RejectRelay,
    heartbeat: Heartbeat,
    written: [Option<bool>; 6],
    failing: bool,
}

impl Actuators {
    /// Takes over a backend, driving every line safe first.
    pub fn new(lines: Arc<dyn OutputLines>, settings: Settings, now: Instant) -> Result<Self, Error> {
        lines.drive_safe()?;
        let mut written = [None; 6];
        for line in Line::ALL {
            written[line.index()] = Some(line.safe_level());
        }
        Ok(Actuators {
            gate: Arc::new(Gate {
                lines,
                tripped: Mutex::new(false),
            }),
            settings,
            tower: TowerLight::new(settings.blink_period, now),
            relay: RejectRelay::new(settings.reject_mode, settings.pulse),
            heartbeat: Heartbeat::default(),
            written,
            failing: false,
        })
    }

    /// Opens the backend `[gpio]` names ([`crate::open`]) and takes it over.
    /// `data_dir` is the resolved `station.data_dir`.
    pub fn open(gpio: &Gpio, data_dir: &Path, now: Instant) -> Result<Self, Error> {
        Self::new(crate::open(gpio, data_dir)?, Settings::from_config(gpio), now)
    }

    /// The backend.
    pub fn lines(&self) -> &Arc<dyn OutputLines> {
        &self.gate.lines
    }

    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// What the tower light shows (the pattern, not the blink phase).
    pub fn shown(&self) -> Lights {
        self.tower.shown()
    }

    /// The reject relay's own state (pulse, latch).
    pub fn relay_state(&self) -> RelayState {
        self.relay.state()
    }

    /// The level last written to each line (`None`: the write failed).
    pub fn levels(&self) -> Vec<(Line, Option<bool>)> {
        Line::ALL.iter().map(|l| (*l, self.written[l.index()])).collect()
    }

    /// Whether the outputs were shut down or tripped by a panic.
    pub fn is_tripped(&self) -> bool {
        self.gate.is_tripped()
    }

    /// Shows the policy's lights and relay hold for a station state.
    pub fn apply(&mut self, state: &StationState, now: Instant) -> Result<(), Error> {
        self.tower.show(light::lights(state), now);
        self.relay
            .hold(light::reject_relay(state, self.settings.reject_mode) == Relay::Held);
        self.tick(now)
    }

    /// A rejected part: starts a pulse, or latches the relay until
    /// [`acknowledge`](Actuators::acknowledge), as configured. Call it once
    /// the verdict is committed; the lights follow the next `apply`.
    pub fn reject(&mut self, now: Instant) -> Result<(), Error> {
        tracing::info!(mode = ?self.settings.reject_mode, "reject relay fires");
        self.relay.reject(now);
        self.tick(now)
    }

    /// A supervisor acknowledged the reject: releases a latched relay (the
    /// policy may still hold it, e.g. on a fault).
    pub fn acknowledge(&mut self, now: Instant) -> Result<(), Error> {
        tracing::info!("reject acknowledged");
        self.relay.acknowledge();
        self.tick(now)
    }

    /// Toggles the heartbeat line: once per inference window.
    pub fn heartbeat(&mut self) -> Result<(), Error> {
        let level = self.heartbeat.toggle();
        self.write(Line::Heartbeat, level)
    }

    /// Writes every line whose level changed: blink phases, the end of a
    /// pulse. Goes on past a failing line; returns the first failure.
    pub fn tick(&mut self, now: Instant) -> Result<(), Error> {
        let mut levels = self.tower.levels(now).to_vec();
        levels.push((Line::Reject, self.relay.level(now)));
        let mut first = None;
        for (line, on) in levels {
            if let Err(err) = self.write(line, on) {
                first.get_or_insert(err);
            }
        }
        match first {
            Some(err) => {
                if !self.failing {
                    tracing::error!(backend = self.gate.lines.backend(), %err, "output line write failed");
                }
                self.failing = true;
                Err(err)
            }
            None => {
                if self.failing {
                    tracing::info!(backend = self.gate.lines.backend(), "output lines writable again");
                }
                self.failing = false;
                Ok(())
            }
        }
    }

    fn write(&mut self, line: Line, on: bool) -> Result<(), Error> {
        if self.written[line.index()] == Some(on) || !self.gate.lines.has(line) {
            return Ok(());
        }
        match self.gate.set(line, on) {
            Ok(true) => {
                tracing::trace!(line = line.name(), on, "output line");
                self.written[line.index()] = Some(on);
                Ok(())
            }
            Ok(false) => Ok(()),
            Err(err) => {
                self.written[line.index()] = None;
                Err(err)
            }
        }
    }

    /// Drives every line safe and keeps it so: the engine's orderly stop.
    pub fn shutdown(&mut self) -> Result<(), Error> {
        let result = self.gate.trip();
        for line in Line::ALL {
            self.written[line.index()] = Some(line.safe_level());
        }
        tracing::info!(backend = self.gate.lines.backend(), "output lines safe (shutdown)");
        result
    }

    /// Installs a panic hook (chained before the one already installed) that
    /// drives the lines safe on a panic in any thread, and keeps them safe
    /// until the process restarts: a process that panicked is not trusted
    /// to tell good parts from bad. The hook holds the backend weakly.
    pub fn install_panic_hook(&self) {
        let gate: Weak<Gate> = Arc::downgrade(&self.gate);
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(gate) = gate.upgrade() {
                gate.trip_from_hook();
                eprintln!("actrec-gpio: panic: output lines driven safe");
            }
            previous(info);
        }));
    }
}

impl Drop for Actuators {
    fn drop(&mut self) {
        if let Err(err) = self.shutdown() {
            tracing::error!(%err, "cannot drive output lines safe on drop");
        }
    }
}

/// A helper thread that calls [`Actuators::tick`] every [`TICK`]. Stops
/// (and joins) on [`Ticker::stop`] or drop.
pub struct Ticker {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Ticker {
    pub fn spawn(actuators: Arc<Mutex<Actuators>>) -> std::io::Result<Ticker> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("actrec-gpio-tick".into())
            .spawn(move || {
                while !flag.load(Ordering::Acquire) {
                    std::thread::park_timeout(TICK);
                    if flag.load(Ordering::Acquire) {
                        break;
                    }
                    // Errors are logged by tick, once per failing spell.
                    let _ = lock(&actuators).tick(Instant::now());
                }
            })?;
        Ok(Ticker {
            stop,
            handle: Some(handle),
        })
    }

    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(handle) = self.handle.take() {
            handle.thread().unpark();
            let _ = handle.join();
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.halt();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blinking_starts_lit_and_alternates_each_half_period() {
        let t0 = Instant::now();
        let mut tower = TowerLight::new(Duration::from_millis(1000), t0);
        let blink = Lights {
            red: Lamp::Blink,
            ..Lights::default()
        };
        let t1 = t0 + Duration::from_millis(1234);
        tower.show(blink, t1);
        let red = |at: u64| tower.levels(t1 + Duration::from_millis(at))[2].1;
        assert!(red(0));
        assert!(red(499));
        assert!(!red(500));
        assert!(!red(999));
        assert!(red(1000));
        // Showing the same blink again does not restart the phase.
        let mut again = tower.clone();
        again.show(blink, t1 + Duration::from_millis(700));
        assert!(!again.levels(t1 + Duration::from_millis(700))[2].1);
    }

    #[test]
    fn a_pulse_ends_and_a_latch_waits_for_acknowledgement() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut relay = RejectRelay::new(RejectMode::Pulse, Duration::from_millis(300));
        assert!(relay.level(t0), "held at start");
        relay.hold(false);
        assert!(!relay.level(t0));
        relay.reject(ms(100));
        assert!(relay.level(ms(399)));
        assert!(!relay.level(ms(400)));
        assert_eq!(relay.state(), RelayState::Released);

        let mut relay = RejectRelay::new(RejectMode::Latch, Duration::from_millis(300));
        relay.hold(false);
        relay.reject(ms(100));
        assert!(relay.level(ms(100_000)));
        relay.acknowledge();
        assert!(!relay.level(ms(100_001)));
        relay.hold(true);
        assert!(relay.level(ms(100_002)), "a fault holds it");
    }
}
