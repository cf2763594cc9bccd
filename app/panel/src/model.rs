//! The panel's own state, apart from Slint: the engine's events parsed, the
//! step log, the cycle-time chart, the export's progress and the texts the
//! screen shows. Pure (no window, no socket), so it is tested on its own.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::path::PathBuf;

use actrec_ipc::{ExportState, Progress, Standing, Status};
use serde::Deserialize;

/// Rows the step log keeps; older ones scroll away.
pub const LOG_CAPACITY: usize = 200;
/// Closed parts the cycle-time chart shows.
pub const CHART_PARTS: usize = 10;
/// Colours the chart cycles through, one per step name (see `Theme.step-color`).
pub const PALETTE: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Ok,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Reject,
    Incomplete,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StepEvent {
    /// When the step began, in seconds of station time.
    pub t: f64,
    pub part: u32,
    pub step: String,
    pub p: f64,
    pub status: StepStatus,
    /// On an error: the steps that would have been accepted.
    #[serde(default)]
    pub expected: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PartEvent {
    pub t: f64,
    pub part: u32,
    pub verdict: Verdict,
    #[serde(default)]
    pub missing: Vec<String>,
    #[serde(default)]
    pub errors: u32,
}

/// One event of the engine's stream, as far as the panel uses it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Step(StepEvent),
    Part(PartEvent),
    Warning {
        t: f64,
        label: String,
        p: f64,
    },
    Fault {
        fault: String,
        active: bool,
    },
    Acknowledged {},
    ExportStarted {
        to: PathBuf,
    },
    ExportProgress {
        phase: String,
        done: u64,
        total: u64,
    },
    ExportDone {
        folder: PathBuf,
        rows: u64,
        #[serde(default)]
        safe_to_remove: bool,
    },
    ExportFailed {
        error: String,
    },
    /// Media events and whatever later engines add.
    #[serde(other)]
    Other,
}

#[derive(Debug, thiserror::Error)]
#[error("event of kind {kind:?}: {source}")]
pub struct EventError {
    pub kind: String,
    #[source]
    pub source: serde_json::Error,
}

impl Event {
    pub fn parse(value: &serde_json::Value) -> Result<Self, EventError> {
        Self::deserialize(value).map_err(|source| EventError {
            kind: value["kind"].as_str().unwrap_or("").to_owned(),
            source,
        })
    }
}

/// A step label as the operator reads it: `greased_disk` → `greased disk`.
pub fn display_label(label: &str) -> String {
    label.replace('_', " ")
}

/// Station time as a clock: `12:05.3` under an hour, `1:02:05` beyond.
pub fn format_clock(t: f64) -> String {
    if !t.is_finite() || t < 0.0 {
        return "–".to_owned();
    }
    if t < 3599.95 {
        // Rounded once, in tenths, so that 59.97 s reads 1:00.0 and never 0:60.0.
        let tenths = (t * 10.0).round() as u64;
        format!("{}:{:02}.{}", tenths / 600, tenths % 600 / 10, tenths % 10)
    } else {
        let whole = t.floor() as u64;
        format!("{}:{:02}:{:02}", whole / 3600, whole / 60 % 60, whole % 60)
    }
}

/// `3 d 4 h`, `2 h 5 min`, `4 min 12 s`, `12 s`.
pub fn format_uptime(seconds: f64) -> String {
    let s = if seconds.is_finite() && seconds > 0.0 {
        seconds as u64
    } else {
        0
    };
    let (days, hours, minutes, secs) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if days > 0 {
        format!("{days} d {hours} h")
    } else if hours > 0 {
        format!("{hours} h {minutes} min")
    } else if minutes > 0 {
        format!("{minutes} min {secs} s")
    } else {
        format!("{secs} s")
    }
}

/// Labels in order, repeats folded: `[a, b, b]` → `a, b ×2`.
pub fn fold_labels(labels: &[String]) -> String {
    let mut counted: Vec<(&str, usize)> = Vec::new();
    for label in labels {
        match counted.iter_mut().find(|(seen, _)| seen == label) {
            Some((_, n)) => *n += 1,
            None => counted.push((label, 1)),
        }
    }
    let mut out = String::new();
    for (i, (label, n)) in counted.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&display_label(label));
        if *n > 1 {
            let _ = write!(out, " ×{n}");
        }
    }
    out
}

