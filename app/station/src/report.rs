//! Events as an operator reads them: one text line per event that has one
//! (`actrec check --format text`, `actrec run --format text`). Their JSON
//! is the typed contract, [`actrec_ipc::EngineEvent`].

use actrec_core::event::{Event, StepStatus, Verdict};
use actrec_ipc::EngineEvent;
use actrec_ipc::event::MediaEvent;

const GREEN: &str = "\x1b[1;32m";
const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const RESET: &str = "\x1b[0m";

/// One operator's log line: time, part, step, status, detail.
pub fn text(event: &Event, colour: bool) -> String {
    let paint = |code: &str, text: &str| {
        if colour {
            format!("{code}{text}{RESET}")
        } else {
            text.to_owned()
        }
    };
    match event {
        Event::Warning(w) => format!(
            "{}  {:<7} {:<16} {} p={:.2}  low confidence",
            clock(w.t),
            "",
            w.label,
            paint(YELLOW, "warning"),
            w.p
        ),
        Event::Step(s) => {
            let status = match s.status {
                StepStatus::Ok => "ok     ".to_owned(),
                StepStatus::Error => paint(RED, "ERROR  "),
            };
            let detail = match s.status {
                StepStatus::Ok => String::new(),
                StepStatus::Error => format!("expected {}", s.expected.join(" or ")),
            };
            format!(
                "{}  part {:<2} {:<16} {} p={:.2}  {}",
                clock(s.t),
                s.part,
                s.step,
                status,
                s.p,
                detail
            )
            .trim_end()
            .to_owned()
        }
        Event::Part(p) => {
            let verdict = match p.verdict {
                Verdict::Pass => paint(GREEN, "PASS"),
                Verdict::Reject => paint(RED, "REJECT"),
                Verdict::Incomplete => paint(YELLOW, "INCOMPLETE"),
            };
            let mut line = format!("{}  part {:<2} {verdict}", clock(p.t), p.part);
            if !p.missing.is_empty() {
                line.push_str(&format!("  missing: {}", p.missing.join(", ")));
            }
            if p.errors > 0 {
                line.push_str(&format!("  errors: {}", p.errors));
            }
            line
        }
    }
}

/// An event's line in the operator's log; `None` for those it leaves out
/// (lights, commits, export progress: the panel shows them).
pub fn line(event: &EngineEvent, colour: bool) -> Option<String> {
    let pad = "";
    Some(match event {
        EngineEvent::Warning(w) => text(&Event::Warning(w.clone()), colour),
        EngineEvent::Step(s) => text(&Event::Step(s.clone()), colour),
        EngineEvent::Part(p) => text(&Event::Part(p.clone()), colour),
        EngineEvent::Fault { fault, active: true } => format!("{pad:10}  FAULT {}: not inspecting", fault.as_str()),
        EngineEvent::Fault { fault, active: false } => format!("{pad:10}  fault {} cleared", fault.as_str()),
        EngineEvent::Outage { seconds } => {
            format!("{pad:10}  the engine was down (up to {seconds:.1} s): recorded as a fault")
        }
        EngineEvent::Stick { path, present: true } => format!("{pad:10}  USB stick at {}", path.display()),
        EngineEvent::Stick { path, present: false } => format!("{pad:10}  USB stick at {} gone", path.display()),
        EngineEvent::ExportStarted { to } => format!("{pad:10}  exporting to {}", to.display()),
        EngineEvent::ExportDone { folder, rows, .. } => {
            format!(
                "{pad:10}  exported {rows} rows to {}: safe to remove the stick",
                folder.display()
            )
        }
        EngineEvent::ExportFailed { error } => format!("{pad:10}  EXPORT FAILED: {error}"),
        EngineEvent::Acknowledged { .. } => format!("{pad:10}  reject acknowledged"),
        EngineEvent::Refused { command, reason } => format!("{pad:10}  {command} refused: {reason}"),
        EngineEvent::SequenceSelected { sequence } => format!("{pad:10}  sequence {sequence} selected"),
        EngineEvent::Stopped { frames, display_frames } => {
            format!("# stopped after {frames} frames ({display_frames} shown)")
        }
        EngineEvent::Media(media) => format!("{pad:10}  {}", media_text(media)),
        EngineEvent::Committed { .. } | EngineEvent::Lights { .. } | EngineEvent::ExportProgress { .. } => return None,
    })
}

fn media_text(event: &MediaEvent) -> String {
    match event {
        MediaEvent::SourceStarted { source, .. } => format!("source {source}: started"),
        MediaEvent::SourceLost { source, reason } => format!("source {source}: LOST ({reason})"),
        MediaEvent::SourceRestored { source } => format!("source {source}: restored"),
        MediaEvent::SourceError { source, message } => format!("source {source}: ERROR {message}"),
        MediaEvent::SourceEnded { source } => format!("source {source}: ended"),
        MediaEvent::SourceSwitched { from, to } => format!("source switched from {from} to {to}"),
        MediaEvent::FramesDropped {
            source,
            branch,
            count,
            total,
        } => {
            format!("source {source}: {count} frames dropped ({branch:?} branch, {total} in all)")
        }
        MediaEvent::OutputError { message } => format!("output ERROR {message}"),
        MediaEvent::ClipWritten { part, path } => format!("part {part}: evidence clip {}", path.display()),
        MediaEvent::ClipFailed { part, message } => format!("part {part}: evidence clip FAILED {message}"),
    }
}

/// Stream time as hh:mm:ss.t.
fn clock(t: f64) -> String {
    let tenths = (t * 10.0).round() as u64;
    let seconds = tenths / 10;
    format!(
        "{:02}:{:02}:{:02}.{}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        tenths % 10
    )
}

#[cfg(test)]
mod tests {
    use super::clock;

    #[test]
    fn clock_shows_tenths() {
        assert_eq!(clock(0.0), "00:00:00.0");
        assert_eq!(clock(61.25), "00:01:01.3");
        assert_eq!(clock(3725.0), "01:02:05.0");
    }
}
