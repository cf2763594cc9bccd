//! What is burned into the annotated video, as text for GStreamer's
//! `textoverlay` (Pango markup): the status block (top left), the verdict
//! with the missing steps (top right) and the sequence as a strip of steps
//! (bottom). Pure; the pipeline sets the texts.

use std::time::Instant;

/// How a part stands, for the overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Pass,
    Warning,
    Reject,
    /// No video or another fault.
    Fault,
}

/// How one step of the sequence stands, in the strip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepMark {
    /// Seen and accepted.
    Done,
    /// Expected now.
    Current,
    /// Still to come in an open part.
    Pending,
    /// Never seen in a closed part.
    Missing,
    /// Seen where the sequence did not allow it.
    Error,
}

/// What is burned into the annotated video.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Annotation {
    pub source: String,
    /// Current top-1 label and probability.
    pub label: Option<(String, f64)>,
    /// Last step and whether it was accepted.
    pub step: Option<(String, bool)>,
    /// Steps the sequence accepts next.
    pub expected_next: Vec<String>,
    pub part: Option<u32>,
    /// Big text in the corner, e.g. "PASS", and its colour.
    pub verdict: Option<(String, Standing)>,
    /// The verdict's missing steps, shown under it (the end card of a
    /// rejected part's clip); empty while a part is open.
    pub missing: Vec<String>,
    /// The sequence, step by step in order, with how each stands; empty
    /// draws no strip.
    pub strip: Vec<(String, StepMark)>,
}

impl Annotation {
    /// The status block, top left.
    pub fn status_text(&self) -> String {
        let mut lines = vec![format!("source: {}", self.source)];
        if let Some((label, p)) = &self.label {
            lines.push(format!("seen: {label} ({p:.2})"));
        }
        if let Some((step, ok)) = &self.step {
            lines.push(format!("step: {step} — {}", if *ok { "ok" } else { "ERROR" }));
        }
        if !self.expected_next.is_empty() {
            lines.push(format!("next: {}", self.expected_next.join(" or ")));
        }
        if let Some(part) = self.part {
            lines.push(format!("part {part}"));
        }
        lines.join("\n")
    }

    /// The verdict, top right, with the missing steps on a smaller line
    /// under it; empty without a verdict.
    pub fn verdict_markup(&self) -> String {
        let Some((text, _)) = &self.verdict else {
            return String::new();
        };
        let mut markup = escape(text);
        if !self.missing.is_empty() {
            let lines = missing_lines(&self.missing);
            markup.push_str(&format!(
                "\n<span size=\"smaller\">{}</span>",
                escape(&lines.join("\n"))
            ));
        }
        markup
    }

    /// The strip of steps, bottom centre; empty without a sequence.
    pub fn strip_markup(&self) -> String {
        strip_markup(&self.strip)
    }
}

/// Characters on a line of the missing steps: narrow enough to stay
/// clear of the status block on the other side of the picture.
const MISSING_LINE: usize = 30;
/// Lines of missing steps at most; the rest are counted.
const MISSING_LINES: usize = 4;

/// "missing: a, b" in short lines, names never split, at most
/// [`MISSING_LINES`] of them (then "+N more").
pub fn missing_lines(missing: &[String]) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::from("missing:");
    for (i, name) in missing.iter().enumerate() {
        let last = i + 1 == missing.len();
        let word = if last { name.clone() } else { format!("{name},") };
        if line.chars().count() + 1 + word.chars().count() > MISSING_LINE && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            if lines.len() == MISSING_LINES {
                let more = missing.len() - i;
                let full = lines.last_mut().expect("a line");
                full.push_str(&format!(" +{more} more"));
                return lines;
            }
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    lines.push(line);
    lines
}

/// ARGB colour of a standing, as textoverlay takes it.
pub fn standing_colour(standing: Standing) -> u32 {
    match standing {
        Standing::Pass => 0xFF30D050,
        Standing::Warning => 0xFFFFB000,
        Standing::Reject | Standing::Fault => 0xFFFF3030,
    }
}

/// Text as Pango markup takes it: textoverlay parses its `text` as markup,
/// so a step named `a<b` must not break the overlay.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Up to this many cells the strip shows every step; beyond, runs of done
/// or pending steps fold into one cell, so that a long sequence (22 steps
/// with its repeats) stays within a line or two at the bottom.
pub const STRIP_CELLS: usize = 12;
/// The shortest run of done or pending steps that folds.
const FOLD_RUN: usize = 3;

