//! What is burned into the annotated video: the status block (top left)
//! and the verdict (top right), as text for GStreamer's `textoverlay`.
//! Pure; the pipeline sets the texts.

/// How a part stands, for the overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Pass,
    Warning,
    Reject,
    /// No video or another fault.
    Fault,
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
}

/// ARGB colour of a standing, as textoverlay takes it.
pub fn standing_colour(standing: Standing) -> u32 {
    match standing {
        Standing::Pass => 0xFF30D050,
        Standing::Warning => 0xFFFFB000,
        Standing::Reject | Standing::Fault => 0xFFFF3030,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_text_lists_what_the_station_sees() {
        let annotation = Annotation {
            source: "line_camera".into(),
            label: Some(("spacer".into(), 0.912)),
            step: Some(("spacer".into(), false)),
            expected_next: vec!["install_lid".into()],
            part: Some(7),
            verdict: Some(("REJECT".into(), Standing::Reject)),
        };
        assert_eq!(
            annotation.status_text(),
            "source: line_camera\nseen: spacer (0.91)\nstep: spacer — ERROR\nnext: install_lid\npart 7"
        );
        assert_eq!(standing_colour(Standing::Reject), 0xFFFF3030);
    }
}
