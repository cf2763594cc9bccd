//! Predictions through the decoder and checker, and what the station
//! events they make do: the overlay, the recordings split by part, the
//! evidence clip, the audit log and the line. A part's verdict is committed
//! to the audit log (fsync) before the relay line changes.

use std::time::Duration;

use actrec_core::event::{Event, StepStatus, Verdict};
use actrec_core::inspect::Inspector;
use actrec_media::output::Standing;

use super::Engine;
use crate::StationError;
use crate::model_branch::{Predicted, Prediction};

impl Engine {
    /// A window's prediction goes through the decoder and checker.
    pub fn on_prediction(&mut self, prediction: Prediction) -> Result<(), StationError> {
        // Real time, not the engine clock: this measures the decision for `bench`.
        let received = std::time::Instant::now();
        let Predicted { window, timing } = prediction.map_err(StationError::Inference)?;
        if let Some(log) = self.log.as_mut() {
            log.window(&window)?;
        }
        self.line.window(window.p < self.min_confidence);
        self.report_lights();
        let events = match self.inspector.as_mut() {
            Some(inspector) => inspector.push(&window),
            None => Vec::new(),
        };
        for event in &events {
            self.on_station_event(event);
        }
        if let Some(inspector) = &self.inspector {
            self.annotation.expected_next = inspector.expected_next();
        }
        self.output.annotate(&self.annotation());
        if let (Some(timings), Some(timing)) = (self.timings.as_mut(), timing) {
            // The verdict is out and the lines written: this is the decision latency.
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            timings.write(&serde_json::json!({
                "t": window.t,
                "preprocess_ms": ms(timing.preprocess),
                "inference_ms": ms(timing.inference),
                "decision_ms": ms(received.elapsed()),
                "latency_ms": ms(timing.last_frame_at.elapsed()),
            }))?;
        }
        Ok(())
    }

    /// The end of the input: a part still open is reported incomplete.
    pub fn finish(&mut self) {
        let events = self.inspector.as_mut().map(Inspector::finish).unwrap_or_default();
        for event in &events {
            self.on_station_event(event);
        }
    }

    /// Station events drive the overlay, the recording splits, the clips and the line outputs.
    pub(super) fn on_station_event(&mut self, event: &Event) {
        self.shown = self.shown.after(event, self.line.reject_waiting());
        match event {
            Event::Warning(w) => self.annotation.label = Some((w.label.clone(), w.p)),
            Event::Step(step) => {
                if self.part != Some(step.part) {
                    self.part = Some(step.part);
                    self.part_steps.clear();
                    self.annotation.missing.clear();
                    self.output.part_started(step.part);
                }
                if step.status == StepStatus::Ok {
                    self.part_steps.push(step.step.clone());
                }
                self.annotation.strip = self.strip(None);
                self.annotation.label = Some((step.step.clone(), step.p));
                self.annotation.step = Some((step.step.clone(), step.status == StepStatus::Ok));
                self.annotation.part = Some(step.part);
            }
            Event::Part(part) => {
                let (text, standing) = match part.verdict {
                    Verdict::Pass => ("PASS", Standing::Pass),
                    Verdict::Reject => ("REJECT", Standing::Reject),
                    Verdict::Incomplete => ("INCOMPLETE", Standing::Warning),
                };
                self.annotation.verdict = Some((format!("{text} #{}", part.part), standing));
                // The end card of the part's clip: the verdict, what it missed, the strip.
                self.annotation.missing = part.missing.clone();
                self.annotation.strip = self.strip(Some(part));
                if self.split_by_part {
                    self.output.split_recording();
                }
                let clip = if part.verdict == Verdict::Reject {
                    self.output.save_clip(part.part)
                } else {
                    None
                };
                if let Some(path) = &clip {
                    tracing::info!(part = part.part, clip = %path.display(), "saving evidence clip");
                }
                self.part = None;
                self.out.station(event);
                // Committed (fsync) before the relay fires.
                let committed = self.audit.event(event, None, clip.as_deref());
                if let Ok(Some(row)) = &committed {
                    self.out.committed(part.part, row.0);
                }
                self.audited(committed.map(drop), "part verdict");
                self.line.event(event);
                self.report_lights();
                return;
            }
        }
        self.out.station(event);
        let recorded = self.audit.event(event, self.part, None).map(drop);
        self.audited(recorded, "step event");
        self.line.event(event);
        self.report_lights();
    }
}
