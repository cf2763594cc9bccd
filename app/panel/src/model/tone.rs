//! How rows, bars and strips are coloured, and how a verdict is shown.

use actrec_ipc::event::Verdict;

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

/// How a verdict is shown: its colour and its word. A trait because
/// `Verdict` is the engine's type (`actrec_core::event`), not the panel's.
pub trait VerdictLook {
    fn tone(self) -> Tone;
    fn word(self) -> &'static str;
}

impl VerdictLook for Verdict {
    fn tone(self) -> Tone {
        match self {
            Verdict::Pass => Tone::Pass,
            Verdict::Reject => Tone::Reject,
            Verdict::Incomplete => Tone::Warning,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Reject => "REJECT",
            Verdict::Incomplete => "INCOMPLETE",
        }
    }
}
