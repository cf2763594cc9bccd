//! The cycle-time chart: how long each of the last parts took, step by step.

use std::collections::{BTreeMap, VecDeque};

use actrec_ipc::event::{EngineEvent, PartSummary, StepStatus, Verdict};

/// Closed parts the cycle-time chart shows.
pub const CHART_PARTS: usize = 10;
/// Colours the chart cycles through, one per step name (see `Theme.step-color`).
pub const PALETTE: usize = 10;

/// One step's share of a part's cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub step: String,
    pub seconds: f64,
    /// Seconds of the cycle before this step began.
    pub start: f64,
    pub error: bool,
    pub color: usize,
}

/// A closed part in the cycle-time chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub part: u32,
    pub verdict: Verdict,
    /// From the first step's start to the close: the sum of the segments.
    pub total: f64,
    pub segments: Vec<Segment>,
}

/// Cycle times of the last closed parts. A step's `t` is when it began, so a
/// step lasts until the next one begins; the last step of a part closed by
/// the next part's first step lasts until that close, and the final step (the
/// close itself) adds nothing.
#[derive(Debug, Clone)]
pub struct CycleChart {
    capacity: usize,
    /// Steps of parts not closed yet: (step, t, error).
    open: BTreeMap<u32, Vec<(String, f64, bool)>>,
    bars: VecDeque<Bar>,
    /// Step names in the order first seen, for stable colours.
    steps: Vec<String>,
}

/// Parts whose steps are kept while open; older ones were lost to a restart.
const OPEN_PARTS: usize = 4;

