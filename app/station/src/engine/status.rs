//! The status snapshot the panel shows: what the big indicator says, the
//! rates and process figures, and how often the snapshot goes out.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use actrec_core::event::{Event, PartSummary, StepEvent, StepStatus, Verdict};
use actrec_core::inspect::Inspector;
use actrec_core::light::FaultKind;
use actrec_ipc::{Standing, Status, ToClient};

use super::Engine;

/// A snapshot goes out on every change, and at least this often.
pub const STATUS_EVERY: Duration = Duration::from_secs(1);

/// What the engine knows at start that the panel shows.
#[derive(Debug, Clone, Default)]
pub struct PanelInfo {
    /// Model name and version.
    pub model: String,
    pub backend: String,
    /// Why the backend is not the preferred one, if it is not.
    pub backend_note: Option<String>,
    /// The shared-memory video ring.
    pub video: Option<PathBuf>,
}

/// The indicator's state from the station's events: the last verdict, or
/// the open part. Faults override it when the snapshot is made.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub standing: Standing,
    pub headline: String,
    pub detail: String,
    /// The open part that had a step out of order: it keeps its warning until it closes.
    checking: Option<u32>,
}

impl Default for Shown {
    fn default() -> Self {
        Self {
            standing: Standing::Idle,
            headline: "INSPECTING".into(),
            detail: "waiting for the first part".into(),
            checking: None,
        }
    }
}

impl Shown {
    /// The indicator after `event`. A reject waiting for its acknowledgement
    /// stays red while the next part begins.
    pub fn after(&self, event: &Event, reject_waiting: bool) -> Shown {
        match event {
            Event::Warning(_) => self.clone(),
            Event::Step(step) => self.after_step(step, reject_waiting),
            Event::Part(part) => after_part(part),
        }
    }

    fn after_step(&self, step: &StepEvent, reject_waiting: bool) -> Shown {
        if step.status == StepStatus::Error {
            let expected = if step.expected.is_empty() {
                String::new()
            } else {
                format!("; expected {}", step.expected.join(" or "))
            };
            return Shown {
                standing: Standing::Warning,
                headline: format!("PART #{}: CHECK", step.part),
                detail: format!("{} out of order{expected}", step.step),
                checking: Some(step.part),
            };
        }
        if reject_waiting && self.standing == Standing::Reject {
            return self.clone();
        }
        if self.checking == Some(step.part) {
            return self.clone();
        }
        Shown {
            standing: Standing::Idle,
            headline: format!("PART #{}", step.part),
            detail: format!("last step: {}", step.step),
            checking: None,
        }
    }
}

fn after_part(part: &PartSummary) -> Shown {
    let missing = if part.missing.is_empty() {
        String::new()
    } else {
        format!("missing: {}", part.missing.join(", "))
    };
    let errors = match part.errors {
        0 => String::new(),
        1 => "1 step out of order".into(),
        n => format!("{n} steps out of order"),
    };
    let detail = [missing, errors]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let (standing, word) = match part.verdict {
        Verdict::Pass => (Standing::Pass, "PASS"),
        Verdict::Reject => (Standing::Reject, "REJECT"),
        Verdict::Incomplete => (Standing::Warning, "INCOMPLETE"),
    };
    Shown {
        standing,
        headline: format!("{word} #{}", part.part),
        detail,
        checking: None,
    }
}

/// Frames per second and CPU use over the last second or so.
pub struct Rates {
    since: Instant,
    frames: u64,
    display_frames: u64,
    cpu_ticks: Option<u64>,
    pub fps: f64,
    pub display_fps: f64,
    pub cpu_percent: f64,
    memory_mb: f64,
    gpu: Option<String>,
}

impl Rates {
    pub fn new() -> Self {
        Self {
            since: Instant::now(),
            frames: 0,
            display_frames: 0,
            cpu_ticks: cpu_ticks(),
            fps: 0.0,
            display_fps: 0.0,
            cpu_percent: 0.0,
            memory_mb: memory_mb().unwrap_or(0.0),
            gpu: gpu_load(),
        }
    }

    /// Takes new counts; the rates and the process figures move once a
    /// second, so that a snapshot reads no file.
    pub fn update(&mut self, frames: u64, display_frames: u64) {
        let elapsed = self.since.elapsed().as_secs_f64();
        if elapsed < 1.0 {
            return;
        }
        self.fps = frames.saturating_sub(self.frames) as f64 / elapsed;
        self.display_fps = display_frames.saturating_sub(self.display_frames) as f64 / elapsed;
        let ticks = cpu_ticks();
        if let (Some(now), Some(before)) = (ticks, self.cpu_ticks) {
            // /proc counts in USER_HZ, which Linux fixes at 100 for user space.
            self.cpu_percent = now.saturating_sub(before) as f64 / elapsed;
        }
        self.memory_mb = memory_mb().unwrap_or(0.0);
        self.gpu = gpu_load();
        self.since = Instant::now();
        self.frames = frames;
        self.display_frames = display_frames;
        self.cpu_ticks = ticks;
    }