/// One cell of the strip: a step, or a folded run of steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StripCell {
    Step(String, StepMark),
    /// `count` steps in a row with the same mark (`Done` or `Pending`).
    Run(usize, StepMark),
}

/// The cells of the strip in order: every step, or with runs folded when
/// there are more than [`STRIP_CELLS`] steps. Current, missing and wrong
/// steps never fold: they are what the strip is for.
pub fn strip_cells(steps: &[(String, StepMark)]) -> Vec<StripCell> {
    let mut cells = Vec::new();
    let fold = steps.len() > STRIP_CELLS;
    let mut i = 0;
    while i < steps.len() {
        let mark = steps[i].1;
        let run = steps[i..].iter().take_while(|(_, m)| *m == mark).count();
        if fold && run >= FOLD_RUN && matches!(mark, StepMark::Done | StepMark::Pending) {
            cells.push(StripCell::Run(run, mark));
            i += run;
        } else {
            cells.push(StripCell::Step(steps[i].0.clone(), mark));
            i += 1;
        }
    }
    cells
}

/// Glyph, background and text colour of a mark.
fn mark_style(mark: StepMark) -> (&'static str, &'static str, &'static str) {
    match mark {
        StepMark::Done => ("✓", "#1E8E3E", "#FFFFFF"),
        StepMark::Current => ("▶", "#1F5FBF", "#FFFFFF"),
        StepMark::Pending => ("·", "#3A4554", "#D0D6DE"),
        StepMark::Missing => ("✗", "#E0281B", "#FFFFFF"),
        StepMark::Error => ("!", "#F5A300", "#111111"),
    }
}

