//! The big status indicator: its kind, headline and detail.

use actrec_ipc::{Standing, Status};

use super::display_label;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
