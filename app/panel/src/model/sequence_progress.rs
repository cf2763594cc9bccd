//! The open part's place in its sequence: the next steps, steps done of all,
//! the repeat round.

use actrec_ipc::Progress;

use super::display_label;

/// The sequence progress as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressView {
    /// `greased disk or spacer`; empty when nothing is expected.
    pub next: String,
    pub done: u32,
    pub total: u32,
    /// 0 to 1.
    pub fraction: f32,
    /// `3 of 7 steps`
    pub steps: String,
    /// `repeat 2/4`, or empty outside a repeated group.
    pub repeat: String,
}

pub fn progress(expected_next: &[String], progress: Option<&Progress>) -> ProgressView {
    let next = expected_next
        .iter()
        .map(|s| display_label(s))
        .collect::<Vec<_>>()
        .join(" or ");
    let (done, total) = progress.map_or((0, 0), |p| (p.done, p.total));
    let fraction = if total > 0 {
        (f64::from(done.min(total)) / f64::from(total)) as f32
    } else {
        0.0
    };
    let repeat = match progress.and_then(|p| p.repeat) {
        Some((round, rounds)) => format!("repeat {round}/{rounds}"),
        None => String::new(),
    };
    let steps = if progress.is_some() {
        format!("{done} of {total} steps")
    } else {
        String::new()
    };
    ProgressView {
        next,
        done,
        total,
        fraction,
        steps,
        repeat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_names_the_next_steps_and_the_repeat() {
        let view = progress(
            &["greased_disk".into(), "spacer".into()],
            Some(&Progress {
                done: 3,
                total: 7,
                repeat: Some((2, 4)),
            }),
        );
        assert_eq!(view.next, "greased disk or spacer");
        assert_eq!(view.steps, "3 of 7 steps");
        assert_eq!(view.repeat, "repeat 2/4");
        assert!((view.fraction - 3.0 / 7.0).abs() < 1e-6);
        let view = progress(&[], None);
        assert_eq!(
            (view.next.as_str(), view.steps.as_str(), view.repeat.as_str()),
            ("", "", "")
        );
        assert_eq!(view.fraction, 0.0);
        let view = progress(
            &[],
            Some(&Progress {
                done: 9,
                total: 7,
                repeat: None,
            }),
        );
        assert_eq!(view.fraction, 1.0, "clamped");
    }
}