/// The strip as Pango markup: one coloured cell per step (or folded run),
/// a glyph saying how it stands (colour alone is not enough for everyone).
/// Inside a cell the spaces do not break, so textoverlay wraps a long strip
/// only between cells.
pub fn strip_markup(steps: &[(String, StepMark)]) -> String {
    const NBSP: char = '\u{a0}';
    strip_cells(steps)
        .iter()
        .map(|cell| {
            let (mark, text) = match cell {
                StripCell::Step(name, mark) => (*mark, escape(name).replace(' ', "\u{a0}")),
                StripCell::Run(count, StepMark::Pending) => (StepMark::Pending, format!("{count}{NBSP}to{NBSP}go")),
                StripCell::Run(count, mark) => (*mark, format!("{count}{NBSP}steps")),
            };
            let (glyph, background, foreground) = mark_style(mark);
            format!(
                "<span background=\"{background}\" foreground=\"{foreground}\">{NBSP}{glyph}{NBSP}{text}{NBSP}</span>"
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the overlays show: the latest annotation, except while a rejected
/// part's end card is held (the post-roll of its evidence clip), so that the
/// next part starting at once cannot take the verdict off before the clip
/// has it.
#[derive(Debug, Default)]
pub(crate) struct Shown {
    latest: Annotation,
    card: Option<EndCard>,
    /// What the overlays were last set to.
    on_screen: Option<Annotation>,
}

#[derive(Debug)]
struct EndCard {
    part: u32,
    until: Instant,
    /// The part's verdict as the engine annotated it; none yet just after
    /// `save_clip` (the engine annotates right after it).
    annotation: Option<Annotation>,
}

impl EndCard {
    /// An annotation of this part with its verdict: the part's last word.
    fn takes(&self, annotation: &Annotation) -> bool {
        annotation.verdict.is_some() && annotation.part.is_none_or(|p| p == self.part)
    }
}

impl Shown {
    /// A new annotation from the engine; returns what to show if that changed.
    pub(crate) fn annotate(&mut self, annotation: &Annotation, now: Instant) -> Option<Annotation> {
        self.latest = annotation.clone();
        if let Some(card) = &mut self.card
            && card.takes(annotation)
        {
            card.annotation = Some(annotation.clone());
        }
        self.refresh(now)
    }

    /// Holds `part`'s verdict on screen until `until`: the next annotation
    /// of that part with a verdict (the one shown now may still be the
    /// previous part's) becomes the end card.
    pub(crate) fn hold(&mut self, part: u32, until: Instant, now: Instant) -> Option<Annotation> {
        self.card = Some(EndCard {
            part,
            until,
            annotation: None,
        });
        self.refresh(now)
    }

    /// Whether an end card is held at `now`.
    pub(crate) fn holding(&self, now: Instant) -> bool {
        self.card.as_ref().is_some_and(|c| now < c.until)
    }

    /// For every frame: lets an expired end card go, and only then has
    /// anything to compare (frames outnumber annotations).
    pub(crate) fn tick(&mut self, now: Instant) -> Option<Annotation> {
        self.card.as_ref()?;
        self.refresh(now)
    }

    /// Lets an expired end card go; returns what to show if that changed.
    fn refresh(&mut self, now: Instant) -> Option<Annotation> {
        if self.card.as_ref().is_some_and(|c| now >= c.until) {
            self.card = None;
        }
        let wanted = self
            .card
            .as_ref()
            .and_then(|c| c.annotation.as_ref())
            .unwrap_or(&self.latest);
        if self.on_screen.as_ref() == Some(wanted) {
            return None;
        }
        self.on_screen = Some(wanted.clone());
        Some(wanted.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn steps(marks: &[(&str, StepMark)]) -> Vec<(String, StepMark)> {
        marks.iter().map(|(n, m)| ((*n).to_owned(), *m)).collect()
    }

    #[test]
    fn status_text_lists_what_the_station_sees() {
        let annotation = Annotation {
            source: "line_camera".into(),
            label: Some(("spacer".into(), 0.912)),
            step: Some(("spacer".into(), false)),
            expected_next: vec!["install_lid".into()],
            part: Some(7),
            verdict: Some(("REJECT".into(), Standing::Reject)),
            ..Annotation::default()
        };
        assert_eq!(
            annotation.status_text(),
            "source: line_camera\nseen: spacer (0.91)\nstep: spacer — ERROR\nnext: install_lid\npart 7"
        );
        assert_eq!(standing_colour(Standing::Reject), 0xFFFF3030);
    }

    #[test]
    fn the_verdict_carries_the_missing_steps() {
        let mut annotation = Annotation {
            verdict: Some(("REJECT #2".into(), Standing::Reject)),
            ..Annotation::default()
        };
        assert_eq!(annotation.verdict_markup(), "REJECT #2");
        annotation.missing = vec!["spacer_washer".into(), "lid <top>".into()];
        assert_eq!(
            annotation.verdict_markup(),
            "REJECT #2\n<span size=\"smaller\">missing: spacer_washer,\nlid &lt;top&gt;</span>"
        );
        assert_eq!(Annotation::default().verdict_markup(), "", "no verdict, no text");
    }

    #[test]
    fn missing_steps_wrap_into_a_few_short_lines() {
        let names = |n: &[&str]| n.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(missing_lines(&names(&["nut"])), ["missing: nut"]);
        assert_eq!(
            missing_lines(&names(&["spacer", "greased_disk", "separator", "spacer_washer"])),
            ["missing: spacer, greased_disk,", "separator, spacer_washer"]
        );
        // A name longer than a line keeps a line of its own, unsplit.
        assert_eq!(
            missing_lines(&names(&["a_very_long_step_name_beyond_a_line", "b"])),
            ["missing:", "a_very_long_step_name_beyond_a_line,", "b"]
        );
        // Ten missing: four lines, the rest counted.
        let many: Vec<String> = (1..=10).map(|i| format!("step_number_{i}")).collect();
        let lines = missing_lines(&many);
        assert_eq!(lines.len(), 4);
        assert!(lines.iter().all(|l| l.chars().count() <= 40), "{lines:?}");
        assert!(lines[3].ends_with("more"), "{lines:?}");
        let shown = lines.join(" ").matches("step_number_").count();
        assert!(lines[3].ends_with(&format!("+{} more", 10 - shown)), "{lines:?}");
    }

    #[test]
    fn the_strip_marks_each_step_in_order() {
        let strip = steps(&[
            ("base", StepMark::Done),
            ("nut", StepMark::Error),
            ("spacer washer", StepMark::Current),
            ("lid", StepMark::Pending),
        ]);
        let markup = strip_markup(&strip);
        assert_eq!(
            markup,
            "<span background=\"#1E8E3E\" foreground=\"#FFFFFF\">\u{a0}✓\u{a0}base\u{a0}</span> \
             <span background=\"#F5A300\" foreground=\"#111111\">\u{a0}!\u{a0}nut\u{a0}</span> \
             <span background=\"#1F5FBF\" foreground=\"#FFFFFF\">\u{a0}▶\u{a0}spacer\u{a0}washer\u{a0}</span> \
             <span background=\"#3A4554\" foreground=\"#D0D6DE\">\u{a0}·\u{a0}lid\u{a0}</span>"
        );
        // Wrapped only between cells: the plain spaces are the three separators.
        assert_eq!(markup.matches("</span> <span").count(), 3);
        assert_eq!(strip_markup(&[]), "", "no sequence, no strip");
        assert!(strip_markup(&steps(&[("a&b", StepMark::Missing)])).contains("\u{a0}✗\u{a0}a&amp;b\u{a0}"));
    }

    #[test]
    fn a_long_strip_folds_runs_but_never_what_went_wrong() {
        // The gear housing: 22 steps; a reject with two missing at the end.
        let mut strip = Vec::new();
        strip.extend((0..10).map(|i| (format!("s{i}"), StepMark::Done)));
        strip.push(("spacer".into(), StepMark::Error));
        strip.extend((11..19).map(|i| (format!("s{i}"), StepMark::Done)));
        strip.push(("install_lid".into(), StepMark::Missing));
        strip.push(("press_down".into(), StepMark::Missing));
        strip.push(("complete_part".into(), StepMark::Done));
        assert_eq!(strip.len(), 22);
        assert_eq!(
            strip_cells(&strip),
            [
                StripCell::Run(10, StepMark::Done),
                StripCell::Step("spacer".into(), StepMark::Error),
                StripCell::Run(8, StepMark::Done),
                StripCell::Step("install_lid".into(), StepMark::Missing),
                StripCell::Step("press_down".into(), StepMark::Missing),
                StripCell::Step("complete_part".into(), StepMark::Done),
            ]
        );
        let markup = strip_markup(&strip);
        assert!(markup.starts_with("<span background=\"#1E8E3E\" foreground=\"#FFFFFF\">\u{a0}✓\u{a0}10\u{a0}steps"));
        assert!(markup.contains("✗\u{a0}install_lid"));

        // An open part: what is to come folds too; the current step stays.
        let mut open = vec![("s0".to_owned(), StepMark::Done), ("s1".into(), StepMark::Current)];
        open.extend((2..15).map(|i| (format!("s{i}"), StepMark::Pending)));
        assert_eq!(
            strip_cells(&open),
            [
                StripCell::Step("s0".into(), StepMark::Done),
                StripCell::Step("s1".into(), StepMark::Current),
                StripCell::Run(13, StepMark::Pending),
            ]
        );
        assert!(strip_markup(&open).ends_with("·\u{a0}13\u{a0}to\u{a0}go\u{a0}</span>"));

        // Short sequences show every step, runs or not.
        let short = steps(&[("a", StepMark::Done), ("b", StepMark::Done), ("c", StepMark::Done)]);
        assert_eq!(strip_cells(&short).len(), 3);
    }

    #[test]
    fn the_end_card_stays_through_the_post_roll() {
        let t0 = Instant::now();
        let part = |n: u32, verdict: Option<&str>| Annotation {
            part: Some(n),
            verdict: verdict.map(|v| (v.to_owned(), Standing::Reject)),
            ..Annotation::default()
        };
        let mut shown = Shown::default();
        // Part 2 open, still showing part 1's verdict.
        assert_eq!(
            shown.annotate(&part(2, Some("PASS #1")), t0),
            Some(part(2, Some("PASS #1")))
        );
        assert_eq!(
            shown.annotate(&part(2, Some("PASS #1")), t0),
            None,
            "unchanged: nothing to set"
        );
        // The engine saves the clip, then annotates the verdict.
        let until = t0 + Duration::from_secs(2);
        shown.hold(2, until, t0);
        let reject = Annotation {
            missing: vec!["nut".into()],
            ..part(2, Some("REJECT #2"))
        };
        assert_eq!(shown.annotate(&reject, t0), Some(reject.clone()));
        assert!(shown.holding(t0));
        // Part 3 starts within the post-roll: the card stays.
        let next = part(3, Some("REJECT #2"));
        assert_eq!(shown.annotate(&next, t0 + Duration::from_millis(500)), None);
        assert_eq!(shown.tick(t0 + Duration::from_millis(1999)), None);
        // Then the latest comes back.
        assert_eq!(shown.tick(until), Some(next));
        assert!(!shown.holding(until));
        assert_eq!(shown.tick(until), None, "nothing held: nothing to do");
    }
}
