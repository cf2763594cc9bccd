//! The source's news: started, lost, restored, switched, ended. Each is
//! audited, and `no_video` holds from a loss until frames flow again.

use actrec_audit::record::SourceChange;
use actrec_core::light::FaultKind;
use actrec_media::event::MediaEvent;

use super::{Engine, WAITING_FOR_FIRST_FRAME};
use crate::supervise;

impl Engine {
    pub fn on_media_event(&mut self, event: &MediaEvent) {
        self.out.media(event);
        let (no_video, record) = match event {
            // Started is not yet video: the fault clears at the first frame (restored).
            MediaEvent::SourceStarted { source, .. } => (None, Some((source, SourceChange::Selected, None, ""))),
            MediaEvent::SourceLost { source, reason } => {
                supervise::status(&format!("NO VIDEO: source {source} lost ({reason})"));
                (Some(true), Some((source, SourceChange::Lost, None, reason.as_str())))
            }
            MediaEvent::SourceRestored { source } => {
                supervise::status(&format!("inspecting; source {source}"));
                (Some(false), Some((source, SourceChange::Recovered, None, "")))
            }
            MediaEvent::SourceSwitched { from, to } => {
                self.source = to.clone();
                supervise::status(&format!(
                    "NO VIDEO: switched to source {to}, waiting for its first frame"
                ));
                (
                    Some(true),
                    Some((to, SourceChange::Selected, Some(from.clone()), "switched")),
                )
            }
            MediaEvent::SourceEnded { source } => {
                supervise::status(&format!("NO VIDEO: source {source} ended"));
                (Some(true), Some((source, SourceChange::Lost, None, FILE_ENDED)))
            }
            _ => (None, None),
        };
        if let Some((source, change, previous, detail)) = record {
            let recorded = self.audit.source(source, change, previous, detail).map(drop);
            self.audited(recorded, "source change");
        }
        if let Some(active) = no_video {
            let detail = match event {
                MediaEvent::SourceLost { reason, .. } => reason.clone(),
                MediaEvent::SourceSwitched { .. } => WAITING_FOR_FIRST_FRAME.into(),
                MediaEvent::SourceEnded { .. } => FILE_ENDED.into(),
                _ => String::new(),
            };
            self.fault(FaultKind::NoVideo, active, &detail);
        }
        self.output.annotate(&self.annotation());
    }
}

/// The `no_video` detail once a file source has ended.
pub(super) const FILE_ENDED: &str = "the file ended";