/// How a row or a bar is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Normal,
    Ok,
    Error,
    Pass,
    Reject,
    Warning,
}

impl Verdict {
    pub fn tone(self) -> Tone {
        match self {
            Verdict::Pass => Tone::Pass,
            Verdict::Reject => Tone::Reject,
            Verdict::Incomplete => Tone::Warning,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Reject => "REJECT",
            Verdict::Incomplete => "INCOMPLETE",
        }
    }
}

/// What a closed part lacked, in one line: `Part 4 REJECT: missing spacer washer ×2; 1 wrong step`.
pub fn part_summary(part: &PartEvent) -> String {
    let mut out = format!("Part {} {}", part.part, part.verdict.word());
    let mut reasons = Vec::new();
    if !part.missing.is_empty() {
        reasons.push(format!("missing {}", fold_labels(&part.missing)));
    }
    match part.errors {
        0 => {}
        1 => reasons.push("1 wrong step".to_owned()),
        n => reasons.push(format!("{n} wrong steps")),
    }
    if !reasons.is_empty() {
        out.push_str(": ");
        out.push_str(&reasons.join("; "));
    }
    out
}

/// One row of the step log, as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRow {
    pub time: String,
    pub part: String,
    pub step: String,
    pub status: String,
    pub confidence: String,
    pub tone: Tone,
}

impl LogRow {
    fn step(event: &StepEvent) -> Self {
        let (status, tone) = match event.status {
            StepStatus::Ok => ("ok".to_owned(), Tone::Ok),
            StepStatus::Error if event.expected.is_empty() => ("WRONG".to_owned(), Tone::Error),
            StepStatus::Error => (format!("WRONG, expected {}", fold_labels(&event.expected)), Tone::Error),
        };
        Self {
            time: format_clock(event.t),
            part: event.part.to_string(),
            step: display_label(&event.step),
            status,
            confidence: format!("{:.0} %", (event.p * 100.0).clamp(0.0, 100.0)),
            tone,
        }
    }

    fn part(event: &PartEvent) -> Self {
        let mut status = event.verdict.word().to_owned();
        if !event.missing.is_empty() {
            let _ = write!(status, ": missing {}", fold_labels(&event.missing));
        }
        Self {
            time: format_clock(event.t),
            part: event.part.to_string(),
            step: "closed".to_owned(),
            status,
            confidence: String::new(),
            tone: event.verdict.tone(),
        }
    }
}

/// The step log: newest first, at most `capacity` rows, and the last closed
/// part's summary, shown apart from the rows until the next part closes.
#[derive(Debug, Clone)]
pub struct StepLog {
    rows: VecDeque<LogRow>,
    capacity: usize,
    last_part: Option<PartEvent>,
}

impl StepLog {
    pub fn new(capacity: usize) -> Self {
        Self {
            rows: VecDeque::new(),
            capacity: capacity.max(1),
            last_part: None,
        }
    }

    /// Takes an event; true when the log changed.
    pub fn apply(&mut self, event: &Event) -> bool {
        let row = match event {
            Event::Step(step) => LogRow::step(step),
            Event::Part(part) => {
                self.last_part = Some(part.clone());
                LogRow::part(part)
            }
            _ => return false,
        };
        self.rows.push_front(row);
        self.rows.truncate(self.capacity);
        true
    }

