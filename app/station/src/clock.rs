//! The clock seam. The engine asks its [`Clock`] for the time instead of
//! calling `Instant::now()`, so that rules that depend on time (a fault that
//! clears after a quiet spell, the PIN pad's lockout, an inference stall, the
//! status pace) are tested by moving a [`FakeClock`], not by waiting.
//!
//! Monotonic time only: wall-clock timestamps of audit rows come from the
//! audit log itself.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use actrec_core::sync::lock;

pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;

    /// Time passed since `earlier`, by this clock.
    fn since(&self, earlier: Instant) -> Duration {
        self.now().saturating_duration_since(earlier)
    }
}

/// The host's monotonic clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct FakeClock {
    now: Mutex<Instant>,
}

impl Default for FakeClock {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeClock {
    pub fn new() -> Self {
        Self {
            now: Mutex::new(Instant::now()),
        }
    }

    pub fn advance(&self, by: Duration) {
        *lock(&self.now) += by;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Instant {
        *lock(&self.now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fake_clock_moves_only_when_told() {
        let clock = FakeClock::new();
        let start = clock.now();
        assert_eq!(clock.since(start), Duration::ZERO);
        clock.advance(Duration::from_secs(5));
        assert_eq!(clock.since(start), Duration::from_secs(5));
    }
}
