//! Step decoding: turns the network's per-window predictions into step occurrences.
//!
//! Rules, in the order they apply to each window:
//! - below `min_confidence`: a *warning*; the window is neither a step nor a
//!   break, so a step interrupted by one doubtful window stays one occurrence;
//! - an idle label: ends the current run; idle is never a step;
//! - otherwise the window extends the run of its label, or starts a new run if
//!   the label differs. A run becomes one occurrence once it holds
//!   `min_windows` confident windows; its time is that of its first window.
//!
//! A run that ends before reaching `min_windows` is debounced away by design.

use serde::{Deserialize, Serialize};

use crate::event::Warning;
use crate::sequence::Occurrence;

/// One prediction of the network for one window of video.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Stream time of the window, in seconds.
    pub t: f64,
    /// Top-1 label.
    pub label: String,
    /// Top-1 probability.
    pub p: f64,
}

pub const DEFAULT_MIN_CONFIDENCE: f64 = 0.5;
pub const DEFAULT_MIN_WINDOWS: u32 = 1;

/// The `[decoder]` section of the station config.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DecoderSettings {
    /// Windows below this top-1 probability give a warning. Default 0.5.
    #[serde(default = "default_min_confidence")]
    pub min_confidence: f64,
    /// Confident windows in a row that make one occurrence. Default 1.
    #[serde(default = "default_min_windows")]
    pub min_windows: u32,
    /// Labels that mean "no step". Default `["idle", "background"]`.
    #[serde(default = "default_idle_labels")]
    pub idle_labels: Vec<String>,
}

fn default_min_confidence() -> f64 {
    DEFAULT_MIN_CONFIDENCE
}
fn default_min_windows() -> u32 {
    DEFAULT_MIN_WINDOWS
}
fn default_idle_labels() -> Vec<String> {
    vec!["idle".into(), "background".into()]
}

impl Default for DecoderSettings {
    fn default() -> Self {
        Self {
            min_confidence: DEFAULT_MIN_CONFIDENCE,
            min_windows: DEFAULT_MIN_WINDOWS,
            idle_labels: default_idle_labels(),
        }
    }
}

impl DecoderSettings {
    /// Every problem with these settings, as (field, message).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if !(self.min_confidence > 0.0 && self.min_confidence <= 1.0) {
            out.push((
                "min_confidence".into(),
                format!(
                    "min_confidence = {} must be greater than 0 and at most 1",
                    self.min_confidence
                ),
            ));
        }
        if self.min_windows == 0 {
            out.push(("min_windows".into(), "min_windows must be at least 1".into()));
        }
        for (i, label) in self.idle_labels.iter().enumerate() {
            if let Some(problem) = crate::label::label_problem(label) {
                out.push((format!("idle_labels[{i}]"), problem));
            } else if self.idle_labels[..i].contains(label) {
                out.push((format!("idle_labels[{i}]"), format!("`{label}` is listed twice")));
            }
        }
        out
    }
}

/// What one window gives.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    Warning(Warning),
    Occurrence(Occurrence),
}

#[derive(Debug)]
struct Run {
    label: String,
    start: f64,
    windows: u32,
    p_sum: f64,
}

/// Online step decoder; feed windows in time order.
#[derive(Debug)]
pub struct StepDecoder {
    settings: DecoderSettings,
    run: Option<Run>,
}

impl StepDecoder {
    pub fn new(settings: DecoderSettings) -> Self {
        Self { settings, run: None }
    }

    pub fn push(&mut self, window: &Window) -> Option<Decoded> {
        if window.p < self.settings.min_confidence {
            return Some(Decoded::Warning(Warning {
                t: window.t,
                label: window.label.clone(),
                p: window.p,
            }));
        }
        if self.settings.idle_labels.contains(&window.label) {
            self.run = None;
            return None;
        }
        let run = match &mut self.run {
            Some(run) if run.label == window.label => run,
            _ => self.run.insert(Run {
                label: window.label.clone(),
                start: window.t,
                windows: 0,
                p_sum: 0.0,
            }),
        };
        run.windows += 1;
        run.p_sum += window.p;
        (run.windows == self.settings.min_windows).then(|| {
            Decoded::Occurrence(Occurrence {
                t: run.start,
                label: run.label.clone(),
                p: run.p_sum / f64::from(run.windows),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(t: f64, label: &str, p: f64) -> Window {
        Window {
            t,
            label: label.into(),
            p,
        }
    }

    fn run(settings: DecoderSettings, windows: &[Window]) -> Vec<Decoded> {
        let mut decoder = StepDecoder::new(settings);
        windows.iter().filter_map(|w| decoder.push(w)).collect()
    }

    fn occurrence(t: f64, label: &str, p: f64) -> Decoded {
        Decoded::Occurrence(Occurrence {
            t,
            label: label.into(),
            p,
        })
    }

    #[test]
    fn consecutive_windows_of_one_label_are_one_occurrence() {
        let out = run(
            DecoderSettings::default(),
            &[w(0.0, "spacer", 0.9), w(1.0, "spacer", 0.8), w(2.0, "separator", 0.7)],
        );
        assert_eq!(
            out,
            vec![occurrence(0.0, "spacer", 0.9), occurrence(2.0, "separator", 0.7)]
        );
    }

    #[test]
    fn idle_windows_separate_occurrences_and_are_never_steps() {
        let out = run(
            DecoderSettings::default(),
            &[
                w(0.0, "spacer", 0.9),
                w(1.0, "idle", 0.99),
                w(2.0, "spacer", 0.9),
                w(3.0, "background", 0.9),
            ],
        );
        assert_eq!(
            out,
            vec![occurrence(0.0, "spacer", 0.9), occurrence(2.0, "spacer", 0.9)]
        );
    }

    #[test]
    fn low_confidence_windows_warn_without_breaking_a_run() {
        let out = run(
            DecoderSettings::default(),
            &[w(0.0, "spacer", 0.9), w(1.0, "separator", 0.3), w(2.0, "spacer", 0.9)],
        );
        assert_eq!(
            out,
            vec![
                occurrence(0.0, "spacer", 0.9),
                Decoded::Warning(Warning {
                    t: 1.0,
                    label: "separator".into(),
                    p: 0.3
                }),
            ]
        );
    }

    #[test]
    fn the_threshold_itself_is_confident() {
        let out = run(DecoderSettings::default(), &[w(0.0, "spacer", 0.5)]);
        assert_eq!(out, vec![occurrence(0.0, "spacer", 0.5)]);
    }

    #[test]
    fn min_windows_debounces_short_runs() {
        let settings = DecoderSettings {
            min_windows: 2,
            ..DecoderSettings::default()
        };
        let out = run(
            settings,
            &[
                w(0.0, "spacer", 0.9),
                w(1.0, "separator", 0.9), // alone: dropped
                w(2.0, "spacer", 0.6),
                w(3.0, "spacer", 0.8),
                w(4.0, "spacer", 0.9), // same run, already counted
            ],
        );
        assert_eq!(out, vec![occurrence(2.0, "spacer", 0.7)]);
    }

    #[test]
    fn settings_are_validated() {
        let bad = DecoderSettings {
            min_confidence: 1.5,
            min_windows: 0,
            idle_labels: vec!["idle".into(), "idle".into(), "no way".into()],
        };
        let fields: Vec<String> = bad.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            ["min_confidence", "min_windows", "idle_labels[1]", "idle_labels[2]"]
        );
        assert!(DecoderSettings::default().problems().is_empty());
    }
}