    /// Newest first.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = &LogRow> {
        self.rows.iter()
    }

    pub fn last_part(&self) -> Option<&PartEvent> {
        self.last_part.as_ref()
    }

    pub fn clear(&mut self) {
        self.rows.clear();
        self.last_part = None;
    }
}

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
    pub fn apply(&mut self, event: &Event) -> bool {
        match event {
            Event::Step(step) => {
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
            Event::Part(part) => {
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

    fn bar(&self, part: &PartEvent, steps: &[(String, f64, bool)]) -> Option<Bar> {
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

/// What the big indicator shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indicator {
    Inspecting,
    Pass,
    Warning,
    Reject,
    NoVideo,
    Fault,
    /// No engine to ask: waiting, lost or refused.
    Offline,
}

/// The indicator's kind, headline and detail for a status; a missing
/// headline falls back to the standing's word.
pub fn indicator(status: &Status) -> (Indicator, String, String) {
    let (kind, word) = match status.standing {
        Standing::Idle => (Indicator::Inspecting, "INSPECTING"),
        Standing::Pass => (Indicator::Pass, "PASS"),
        Standing::Warning => (Indicator::Warning, "WARNING"),
        Standing::Reject => (Indicator::Reject, "REJECT"),
        Standing::NoVideo => (Indicator::NoVideo, "NO VIDEO"),
        Standing::Fault => (Indicator::Fault, "FAULT"),
    };
    let headline = if status.headline.trim().is_empty() {
        word.to_owned()
    } else {
        status.headline.clone()
    };
    let mut detail = status.detail.clone();
    if detail.is_empty() && status.standing == Standing::Fault && !status.faults.is_empty() {
        detail = status
            .faults
            .iter()
            .map(|f| display_label(f))
            .collect::<Vec<_>>()
            .join(", ");
    }
    (kind, headline, detail)
}

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

/// Where an export stands, from the status and the export events between statuses.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportPhase {
    Idle,
    /// Asked for; the engine has not said it started.
    Requested,
    /// As the engine tells it (or the engine's refusal, as a failure).
    Engine(ExportState),
}

/// The export button and its strip.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportView {
    /// The button may be pressed.
    pub enabled: bool,
    /// Under the button: `No USB stick`, or the stick.
    pub stick: String,
    /// The strip: shown when not idle.
    pub visible: bool,
    pub busy: bool,
    pub fraction: f32,
    pub message: String,
    pub tone: Tone,
}

#[derive(Debug, Clone)]
pub struct ExportTracker {
    phase: ExportPhase,
    sticks: Vec<PathBuf>,
    /// The operator closed the strip showing this phase.
    dismissed: Option<ExportPhase>,
}

impl Default for ExportTracker {
    fn default() -> Self {
        Self {
            phase: ExportPhase::Idle,
            sticks: Vec::new(),
            dismissed: None,
        }
    }
}

impl ExportTracker {
    pub fn phase(&self) -> &ExportPhase {
        &self.phase
    }

    pub fn apply_status(&mut self, status: &Status) {
        self.sticks.clone_from(&status.sticks);
        self.phase = match &status.export {
            Some(export) => ExportPhase::Engine(export.state.clone()),
            // A snapshot taken before the engine took the command.
            None if self.phase == ExportPhase::Requested => ExportPhase::Requested,
            None => ExportPhase::Idle,
        };
    }

    /// Takes an event; true when it concerned the export.
    pub fn apply_event(&mut self, event: &Event) -> bool {
        let state = match event {
            Event::ExportStarted { .. } => ExportState::Running {
                phase: "starting".to_owned(),
                done: 0,
                total: 0,
            },
            Event::ExportProgress { phase, done, total } => ExportState::Running {
                phase: phase.clone(),
                done: *done,
                total: *total,
            },
            Event::ExportDone { folder, rows, .. } => ExportState::Done {
                folder: folder.clone(),
                rows: *rows,
            },
            Event::ExportFailed { error } => ExportState::Failed { error: error.clone() },
            _ => return false,
        };
        self.phase = ExportPhase::Engine(state);
        true
    }

    /// The button was pressed.
    pub fn requested(&mut self) {
        self.phase = ExportPhase::Requested;
        self.dismissed = None;
    }

    /// The engine refused the command.
    pub fn refused(&mut self, error: String) {
        self.phase = ExportPhase::Engine(ExportState::Failed { error });
    }

    pub fn dismiss(&mut self) {
        self.dismissed = Some(self.phase.clone());
    }

    pub fn view(&self) -> ExportView {
        let busy = matches!(
            self.phase,
            ExportPhase::Requested | ExportPhase::Engine(ExportState::Running { .. })
        );
        let stick = match self.sticks.as_slice() {
            [] => "No USB stick".to_owned(),
            [one] => one
                .file_name()
                .map_or_else(|| one.display().to_string(), |n| n.to_string_lossy().into_owned()),
            more => format!("{} sticks", more.len()),
        };
        let (fraction, message, tone) = match &self.phase {
            ExportPhase::Idle => (0.0, String::new(), Tone::Normal),
            ExportPhase::Requested => (0.0, "Export: starting…".to_owned(), Tone::Normal),
            ExportPhase::Engine(ExportState::Running { phase, done, total }) => {
                let fraction = if *total > 0 {
                    (*done.min(total) as f64 / *total as f64) as f32
                } else {
                    0.0
                };
                let counts = if *total > 0 {
                    format!(" {done}/{total}")
                } else {
                    String::new()
                };
                (
                    fraction,
                    format!(
                        "Exporting {}{counts}: do not remove the USB stick",
                        display_label(phase)
                    ),
                    Tone::Normal,
                )
            }
            ExportPhase::Engine(ExportState::Done { folder, rows }) => (
                1.0,
                format!(
                    "Export done: {rows} rows in {}. Safe to remove the USB stick.",
                    folder.display()
                ),
                Tone::Pass,
            ),
            ExportPhase::Engine(ExportState::Failed { error }) => {
                (0.0, format!("Export failed: {error}"), Tone::Reject)
            }
        };
        let visible = self.phase != ExportPhase::Idle && self.dismissed.as_ref() != Some(&self.phase);
        ExportView {
            enabled: !self.sticks.is_empty() && !busy,
            stick,
            visible,
            busy,
            fraction,
            message,
            tone,
        }
    }
}

/// The station page's info rows: (label, value).
pub fn info_rows(status: Option<&Status>, panel_version: &str, socket: &str, link: &str) -> Vec<(String, String)> {
    let mut rows: Vec<(&str, String)> = Vec::new();
    match status {
        Some(s) => {
            let backend = match &s.backend_note {
                Some(note) if !note.is_empty() => format!("{} ({note})", s.backend),
                _ => s.backend.clone(),
            };
            rows.extend([
                ("Station", s.station.clone()),
                ("Model", s.model.clone()),
                ("Backend", backend),
                ("Sequence", s.sequence.clone()),
                ("Source", s.source.clone()),
                ("Engine version", s.software.clone()),
                ("Panel version", panel_version.to_owned()),
                ("Model fps", format!("{:.1}", s.fps)),
                ("Display fps", format!("{:.1}", s.display_fps)),
                ("Engine CPU", format!("{:.0} %", s.cpu_percent)),
                ("Engine memory", format!("{:.0} MB", s.memory_mb)),
                ("GPU", s.gpu.clone().unwrap_or_else(|| "none".to_owned())),
                ("Uptime", format_uptime(s.uptime_seconds)),
            ]);
        }
        None => rows.push(("Panel version", panel_version.to_owned())),
    }
    rows.push(("Engine link", link.to_owned()));
    rows.push(("Socket", socket.to_owned()));
    rows.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

#[cfg(test)]
mod tests {
    use actrec_ipc::Export;
    use serde_json::json;

    use super::*;

    fn step(t: f64, part: u32, name: &str, ok: bool) -> Event {
        Event::Step(StepEvent {
            t,
            part,
            step: name.to_owned(),
            p: 0.9,
            status: if ok { StepStatus::Ok } else { StepStatus::Error },
            expected: Vec::new(),
        })
    }

    fn closed(t: f64, part: u32, verdict: Verdict, missing: &[&str]) -> Event {
        Event::Part(PartEvent {
            t,
            part,
            verdict,
            missing: missing.iter().map(|s| (*s).to_owned()).collect(),
            errors: 0,
        })
    }

    #[test]
    fn events_of_every_kind_are_parsed() {
        let cases = [
            (
                json!({"kind":"step","t":12.3,"part":4,"step":"spacer","p":0.93,"status":"error","expected":["greased_disk"]}),
                Event::Step(StepEvent {
                    t: 12.3,
                    part: 4,
                    step: "spacer".into(),
                    p: 0.93,
                    status: StepStatus::Error,
                    expected: vec!["greased_disk".into()],
                }),
            ),
            (
                json!({"kind":"step","t":1.0,"part":1,"step":"base","p":0.5,"status":"ok"}),
                Event::Step(StepEvent {
                    t: 1.0,
                    part: 1,
                    step: "base".into(),
                    p: 0.5,
                    status: StepStatus::Ok,
                    expected: vec![],
                }),
            ),
            (
                json!({"kind":"part","t":40.1,"part":4,"verdict":"reject","missing":["spacer_washer"],"errors":1}),
                Event::Part(PartEvent {
                    t: 40.1,
                    part: 4,
                    verdict: Verdict::Reject,
                    missing: vec!["spacer_washer".into()],
                    errors: 1,
                }),
            ),
            (
                json!({"kind":"warning","t":3.0,"label":"nut","p":0.41}),
                Event::Warning {
                    t: 3.0,
                    label: "nut".into(),
                    p: 0.41,
                },
            ),
            (
                json!({"kind":"fault","fault":"no_video","active":true}),
                Event::Fault {
                    fault: "no_video".into(),
                    active: true,
                },
            ),
            (
                json!({"kind":"acknowledged","part":4,"by":"pin"}),
                Event::Acknowledged {},
            ),
            (
                json!({"kind":"export_started","to":"/media/usb0"}),
                Event::ExportStarted {
                    to: "/media/usb0".into(),
                },
            ),
            (
                json!({"kind":"export_progress","phase":"rows","done":10,"total":100}),
                Event::ExportProgress {
                    phase: "rows".into(),
                    done: 10,
                    total: 100,
                },
            ),
            (
                json!({"kind":"export_done","folder":"/media/usb0/actrec-1","rows":7,"safe_to_remove":true}),
                Event::ExportDone {
                    folder: "/media/usb0/actrec-1".into(),
                    rows: 7,
                    safe_to_remove: true,
                },
            ),
            (
                json!({"kind":"export_failed","error":"disk full"}),
                Event::ExportFailed {
                    error: "disk full".into(),
                },
            ),
            (json!({"kind":"source_switched","source":"cam2"}), Event::Other),
            (json!({"kind":"something_new","x":[1,2]}), Event::Other),
        ];
        for (value, expected) in cases {
            assert_eq!(Event::parse(&value).expect("parses"), expected, "{value}");
        }
    }

    #[test]
    fn a_malformed_event_is_an_error_naming_its_kind() {
        let err = Event::parse(&json!({"kind":"step","t":1.0,"step":"base"})).expect_err("no part");
        assert_eq!(err.kind, "step");
        assert!(err.to_string().contains("part"), "{err}");
        let err = Event::parse(&json!({"t":1.0})).expect_err("no kind");
        assert_eq!(err.kind, "");
        assert!(Event::parse(&json!("text")).is_err());
        assert!(Event::parse(&json!({"kind":"step","t":"soon","part":1,"step":"a","p":1,"status":"ok"})).is_err());
    }

    #[test]
    fn the_step_log_is_newest_first_capped_and_highlights_errors() {
        let mut log = StepLog::new(3);
        assert!(log.apply(&step(1.0, 1, "base", true)));
        assert!(!log.apply(&Event::Warning {
            t: 1.5,
            label: "x".into(),
            p: 0.2
        }));
        assert!(!log.apply(&Event::Other));
        let mut wrong = StepEvent {
            t: 2.5,
            part: 1,
            step: "spacer_washer".into(),
            p: 0.934,
            status: StepStatus::Error,
            expected: vec!["greased_disk".into(), "nut".into()],
        };
        assert!(log.apply(&Event::Step(wrong.clone())));
        let rows: Vec<_> = log.rows().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0],
            &LogRow {
                time: "0:02.5".into(),
                part: "1".into(),
                step: "spacer washer".into(),
                status: "WRONG, expected greased disk, nut".into(),
                confidence: "93 %".into(),
                tone: Tone::Error,
            }
        );
        assert_eq!(rows[1].tone, Tone::Ok);
        assert_eq!(rows[1].status, "ok");
        wrong.expected.clear();
        log.apply(&Event::Step(wrong));
        assert_eq!(log.rows().next().map(|r| r.status.as_str()), Some("WRONG"));
        for i in 0..10 {
            log.apply(&step(10.0 + f64::from(i), 2, "nut", true));
        }
        assert_eq!(log.rows().len(), 3, "capped");
        assert_eq!(
            log.rows().next().map(|r| r.time.as_str()),
            Some("0:19.0"),
            "newest first"
        );
        log.clear();
        assert_eq!(log.rows().len(), 0);
    }

    #[test]
    fn a_closed_part_shows_what_it_missed() {
        let mut log = StepLog::new(LOG_CAPACITY);
        assert!(log.last_part().is_none());
        let part = PartEvent {
            t: 40.1,
            part: 4,
            verdict: Verdict::Reject,
            missing: vec!["spacer_washer".into(), "nut".into(), "spacer_washer".into()],
            errors: 1,
        };
        log.apply(&Event::Part(part.clone()));
        assert_eq!(log.last_part(), Some(&part));
        assert_eq!(
            part_summary(&part),
            "Part 4 REJECT: missing spacer washer ×2, nut; 1 wrong step"
        );
        let row = log.rows().next().expect("a row");
        assert_eq!(row.status, "REJECT: missing spacer washer ×2, nut");
        assert_eq!(row.tone, Tone::Reject);
        assert_eq!(row.step, "closed");

        let pass = PartEvent {
            t: 80.0,
            part: 5,
            verdict: Verdict::Pass,
            missing: vec![],
            errors: 0,
        };
        log.apply(&Event::Part(pass.clone()));
        assert_eq!(part_summary(&pass), "Part 5 PASS");
        assert_eq!(log.last_part().map(|p| p.part), Some(5), "the newest closed part");
        let incomplete = PartEvent {
            verdict: Verdict::Incomplete,
            errors: 3,
            ..pass
        };
        assert_eq!(part_summary(&incomplete), "Part 5 INCOMPLETE: 3 wrong steps");
        assert_eq!(Verdict::Incomplete.tone(), Tone::Warning);
    }

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

    #[test]
    fn the_indicator_follows_the_standing() {
        let mut status = Status::default();
        let cases = [
            (Standing::Idle, Indicator::Inspecting, "INSPECTING"),
            (Standing::Pass, Indicator::Pass, "PASS"),
            (Standing::Warning, Indicator::Warning, "WARNING"),
            (Standing::Reject, Indicator::Reject, "REJECT"),
            (Standing::NoVideo, Indicator::NoVideo, "NO VIDEO"),
            (Standing::Fault, Indicator::Fault, "FAULT"),
        ];
        for (standing, kind, word) in cases {
            status.standing = standing;
            assert_eq!(indicator(&status), (kind, word.to_owned(), String::new()));
        }
        status.standing = Standing::Reject;
        status.headline = "REJECT #13".into();
        status.detail = "missing spacer washer".into();
        assert_eq!(
            indicator(&status),
            (Indicator::Reject, "REJECT #13".into(), "missing spacer washer".into())
        );
        status.standing = Standing::Fault;
        status.headline = String::new();
        status.detail = String::new();
        status.faults = vec!["inference_stalled".into(), "no_video".into()];
        assert_eq!(indicator(&status).2, "inference stalled, no video");
    }

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

    #[test]
    fn clocks_and_uptimes_read_well() {
        assert_eq!(format_clock(0.0), "0:00.0");
        assert_eq!(format_clock(12.34), "0:12.3");
        assert_eq!(format_clock(725.3), "12:05.3");
        assert_eq!(format_clock(59.97), "1:00.0");
        assert_eq!(format_clock(3725.0), "1:02:05");
        assert_eq!(format_clock(f64::NAN), "–");
        assert_eq!(format_uptime(12.9), "12 s");
        assert_eq!(format_uptime(252.0), "4 min 12 s");
        assert_eq!(format_uptime(7500.0), "2 h 5 min");
        assert_eq!(format_uptime(3.0 * 86_400.0 + 4.0 * 3600.0), "3 d 4 h");
        assert_eq!(format_uptime(-1.0), "0 s");
    }

    fn status_with(sticks: &[&str], state: Option<ExportState>) -> Status {
        Status {
            sticks: sticks.iter().map(PathBuf::from).collect(),
            export: state.map(|state| Export {
                to: "/media/usb0".into(),
                state,
            }),
            ..Status::default()
        }
    }

    #[test]
    fn the_export_goes_from_request_to_safe_to_remove() {
        let mut export = ExportTracker::default();
        export.apply_status(&status_with(&[], None));
        let view = export.view();
        assert!(!view.enabled);
        assert_eq!(view.stick, "No USB stick");
        assert!(!view.visible);

        export.apply_status(&status_with(&["/media/usb0"], None));
        assert!(export.view().enabled);
        assert_eq!(export.view().stick, "usb0");
        export.requested();
        // A status from before the engine took the command keeps the request.
        export.apply_status(&status_with(&["/media/usb0"], None));
        assert_eq!(export.phase(), &ExportPhase::Requested);
        let view = export.view();
        assert!(view.visible && view.busy && !view.enabled);

        assert!(export.apply_event(&Event::ExportProgress {
            phase: "rows".into(),
            done: 25,
            total: 100
        }));
        let view = export.view();
        assert_eq!(view.fraction, 0.25);
        assert!(view.message.contains("do not remove"), "{}", view.message);

        export.apply_status(&status_with(
            &["/media/usb0"],
            Some(ExportState::Done {
                folder: "/media/usb0/actrec-2026".into(),
                rows: 42,
            }),
        ));
        let view = export.view();
        assert!(view.enabled && !view.busy && view.visible);
        assert_eq!(view.tone, Tone::Pass);
        assert_eq!(
            view.message,
            "Export done: 42 rows in /media/usb0/actrec-2026. Safe to remove the USB stick."
        );
        export.dismiss();
        assert!(!export.view().visible);
        assert!(!export.apply_event(&Event::Other));

        export.apply_event(&Event::ExportFailed {
            error: "no space left".into(),
        });
        let view = export.view();
        assert!(view.visible, "a new phase shows again");
        assert_eq!(view.message, "Export failed: no space left");
        export.requested();
        export.refused("no USB stick mounted".into());
        assert_eq!(export.view().message, "Export failed: no USB stick mounted");
        export.apply_status(&status_with(&["/a", "/b"], None));
        assert_eq!(export.view().stick, "2 sticks");
        assert_eq!(export.phase(), &ExportPhase::Idle);
    }

    #[test]
    fn the_info_rows_say_none_for_a_missing_gpu() {
        let status = Status {
            station: "line 3".into(),
            software: "0.1.0".into(),
            backend: "tract".into(),
            backend_note: Some("onnxruntime not found".into()),
            gpu: None,
            uptime_seconds: 90.0,
            memory_mb: 312.4,
            ..Status::default()
        };
        let rows = info_rows(Some(&status), "0.2.0", "/run/actrec/engine.sock", "connected");
        let get = |k: &str| rows.iter().find(|(l, _)| l == k).map(|(_, v)| v.as_str());
        assert_eq!(get("Station"), Some("line 3"));
        assert_eq!(get("Backend"), Some("tract (onnxruntime not found)"));
        assert_eq!(get("GPU"), Some("none"));
        assert_eq!(get("Engine version"), Some("0.1.0"));
        assert_eq!(get("Panel version"), Some("0.2.0"));
        assert_eq!(get("Engine memory"), Some("312 MB"));
        assert_eq!(get("Uptime"), Some("1 min 30 s"));
        let rows = info_rows(None, "0.2.0", "/s", "waiting");
        assert_eq!(rows.len(), 3);
    }
}
