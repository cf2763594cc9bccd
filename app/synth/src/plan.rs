//! What happens in a clip: which parts, which steps (with which fault), how
//! long each takes, and the verdict the station must give. Pure and
//! deterministic from the seed.

use actrec_core::event::{Event, PartSummary, Verdict};
use actrec_core::sequence::{Checker, Definition, Element, Occurrence};
use serde::Serialize;

use crate::rng::Rng;
use crate::variation::{FaultKind, Variation};

pub const IDLE: &str = "idle";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fault {
    pub kind: FaultKind,
    pub detail: String,
}

/// The verdict a perfect station gives a part.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expected {
    pub verdict: Verdict,
    pub missing: Vec<String>,
    pub errors: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartPlan {
    pub part: u32,
    pub steps: Vec<String>,
    pub fault: Option<Fault>,
    pub expected: Expected,
    pub start_frame: u64,
    pub end_frame: u64,
}

/// A stretch of frames with one label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    pub label: String,
    pub start: u64,
    /// Exclusive.
    pub end: u64,
    pub part: Option<u32>,
    /// Something unrelated crosses the view during this segment.
    pub distractor: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub fps: u32,
    pub frames: u64,
    pub parts: Vec<PartPlan>,
    pub segments: Vec<Segment>,
}

impl Plan {
    /// The label of every frame.
    pub fn frame_labels(&self) -> Vec<&str> {
        let mut labels = Vec::with_capacity(self.frames as usize);
        for segment in &self.segments {
            labels.extend(std::iter::repeat_n(
                segment.label.as_str(),
                (segment.end - segment.start) as usize,
            ));
        }
        labels
    }
}

/// Plans `parts` parts of `definition` under `variation`.
pub fn plan(definition: &Definition, variation: &Variation, seed: u64, parts: u32, fps: u32) -> Plan {
    let mut rng = Rng::new(seed).fork(1);
    let faulty = faulty_parts(parts, variation.faults.faulty_fraction, &mut rng);
    let timing = &variation.timing;
    let frames_of = |seconds: f64| ((seconds * f64::from(fps)).round() as u64).max(1);
    let mut segments = Vec::new();
    let mut plans = Vec::new();
    let pause = |segments: &mut Vec<Segment>, rng: &mut Rng| {
        push(
            segments,
            IDLE,
            frames_of(rng.range(timing.between_parts_seconds)),
            None,
            false,
        );
    };
    for number in 1..=parts {
        pause(&mut segments, &mut rng);
        let mut steps = definition.sample_run(&mut |n| rng.below(n));
        let fault = if faulty.contains(&number) {
            apply_fault(definition, variation, &mut steps, &mut rng)
        } else {
            None
        };
        let start_frame = end_of(&segments);
        for (k, step) in steps.iter().enumerate() {
            // The same step twice in a row is two motions: the hand goes back to rest between them.
            let repeated = k > 0 && steps[k - 1] == *step;
            if repeated || rng.chance(timing.idle_probability) {
                let seconds = rng.range(timing.idle_seconds).max(if repeated { 0.4 } else { 0.0 });
                push(&mut segments, IDLE, frames_of(seconds), Some(number), false);
            }
            let distractor = rng.chance(variation.distractor.probability);
            push(
                &mut segments,
                step,
                frames_of(rng.range(timing.step_seconds)),
                Some(number),
                distractor,
            );
        }
        let expected = expected_verdict(definition, &steps);
        plans.push(PartPlan {
            part: number,
            steps,
            fault,
            expected,
            start_frame,
            end_frame: end_of(&segments),
        });
    }
    pause(&mut segments, &mut rng);
    Plan {
        fps,
        frames: end_of(&segments),
        parts: plans,
        segments,
    }
}

fn end_of(segments: &[Segment]) -> u64 {
    segments.last().map_or(0, |s| s.end)
}

fn push(segments: &mut Vec<Segment>, label: &str, frames: u64, part: Option<u32>, distractor: bool) {
    let start = end_of(segments);
    segments.push(Segment {
        label: label.to_owned(),
        start,
        end: start + frames,
        part,
        distractor,
    });
}

/// Which parts get a fault: the share asked for, at random places.
fn faulty_parts(parts: u32, fraction: f64, rng: &mut Rng) -> Vec<u32> {
    let mut numbers: Vec<u32> = (1..=parts).collect();
    for i in (1..numbers.len()).rev() {
        numbers.swap(i, rng.below(i + 1));
    }
    numbers.truncate((f64::from(parts) * fraction).round() as usize);
    numbers
}

/// What the station's own checker says of these steps: the ground truth.
pub fn expected_verdict(definition: &Definition, steps: &[String]) -> Expected {
    let mut checker = Checker::new(definition);
    let mut summary: Option<PartSummary> = None;
    for (i, step) in steps.iter().enumerate() {
        for event in checker.observe(&Occurrence {
            t: i as f64,
            label: step.clone(),
            p: 1.0,
        }) {
            if let Event::Part(part) = event {
                summary.get_or_insert(part);
            }
        }
    }
    let summary = summary.or_else(|| checker.finish(steps.len() as f64));
    match summary {
        Some(s) => Expected {
            verdict: s.verdict,
            missing: s.missing,
            errors: s.errors,
        },
        None => Expected {
            verdict: Verdict::Incomplete,
            missing: Vec::new(),
            errors: 0,
        },
    }
}

