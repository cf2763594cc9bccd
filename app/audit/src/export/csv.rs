//! The spreadsheet tables, `parts.csv`, `steps.csv` and `faults.csv`: UTF-8
//! with a byte-order mark, comma-separated, CRLF, RFC 4180 quoting, formula
//! cells guarded (see the [module docs](super)).

use std::path::Path;

use serde_json::Value;

use super::clips::Clips;
use super::writer::Output;
use super::{ExportError, ManifestFile};
use crate::time::Timestamp;

/// The three tables, filled row by row from the chain.
pub(super) struct Tables {
    parts: Csv,
    steps: Csv,
    faults: Csv,
    part_rows: u64,
}

/// One chain row as the tables read it.
pub(super) struct TableRow<'a> {
    pub id: i64,
    pub t: Timestamp,
    pub kind: &'a str,
    pub part: Option<i64>,
    /// The body, parsed (`Null` when it is not JSON).
    pub body: &'a Value,
    pub hash: &'a str,
}

impl Tables {
    pub(super) fn create(dir: &Path) -> Result<Tables, ExportError> {
        let parts = Csv::create(
            dir,
            "parts.csv",
            &[
                "row_id",
                "time_utc",
                "part",
                "verdict",
                "missing_steps",
                "errors",
                "clip",
                "clip_recorded",
                "model",
                "model_version",
                "model_sha256",
                "config",
                "config_sha256",
                "sequence",
                "sequence_version",
                "sequence_sha256",
                "stream_t",
                "row_hash",
            ],
        )?;
        let steps = Csv::create(
            dir,
            "steps.csv",
            &[
                "row_id", "time_utc", "part", "step", "status", "p", "expected", "stream_t",
            ],
        )?;
        let faults = Csv::create(dir, "faults.csv", &["row_id", "time_utc", "fault", "state", "detail"])?;
        Ok(Tables {
            parts,
            steps,
            faults,
            part_rows: 0,
        })
    }

    /// Adds a row to its table, if it has one; a part's evidence clip is
    /// noted in `clips` (relative paths are under `clips_dir`).
    pub(super) fn row(&mut self, row: &TableRow<'_>, clips: &mut Clips, clips_dir: &Path) -> Result<(), ExportError> {
        let b = row.body;
        let time = Cell::Plain(row.t.spreadsheet());
        let part_cell = Cell::Plain(row.part.map(|p| p.to_string()).unwrap_or_default());
        match row.kind {
            "part" => {
                self.part_rows += 1;
                let recorded = b["clip"].as_str().unwrap_or_default().to_owned();
                let dest = clips.reference(&recorded, row.id, clips_dir);
                let jw = &b["judged_with"];
                self.parts.row([
                    Cell::Plain(row.id.to_string()),
                    time,
                    part_cell,
                    text(&b["verdict"]),
                    text(&b["missing"]),
                    number(&b["errors"]),
                    Cell::Text(dest),
                    Cell::Text(recorded),
                    text(&jw["model"]["name"]),
                    text(&jw["model"]["version"]),
                    text(&jw["model"]["sha256"]),
                    text(&jw["config"]["name"]),
                    text(&jw["config"]["sha256"]),
                    text(&jw["sequence"]["name"]),
                    text(&jw["sequence"]["version"]),
                    text(&jw["sequence"]["sha256"]),
                    number(&b["stream_t"]),
                    Cell::Plain(row.hash.to_owned()),
                ])
            }
            "step" => self.steps.row([
                Cell::Plain(row.id.to_string()),
                time,
                part_cell,
                text(&b["step"]),
                text(&b["status"]),
                number(&b["p"]),
                text(&b["expected"]),
                number(&b["stream_t"]),
            ]),
            "fault" => self.faults.row([
                Cell::Plain(row.id.to_string()),
                time,
                text(&b["fault"]),
                text(&b["state"]),
                text(&b["detail"]),
            ]),
            _ => Ok(()),
        }
    }

    /// Part rows written so far.
    pub(super) fn part_rows(&self) -> u64 {
        self.part_rows
    }

    /// Flushes and fsyncs the three files: parts, steps, faults.
    pub(super) fn finish(self) -> Result<[ManifestFile; 3], ExportError> {
        Ok([
            self.parts.out.finish()?,
            self.steps.out.finish()?,
            self.faults.out.finish()?,
        ])
    }
}

/// One CSV table.
struct Csv {
    out: Output,
}

impl Csv {
    fn create(dir: &Path, name: &str, header: &[&str]) -> Result<Csv, ExportError> {
        let mut out = Output::create(dir, name)?;
        out.write("\u{feff}".as_bytes())?;
        let mut csv = Csv { out };
        csv.row(header.iter().map(|h| Cell::Text((*h).to_owned())))?;
        Ok(csv)
    }

    fn row(&mut self, cells: impl IntoIterator<Item = Cell>) -> Result<(), ExportError> {
        let mut line = String::new();
        for (i, cell) in cells.into_iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            line.push_str(&cell.render());
        }
        line.push_str("\r\n");
        self.out.write(line.as_bytes())
    }
}

enum Cell {
    /// Written as it is (numbers, times we format ourselves).
    Plain(String),
    /// Free text: guarded against formulas, quoted when needed.
    Text(String),
}

impl Cell {
    fn render(&self) -> String {
        match self {
            Cell::Plain(s) => quote(s),
            Cell::Text(s) => {
                if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                    quote(&format!("'{s}"))
                } else {
                    quote(s)
                }
            }
        }
    }
}

/// RFC 4180: a field holding a comma, quote or line break is enclosed in
/// quotes, with each quote doubled. Leading or trailing spaces too, so no
/// reader trims them.
fn quote(field: &str) -> String {
    if field.contains([',', '"', '\r', '\n']) || field.starts_with(' ') || field.ends_with(' ') {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

fn text(v: &Value) -> Cell {
    Cell::Text(match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    })
}

fn number(v: &Value) -> Cell {
    Cell::Plain(match v {
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting_and_formula_guard() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("two\r\nlines"), "\"two\r\nlines\"");
        assert_eq!(quote(" padded"), "\" padded\"");
        assert_eq!(
            Cell::Text("=HYPERLINK(\"x\")".into()).render(),
            "\"'=HYPERLINK(\"\"x\"\")\""
        );
        assert_eq!(Cell::Text("-5 dB".into()).render(), "'-5 dB");
        assert_eq!(Cell::Plain("-0.5".into()).render(), "-0.5");
        assert_eq!(Cell::Text("Schraube fügen".into()).render(), "Schraube fügen");
    }
}