impl CycleChart {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            open: BTreeMap::new(),
            bars: VecDeque::new(),
            steps: Vec::new(),
        }
    }

    /// Takes an event; true when the chart changed.
    pub fn apply(&mut self, event: &EngineEvent) -> bool {
        match event {
            EngineEvent::Step(step) => {
                self.color(&step.step);
                self.open.entry(step.part).or_default().push((
                    step.step.clone(),
                    step.t,
                    step.status == StepStatus::Error,
                ));
                while self.open.len() > OPEN_PARTS {
                    self.open.pop_first();
                }
                false
            }
            EngineEvent::Part(part) => {
                let steps = self.open.remove(&part.part).unwrap_or_default();
                let Some(bar) = self.bar(part, &steps) else {
                    return false;
                };
                self.bars.push_back(bar);
                while self.bars.len() > self.capacity {
                    self.bars.pop_front();
                }
                true
            }
            _ => false,
        }
    }

    fn color(&mut self, step: &str) -> usize {
        let index = match self.steps.iter().position(|s| s == step) {
            Some(i) => i,
            None => {
                self.steps.push(step.to_owned());
                self.steps.len() - 1
            }
        };
        index % PALETTE
    }

    fn bar(&self, part: &PartSummary, steps: &[(String, f64, bool)]) -> Option<Bar> {
        let (first, _) = steps.split_first()?;
        let mut segments = Vec::with_capacity(steps.len());
        let mut start = 0.0;
        for (i, (step, t, error)) in steps.iter().enumerate() {
            let end = steps.get(i + 1).map_or(part.t, |next| next.1);
            // Station time never goes backwards; a negative span would be a bug upstream, shown as nothing.
            let seconds = (end - t).max(0.0);
            if seconds <= 0.0 && i + 1 == steps.len() {
                continue;
            }
            let color = self.steps.iter().position(|s| s == step).unwrap_or(0) % PALETTE;
            segments.push(Segment {
                step: step.clone(),
                seconds,
                start,
                error: *error,
                color,
            });
            start += seconds;
        }
        let total = (part.t - first.1).max(start);
        (total > 0.0).then_some(Bar {
            part: part.part,
            verdict: part.verdict,
            total,
            segments,
        })
    }

    /// Oldest first.
    pub fn bars(&self) -> impl ExactSizeIterator<Item = &Bar> {
        self.bars.iter()
    }

    /// The longest cycle shown, the chart's scale.
    pub fn max_total(&self) -> f64 {
        self.bars.iter().map(|b| b.total).fold(0.0, f64::max)
    }

    pub fn mean_total(&self) -> Option<f64> {
        (!self.bars.is_empty()).then(|| self.bars.iter().map(|b| b.total).sum::<f64>() / self.bars.len() as f64)
    }

    /// Step names with their colour, in the order first seen.
    pub fn legend(&self) -> impl Iterator<Item = (&str, usize)> {
        self.steps.iter().enumerate().map(|(i, s)| (s.as_str(), i % PALETTE))
    }

    /// Forgets the bars and open parts; colours stay, so they do not shift on a reconnect.
    pub fn clear(&mut self) {
        self.open.clear();
        self.bars.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_events::{closed, step};

    #[test]
    fn cycle_times_are_the_gaps_between_steps() {
        let mut chart = CycleChart::new(CHART_PARTS);
        for event in [
            step(10.0, 1, "base", true),
            step(14.0, 1, "spacer", true),
            step(15.5, 1, "nut", false),
            step(21.0, 1, "cover", true),
        ] {
            assert!(!chart.apply(&event), "steps alone change no bar");
        }
        // Closed by its final step: the close adds nothing after it.
        assert!(chart.apply(&closed(21.0, 1, Verdict::Pass, &[])));
        let bar = chart.bars().next().expect("a bar").clone();
        assert_eq!(bar.part, 1);
        assert_eq!(bar.total, 11.0);
        let spans: Vec<_> = bar
            .segments
            .iter()
            .map(|s| (s.step.as_str(), s.seconds, s.start))
            .collect();
        assert_eq!(spans, [("base", 4.0, 0.0), ("spacer", 1.5, 4.0), ("nut", 5.5, 5.5)]);
        assert!(bar.segments[2].error);
        assert_eq!(
            bar.segments.iter().map(|s| s.color).collect::<Vec<_>>(),
            [0, 1, 2],
            "colours by first sight"
        );

        // Closed by the next part's first step: the last step lasts until then.
        chart.apply(&step(30.0, 2, "base", true));
        chart.apply(&step(33.0, 2, "nut", true));
        chart.apply(&closed(40.0, 2, Verdict::Reject, &["spacer"]));
        let bar = chart.bars().nth(1).expect("second bar");
        assert_eq!(bar.total, 10.0);
        assert_eq!(
            bar.segments.iter().map(|s| (s.seconds, s.color)).collect::<Vec<_>>(),
            [(3.0, 0), (7.0, 2)]
        );
        assert_eq!(chart.max_total(), 11.0);
        assert_eq!(chart.mean_total(), Some(10.5));
        let legend: Vec<_> = chart.legend().collect();
        assert_eq!(legend, [("base", 0), ("spacer", 1), ("nut", 2), ("cover", 3)]);
    }

    #[test]
    fn the_chart_keeps_the_last_parts_and_skips_parts_without_timing() {
        let mut chart = CycleChart::new(3);
        assert_eq!(chart.mean_total(), None);
        // A part the panel saw no step of (it connected late).
        assert!(!chart.apply(&closed(5.0, 99, Verdict::Pass, &[])));
        // A single step closed at once has no duration.
        chart.apply(&step(6.0, 100, "base", true));
        assert!(!chart.apply(&closed(6.0, 100, Verdict::Reject, &[])));
        for part in 1..=5u32 {
            let t0 = f64::from(part) * 100.0;
            chart.apply(&step(t0, part, "base", true));
            chart.apply(&step(t0 + f64::from(part), part, "cover", true));
            chart.apply(&closed(t0 + f64::from(part), part, Verdict::Pass, &[]));
        }
        let parts: Vec<_> = chart.bars().map(|b| (b.part, b.total)).collect();
        assert_eq!(parts, [(3, 3.0), (4, 4.0), (5, 5.0)]);
        // Steps of parts that never close do not pile up.
        for part in 200..220 {
            chart.apply(&step(1.0, part, "base", true));
        }
        assert!(chart.open.len() <= OPEN_PARTS);
        // Many step names: colours wrap around the palette.
        for i in 0..(PALETTE + 2) {
            chart.apply(&step(1.0, 300, &format!("s{i}"), true));
        }
        assert!(chart.legend().all(|(_, c)| c < PALETTE));
        chart.clear();
        assert_eq!(chart.bars().len(), 0);
        assert_eq!(chart.max_total(), 0.0);
    }
}
