//! One controller per page: each turns the engine's messages into its page's
//! adapters (the `global`s of `ui/pages/`) and its page's callbacks into
//! commands.

pub mod info;
pub mod station;

use std::rc::Rc;

use slint::{ModelRc, SharedString, VecModel};

use crate::model::{Indicator, Tone};
use crate::ui;

pub use info::InfoController;
pub use station::StationController;

fn tone(tone: Tone) -> ui::Tone {
    match tone {
        Tone::Normal => ui::Tone::Normal,
        Tone::Ok => ui::Tone::Ok,
        Tone::Error => ui::Tone::Error,
        Tone::Pass => ui::Tone::Pass,
        Tone::Reject => ui::Tone::Reject,
        Tone::Warning => ui::Tone::Warning,
    }
}

fn indicator(kind: Indicator) -> ui::Indicator {
    match kind {
        Indicator::Inspecting => ui::Indicator::Inspecting,
        Indicator::Pass => ui::Indicator::Pass,
        Indicator::Warning => ui::Indicator::Warning,
        Indicator::Reject => ui::Indicator::Reject,
        Indicator::NoVideo => ui::Indicator::NoVideo,
        Indicator::Fault => ui::Indicator::Fault,
        Indicator::Offline => ui::Indicator::Offline,
    }
}

fn model<T: Clone + 'static>(items: Vec<T>) -> ModelRc<T> {
    ModelRc::from(Rc::new(VecModel::from(items)))
}

fn strings(items: &[String]) -> ModelRc<SharedString> {
    model(items.iter().map(SharedString::from).collect())
}