    pub fn fill(&self, status: &mut Status) {
        status.fps = round1(self.fps);
        status.display_fps = round1(self.display_fps);
        status.cpu_percent = round1(self.cpu_percent);
        status.memory_mb = round1(self.memory_mb);
        status.gpu = self.gpu.clone();
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// User and system time of this process, in ticks.
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which may hold spaces, closed by ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Resident memory of this process.
fn memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// The Jetson GPU's load (per mille in sysfs), where there is one.
fn gpu_load() -> Option<String> {
    let load: f64 = std::fs::read_to_string("/sys/devices/gpu.0/load")
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(format!("GPU {:.0}%", load / 10.0))
}

impl Engine {
    /// The station as the panel shows it.
    pub fn status(&self) -> Status {
        let (standing, headline, detail) = if self.line.has_fault(FaultKind::NoVideo) {
            (
                actrec_ipc::Standing::NoVideo,
                "NO VIDEO".to_owned(),
                self.fault_detail.clone(),
            )
        } else if let Some(fault) = self.line.faults().next() {
            (
                actrec_ipc::Standing::Fault,
                format!("FAULT: {}", fault.as_str().replace('_', " ")),
                self.fault_detail.clone(),
            )
        } else {
            let shown = self.shown.clone();
            (shown.standing, shown.headline, shown.detail)
        };
        let mut status = Status {
            station: self.config.station.id.clone(),
            software: env!("CARGO_PKG_VERSION").to_owned(),
            model: self.info.model.clone(),
            backend: self.info.backend.clone(),
            backend_note: self.info.backend_note.clone(),
            sequence: self.sequence.clone(),
            sequences: self.sequences.iter().map(|(_, d)| d.name.clone()).collect(),
            source: self.source.clone(),
            sources: self.config.sources.keys().cloned().collect(),
            standing,
            headline,
            detail,
            part: self.inspector.as_ref().and_then(Inspector::open_part),
            expected_next: self
                .inspector
                .as_ref()
                .map(Inspector::expected_next)
                .unwrap_or_default(),
            progress: self.inspector.as_ref().and_then(Inspector::progress),
            faults: self.line.faults().map(|f| f.as_str().to_owned()).collect(),
            reject_waiting: self.line.reject_waiting(),
            sticks: self.sticks.clone(),
            export: self.export.clone(),
            video: self.info.video.clone(),
            uptime_seconds: self.clock.since(self.started).as_secs_f64().round(),
            ..Status::default()
        };
        self.rates.fill(&mut status);
        status
    }

    /// Sends the status to every panel if it changed, or once a second.
    pub(super) fn publish_status(&mut self) {
        let Some(panel) = &self.out.panel else { return };
        let status = self.status();
        let due = self
            .last_status
            .as_ref()
            .is_none_or(|(at, last)| self.clock.since(*at) >= STATUS_EVERY || !same_state(last, &status));
        if due {
            panel.clients.publish(&ToClient::Status {
                status: Box::new(status.clone()),
            });
            self.last_status = Some((self.clock.now(), status));
        }
    }
}

/// Equal but for the figures that move all the time.
fn same_state(a: &Status, b: &Status) -> bool {
    let calm = |s: &Status| Status {
        fps: 0.0,
        display_fps: 0.0,
        cpu_percent: 0.0,
        memory_mb: 0.0,
        gpu: None,
        uptime_seconds: 0.0,
        ..s.clone()
    };
    calm(a) == calm(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(part: u32, name: &str, status: StepStatus) -> Event {
        Event::Step(StepEvent {
            t: 1.0,
            part,
            step: name.into(),
            p: 0.9,
            status,
            expected: if status == StepStatus::Error {
                vec!["spacer".into()]
            } else {
                vec![]
            },
        })
    }

    fn part(number: u32, verdict: Verdict, missing: &[&str], errors: u32) -> Event {
        Event::Part(PartSummary {
            t: 2.0,
            part: number,
            verdict,
            missing: missing.iter().map(|s| (*s).to_owned()).collect(),
            errors,
        })
    }

    #[test]
    fn the_indicator_follows_parts_and_keeps_an_unacknowledged_reject() {
        let shown = Shown::default().after(&step(1, "riveted_start", StepStatus::Ok), false);
        assert_eq!((shown.standing, shown.headline.as_str()), (Standing::Idle, "PART #1"));
        let shown = shown.after(&step(1, "separator", StepStatus::Error), false);
        assert_eq!(shown.standing, Standing::Warning);
        assert_eq!(shown.detail, "separator out of order; expected spacer");
        // The part keeps its warning until it closes.
        let shown = shown.after(&step(1, "spacer", StepStatus::Ok), false);
        assert_eq!(shown.standing, Standing::Warning);
        let shown = shown.after(&part(1, Verdict::Reject, &["spacer_washer"], 1), false);
        assert_eq!(
            (shown.standing, shown.headline.as_str(), shown.detail.as_str()),
            (
                Standing::Reject,
                "REJECT #1",
                "missing: spacer_washer; 1 step out of order"
            )
        );
        let waiting = shown.after(&step(2, "riveted_start", StepStatus::Ok), true);
        assert_eq!(waiting.headline, "REJECT #1");
        let acknowledged = shown.after(&step(2, "riveted_start", StepStatus::Ok), false);
        assert_eq!(acknowledged.headline, "PART #2");
        let passed = acknowledged.after(&part(2, Verdict::Pass, &[], 0), false);
        assert_eq!((passed.standing, passed.detail.as_str()), (Standing::Pass, ""));
    }

    #[test]
    fn process_figures_come_from_proc() {
        assert!(cpu_ticks().is_some());
        assert!(memory_mb().is_some_and(|mb| mb > 0.0));
    }
}
