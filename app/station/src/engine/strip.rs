//! The sequence as a strip of steps on the annotated video: what the open
//! part has done, what comes now, what is still to come, and, once it has
//! closed, what it missed. The checker's verdict is the authority; the strip
//! is its picture: the definition's steps in order (repeats multiplied out,
//! optional steps included while the part is open), matched in order
//! against the steps the part had accepted.

use actrec_core::event::PartSummary;
use actrec_core::sequence::{Definition, Element};
use actrec_media::output::StepMark;

/// The definition's steps in order, each with whether it is required.
fn flatten(elements: &[Element], out: &mut Vec<(String, bool)>) {
    for element in elements {
        match element {
            Element::Step(step) => out.push((step.clone(), true)),
            Element::Repeat { count, steps } => {
                for _ in 0..*count {
                    flatten(steps, out);
                }
            }
            Element::Optional(steps) => out.extend(steps.iter().map(|s| (s.clone(), false))),
            Element::AnyOrder(steps) => out.extend(steps.iter().map(|s| (s.clone(), true))),
        }
    }
}

/// The strip for a part that accepted `done` (in order); `closed` once it has a verdict.
pub(super) fn strip(definition: &Definition, done: &[String], closed: Option<&PartSummary>) -> Vec<(String, StepMark)> {
    let mut steps = Vec::new();
    flatten(&definition.steps, &mut steps);
    if let Some(part) = closed {
        // What the verdict says is missing, matched from the end (a part
        // cut short misses its last steps); the rest was done.
        // An optional step the part never did is left out.
        let mut missing = part.missing.clone();
        let mut marks: Vec<(String, StepMark)> = steps
            .into_iter()
            .filter(|(step, required)| *required || done.contains(step))
            .map(|(step, _)| (step, StepMark::Done))
            .collect();
        for (step, mark) in marks.iter_mut().rev() {
            if let Some(i) = missing.iter().position(|m| m == step) {
                missing.remove(i);
                *mark = StepMark::Missing;
            }
        }
        return marks;
    }
    // Matched in order: a step passed over is missing so far, unless optional.
    let mut next = done.iter().peekable();
    let mut marks: Vec<(String, Option<StepMark>)> = Vec::with_capacity(steps.len());
    let mut last_done = None;
    for (k, (step, required)) in steps.iter().enumerate() {
        if next.peek().is_some_and(|d| *d == step) {
            next.next();
            last_done = Some(k);
            marks.push((step.clone(), Some(StepMark::Done)));
        } else {
            marks.push((step.clone(), (!required).then_some(StepMark::Pending)));
        }
    }
    let mut current = false;
    marks
        .into_iter()
        .enumerate()
        .map(|(k, (step, mark))| {
            let mark = match mark {
                Some(mark) => mark,
                None if last_done.is_some_and(|last| k < last) => StepMark::Missing,
                None if !current => {
                    current = true;
                    StepMark::Current
                }
                None => StepMark::Pending,
            };
            (step, mark)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use actrec_core::event::Verdict;

    use super::*;
    use StepMark::{Current, Done, Missing, Pending};

    fn definition() -> Definition {
        Definition::parse(
            "s.toml",
            "name = \"s\"\nfinal_step = \"close\"\nsteps = [\"base\", { repeat = 2, steps = [\"gear\"] }, { optional = [\"oil\"] }, \"close\"]\n",
            None,
        )
        .expect("sequence")
    }

    fn names(done: &[&str]) -> Vec<String> {
        done.iter().map(|s| (*s).to_owned()).collect()
    }

    fn marks(strip: &[(String, StepMark)]) -> Vec<StepMark> {
        strip.iter().map(|(_, m)| *m).collect()
    }

    #[test]
    fn an_open_part_shows_done_current_and_pending() {
        let strip = strip(&definition(), &names(&["base", "gear"]), None);
        let steps: Vec<&str> = strip.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(steps, ["base", "gear", "gear", "oil", "close"]);
        assert_eq!(marks(&strip), [Done, Done, Current, Pending, Pending]);
        assert_eq!(
            marks(&super::strip(&definition(), &[], None)),
            [Current, Pending, Pending, Pending, Pending]
        );
    }

    #[test]
    fn a_step_passed_over_is_missing_so_far() {
        let strip = strip(&definition(), &names(&["base", "gear", "close"]), None);
        assert_eq!(marks(&strip), [Done, Done, Missing, Pending, Done]);
    }

    #[test]
    fn a_closed_part_shows_what_its_verdict_misses() {
        let part = PartSummary {
            t: 9.0,
            part: 1,
            verdict: Verdict::Reject,
            missing: names(&["gear"]),
            errors: 0,
        };
        let strip = strip(&definition(), &names(&["base", "gear", "close"]), Some(&part));
        let steps: Vec<&str> = strip.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(
            steps,
            ["base", "gear", "gear", "close"],
            "the optional step never done is left out"
        );
        assert_eq!(marks(&strip), [Done, Done, Missing, Done]);
    }
}
