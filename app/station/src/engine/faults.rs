//! Faults: raised and cleared on the tower light, in the audit log, on the
//! event stream and the overlay; and the periodic watches that raise them
//! (inference stalled, model behind the camera), with pruning and the
//! stick poll on the same ticks.

use std::sync::atomic::Ordering;
use std::time::Duration;

use actrec_core::light::FaultKind;

use super::{BEHIND_CLEARS_AFTER, Engine, ModelWatch, PRUNE_EVERY, STICK_POLL};
use crate::deps::lines::FaultChange;

impl Engine {
    /// Periodic work on the main loop's ticks: the inference watch, pruning.
    pub fn tick(&mut self, model: &dyn ModelWatch) {
        self.line.tick();
        self.watch_inference(model);
        self.watch_windows(model);
        if self.clock.since(self.last_prune) >= PRUNE_EVERY {
            self.last_prune = self.clock.now();
            self.audit.prune();
        }
        if self.last_stick_poll.is_none_or(|t| self.clock.since(t) >= STICK_POLL) {
            self.last_stick_poll = Some(self.clock.now());
            self.poll_sticks();
        }
        self.rates
            .update(self.frames.load(Ordering::Relaxed), self.output.frames_fed());
        self.publish_status();
    }

    /// Audit-log writes that fail raise the audit fault; one that succeeds clears it.
    pub(super) fn audited(&mut self, result: Result<(), actrec_audit::Error>, what: &str) {
        let failing = result.is_err();
        if let Err(err) = result {
            tracing::error!(%err, "audit log: cannot record the {what}");
        }
        if failing != self.line.has_fault(FaultKind::AuditWriteFailure)
            && let Some(change) = self.line.fault(FaultKind::AuditWriteFailure, failing)
        {
            log_fault(FaultKind::AuditWriteFailure, failing, what);
            let detail = format!("writing the {what}");
            let recorded = self.audit.fault(change.fault, change.active, &detail).map(drop);
            if let Err(err) = recorded {
                tracing::error!(%err, "audit log: cannot record the audit fault itself");
            }
            self.report_fault(&change);
        }
    }

    /// Checks the model branch for a stall.
    pub(super) fn watch_inference(&mut self, model: &dyn ModelWatch) {
        let busy = model.busy_for();
        // A window takes milliseconds on station hardware; `[model] stall_seconds` is the limit.
        let limit = Duration::from_secs(u64::from(self.config.model.stall_seconds));
        let stalled = busy.is_some_and(|busy| busy >= limit);
        if stalled != self.line.has_fault(FaultKind::InferenceStalled) {
            let detail = busy.map(|b| format!("one frame in the model branch for {:.1} s", b.as_secs_f64()));
            self.fault(FaultKind::InferenceStalled, stalled, &detail.unwrap_or_default());
        }
    }

    /// Windows left out (frames dropped by a live source because the model
    /// branch falls behind) mean steps may go unseen: a fault, not a guess.
    pub(super) fn watch_windows(&mut self, model: &dyn ModelWatch) {
        let skipped = model.windows_skipped();
        let behind = self.line.has_fault(FaultKind::ModelBehind);
        if skipped > self.windows_skipped.0 {
            let new = skipped - self.windows_skipped.0;
            self.windows_skipped = (skipped, self.clock.now());
            tracing::warn!(source = %self.source, skipped = new, total = skipped, "windows left out: frames missing");
            if !behind {
                let detail = format!(
                    "{new} window(s) left out, frames missing: the model falls behind source {}",
                    self.source
                );
                self.fault(FaultKind::ModelBehind, true, &detail);
            }
        } else if behind && self.clock.since(self.windows_skipped.1) >= BEHIND_CLEARS_AFTER {
            self.fault(FaultKind::ModelBehind, false, "");
        }
    }

    pub(super) fn fault(&mut self, kind: FaultKind, active: bool, detail: &str) {
        if let Some(change) = self.line.fault(kind, active) {
            log_fault(kind, active, detail);
            if active {
                self.fault_detail = detail.to_owned();
            }
            let recorded = self.audit.fault(kind, active, detail).map(drop);
            self.audited(recorded, "fault");
            self.report_fault(&change);
        }
    }

    pub(super) fn report_lights(&mut self) {
        if let Some(lights) = self.line.lights_changed() {
            self.out.lights(&lights);
        }
    }

    pub(super) fn report_fault(&mut self, change: &FaultChange) {
        self.out.fault(change);
        self.report_lights();
        self.output.annotate(&self.annotation());
    }
}

/// ERROR only for a fault that stops inspection unexpectedly: waiting for a
/// first frame and the end of a file are expected, and a cleared fault is news.
pub(super) fn log_fault(kind: FaultKind, active: bool, detail: &str) {
    let expected = kind == FaultKind::NoVideo
        && (detail == super::WAITING_FOR_FIRST_FRAME || detail == super::sources::FILE_ENDED);
    match (active, expected) {
        (true, false) => tracing::error!(fault = kind.as_str(), detail, "station fault: not inspecting"),
        (true, true) => tracing::info!(fault = kind.as_str(), detail, "not inspecting"),
        (false, _) => tracing::info!(fault = kind.as_str(), "station fault cleared"),
    }
}