/// Changes `steps` by one fault, never touching the opening or final step, so
/// that part boundaries stay where they are. Falls back to a missing step.
fn apply_fault(
    definition: &Definition,
    variation: &Variation,
    steps: &mut Vec<String>,
    rng: &mut Rng,
) -> Option<Fault> {
    if steps.len() < 3 {
        return None;
    }
    let kinds = &variation.faults.kinds;
    let kind = *kinds.get(rng.below(kinds.len().max(1)))?;
    let interior = 1..steps.len() - 1;
    let fault = match kind {
        FaultKind::Swap => {
            let pairs: Vec<usize> = (interior.start..interior.end - 1)
                .filter(|&i| steps[i] != steps[i + 1])
                .collect();
            pairs.get(rng.below(pairs.len().max(1))).map(|&i| {
                steps.swap(i, i + 1);
                Fault {
                    kind,
                    detail: format!(
                        "{} done before {} (steps {} and {})",
                        steps[i],
                        steps[i + 1],
                        i + 1,
                        i + 2
                    ),
                }
            })
        }
        FaultKind::Extra => {
            let boundaries = [definition.opening_step(), definition.final_step.as_str()];
            let choices: Vec<String> = steps[interior.clone()]
                .iter()
                .filter(|s| !boundaries.contains(&s.as_str()))
                .cloned()
                .collect();
            choices.get(rng.below(choices.len().max(1))).cloned().map(|label| {
                let at = interior.start + rng.below(interior.len());
                steps.insert(at, label.clone());
                Fault {
                    kind,
                    detail: format!("an extra {label} at step {}", at + 1),
                }
            })
        }
        FaultKind::Repeat => repeat_fault(definition, steps, rng),
        FaultKind::Missing => None,
    };
    fault.or_else(|| {
        let at = interior.start + rng.below(interior.len());
        let label = steps.remove(at);
        Some(Fault {
            kind: FaultKind::Missing,
            detail: format!("{label} left out (step {})", at + 1),
        })
    })
}

/// One repetition of the first plain repeated group, left out or done once more.
fn repeat_fault(definition: &Definition, steps: &mut Vec<String>, rng: &mut Rng) -> Option<Fault> {
    let body: Vec<String> = definition.steps.iter().find_map(|e| match e {
        Element::Repeat { steps, .. } => steps
            .iter()
            .map(|s| match s {
                Element::Step(label) => Some(label.clone()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>(),
        _ => None,
    })?;
    let starts: Vec<usize> = (1..steps.len().saturating_sub(body.len()))
        .filter(|&i| steps[i..i + body.len()] == body[..])
        .collect();
    let &at = starts.get(rng.below(starts.len().max(1)))?;
    if rng.chance(0.5) {
        steps.drain(at..at + body.len());
        Some(Fault {
            kind: FaultKind::Repeat,
            detail: format!("one repetition of {} too few", body.join("/")),
        })
    } else {
        for (k, label) in body.iter().enumerate() {
            steps.insert(at + k, label.clone());
        }
        Some(Fault {
            kind: FaultKind::Repeat,
            detail: format!("one repetition of {} too many", body.join("/")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEQUENCE: &str = include_str!("../../../config/sequences/gear-housing.toml");
    const VARIATION: &str = include_str!("../../../config/synth/default.toml");

    fn inputs() -> (Definition, Variation) {
        (
            Definition::parse("seq.toml", SEQUENCE, None).expect("sequence"),
            Variation::parse("default.toml", VARIATION).expect("variation"),
        )
    }

    #[test]
    fn a_seed_gives_one_plan() {
        let (def, var) = inputs();
        assert_eq!(plan(&def, &var, 7, 5, 30), plan(&def, &var, 7, 5, 30));
        assert_ne!(plan(&def, &var, 7, 5, 30), plan(&def, &var, 8, 5, 30));
    }

    #[test]
    fn faulty_parts_are_rejected_and_good_parts_pass() {
        let (def, var) = inputs();
        let plan = plan(&def, &var, 3, 40, 30);
        let faulty = plan.parts.iter().filter(|p| p.fault.is_some()).count();
        assert_eq!(faulty, 16, "40% of 40 parts");
        for part in &plan.parts {
            let want = if part.fault.is_some() {
                Verdict::Reject
            } else {
                Verdict::Pass
            };
            assert_eq!(part.expected.verdict, want, "{part:?}");
        }
        let kinds: std::collections::BTreeSet<_> = plan
            .parts
            .iter()
            .filter_map(|p| p.fault.as_ref())
            .map(|f| format!("{:?}", f.kind))
            .collect();
        assert_eq!(kinds.len(), 4, "every kind of fault appears: {kinds:?}");
    }

    #[test]
    fn segments_cover_every_frame_once() {
        let (def, var) = inputs();
        let plan = plan(&def, &var, 11, 3, 30);
        assert_eq!(plan.segments.first().map(|s| s.start), Some(0));
        assert!(plan.segments.windows(2).all(|w| w[0].end == w[1].start));
        assert_eq!(plan.segments.last().map(|s| s.end), Some(plan.frames));
        assert_eq!(plan.frame_labels().len() as u64, plan.frames);
        let steps: usize = plan.parts.iter().map(|p| p.steps.len()).sum();
        assert_eq!(plan.segments.iter().filter(|s| s.label != IDLE).count(), steps);
        // Step durations stay within the variation's range.
        for s in plan.segments.iter().filter(|s| s.label != IDLE) {
            let seconds = (s.end - s.start) as f64 / 30.0;
            assert!((0.68..=3.02).contains(&seconds), "{seconds}");
        }
    }
}
