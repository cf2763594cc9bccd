//! systemd supervision (`Type=notify`): `READY=1` once the pipeline runs,
//! `STATUS=` lines an operator sees in `systemctl status actrec`, and
//! `WATCHDOG=1` from the model branch only, so that a stalled inference (a
//! thread stuck in the runtime) stops the pings and systemd restarts the
//! engine. A missing camera does not stop them: the model branch wakes up
//! without frames too. Without `NOTIFY_SOCKET` all of this does nothing.

use std::time::{Duration, Instant};

use sd_notify::NotifyState;

pub fn ready(status: &str) {
    notify(&[NotifyState::Ready, NotifyState::Status(status)]);
}

pub fn status(status: &str) {
    notify(&[NotifyState::Status(status)]);
}

pub fn stopping() {
    notify(&[NotifyState::Stopping]);
}

fn notify(states: &[NotifyState]) {
    if let Err(err) = sd_notify::notify(states) {
        tracing::warn!("systemd notification failed: {err}");
    }
}

/// Pings the systemd watchdog at half its interval, from whichever loop owns it.
pub struct Watchdog {
    interval: Option<Duration>,
    last: Option<Instant>,
}

impl Watchdog {
    /// `WATCHDOG_USEC` from systemd, for this process only.
    pub fn from_env() -> Self {
        Self {
            interval: sd_notify::watchdog_enabled().map(|d| d / 2),
            last: None,
        }
    }

    /// How long the owning loop may wait for work before it must ping again.
    pub fn wake_every(&self) -> Duration {
        self.interval
            .unwrap_or(Duration::from_secs(1))
            .min(Duration::from_secs(1))
    }

    pub fn pet(&mut self) {
        let Some(interval) = self.interval else { return };
        if self.last.is_none_or(|last| last.elapsed() >= interval) {
            notify(&[NotifyState::Watchdog]);
            self.last = Some(Instant::now());
        }
    }
}
