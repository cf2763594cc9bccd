//! The window-file format: one JSON object per line, as `actrec check` reads it.
//!
//! ```text
//! {"t": 12.0, "label": "spacer", "p": 0.91}
//! {"t": 13.0, "label": "spacer", "p": 0.88, "scores": {"spacer": 0.88, "idle": 0.12}}
//! {"t": 14.0, "scores": {"spacer": 0.3, "separator": 0.7}}
//! ```
//!
//! `label` and `p` are the top-1 prediction. When they are absent, they are
//! taken from `scores`. Blank lines are skipped. Times must not go backwards.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::decode::Window;
use crate::diag::Problem;
use crate::label::label_problem;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    t: f64,
    label: Option<String>,
    p: Option<f64>,
    scores: Option<BTreeMap<String, f64>>,
}

/// Reads window lines one at a time, remembering what it needs to check order.
#[derive(Debug)]
pub struct WindowReader {
    origin: String,
    last_t: Option<f64>,
}

impl WindowReader {
    pub fn new(origin: &str) -> Self {
        Self {
            origin: origin.to_owned(),
            last_t: None,
        }
    }

    /// Parses line `line_no` (1-based). Blank lines give `Ok(None)`.
    pub fn line(&mut self, line_no: usize, text: &str) -> Result<Option<Window>, Problem> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        let problem = |column: usize, field: &str, message: String| Problem {
            origin: self.origin.clone(),
            line: line_no,
            column,
            field: field.to_owned(),
            message,
        };
        // serde_json appends " at line L column C"; the location is given our own way.
        let message_of = |err: &serde_json::Error| {
            let message = err.to_string();
            message.split(" at line ").next().unwrap_or(&message).to_owned()
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let raw: RawWindow = serde_path_to_error::deserialize(&mut de).map_err(|err| {
            let path = err.path().to_string();
            let field = if path == "." { "" } else { path.as_str() };
            problem(err.inner().column(), field, message_of(err.inner()))
        })?;
        de.end().map_err(|err| problem(err.column(), "", message_of(&err)))?;

        if !raw.t.is_finite() || raw.t < 0.0 {
            return Err(problem(
                0,
                "t",
                format!("t = {} must be a time in seconds, 0 or more", raw.t),
            ));
        }
        if let Some(last) = self.last_t
            && raw.t < last
        {
            return Err(problem(
                0,
                "t",
                format!("t = {} goes backwards (previous window was at {last})", raw.t),
            ));
        }
        if let Some(scores) = &raw.scores {
            for (label, p) in scores {
                if !(0.0..=1.0).contains(p) {
                    return Err(problem(
                        0,
                        &format!("scores.{label}"),
                        format!("probability {p} is not between 0 and 1"),
                    ));
                }
            }
        }
        let top = raw.scores.as_ref().and_then(|scores| {
            scores
                .iter()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(label, p)| (label.clone(), *p))
        });
        let label = match (raw.label, &top) {
            (Some(label), _) => label,
            (None, Some((label, _))) => label.clone(),
            (None, None) => {
                return Err(problem(
                    0,
                    "label",
                    "missing field `label` (and no `scores` to take it from)".into(),
                ));
            }
        };
        let p = match (raw.p, raw.scores.as_ref()) {
            (Some(p), _) => p,
            (None, Some(scores)) => match scores.get(&label) {
                Some(p) => *p,
                None => {
                    return Err(problem(
                        0,
                        "p",
                        format!("missing field `p`, and `scores` has no `{label}`"),
                    ));
                }
            },
            (None, None) => return Err(problem(0, "p", "missing field `p`".into())),
        };
        if let Some(message) = label_problem(&label) {
            return Err(problem(0, "label", message));
        }
        if !(0.0..=1.0).contains(&p) {
            return Err(problem(0, "p", format!("p = {p} is not a probability between 0 and 1")));
        }
        self.last_t = Some(raw.t);
        Ok(Some(Window { t: raw.t, label, p }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(lines: &[&str]) -> Result<Vec<Window>, String> {
        let mut reader = WindowReader::new("w.jsonl");
        let mut out = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            match reader.line(i + 1, line) {
                Ok(Some(w)) => out.push(w),
                Ok(None) => {}
                Err(problem) => return Err(problem.to_string()),
            }
        }
        Ok(out)
    }

    #[test]
    fn reads_plain_and_scored_windows() {
        let windows = read(&[
            r#"{"t": 12.0, "label": "spacer", "p": 0.91}"#,
            "",
            r#"{"t": 13, "scores": {"spacer": 0.3, "separator": 0.7}}"#,
        ])
        .expect("valid");
        assert_eq!(
            windows[0],
            Window {
                t: 12.0,
                label: "spacer".into(),
                p: 0.91
            }
        );
        assert_eq!(
            windows[1],
            Window {
                t: 13.0,
                label: "separator".into(),
                p: 0.7
            }
        );
    }

    #[test]
    fn malformed_lines_name_line_and_field() {
        assert_eq!(
            read(&[
                r#"{"t": 1, "label": "a", "p": 0.9}"#,
                r#"{"t": 2, "lable": "a", "p": 0.9}"#
            ])
            .expect_err("rejected"),
            "w.jsonl:2:16: lable: unknown field `lable`, expected one of `t`, `label`, `p`, `scores`"
        );
        assert_eq!(
            read(&[r#"{"t": 1, "label": "a"}"#]).expect_err("rejected"),
            "w.jsonl:1: p: missing field `p`"
        );
        assert_eq!(
            read(&[r#"{"t": 1, "label": "a", "p": 1.5}"#]).expect_err("rejected"),
            "w.jsonl:1: p: p = 1.5 is not a probability between 0 and 1"
        );
        assert_eq!(
            read(&[
                r#"{"t": 2, "label": "a", "p": 0.9}"#,
                r#"{"t": 1, "label": "a", "p": 0.9}"#
            ])
            .expect_err("rejected"),
            "w.jsonl:2: t: t = 1 goes backwards (previous window was at 2)"
        );
        assert_eq!(
            read(&[r#"{"t": "x", "label": "a", "p": 0.9}"#]).expect_err("rejected"),
            "w.jsonl:1:9: t: invalid type: string \"x\", expected f64"
        );
        assert!(
            read(&[r#"{"t": 1, "label": "a", "p": 0.9} trailing"#])
                .expect_err("rejected")
                .starts_with("w.jsonl:1:")
        );
        assert!(
            read(&["not json"])
                .expect_err("rejected")
                .starts_with("w.jsonl:1:2: expected")
        );
    }
}
