//! How the panel words things: step labels, clocks, uptimes, a closed
//! part's summary and the info page's rows.

use std::fmt::Write as _;

use actrec_ipc::Status;
use actrec_ipc::event::PartSummary;

use super::VerdictLook;

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

/// What a closed part lacked, in one line: `Part 4 REJECT: missing spacer washer ×2; 1 wrong step`.
pub fn part_summary(part: &PartSummary) -> String {
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
    use super::*;

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
