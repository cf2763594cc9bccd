//! The panel's video ring: each annotated BGRx frame copied into the
//! shared-memory ring the panel reads (actrec-shmring).

use crossbeam_channel::Sender;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;

use actrec_shmring::{Geometry, RingWriter};

use crate::MediaError;
use crate::describe::FrameSizes;
use crate::event::MediaEvent;

/// Copies each BGRx frame into the panel's video ring.
pub(crate) fn feed_panel_ring(
    sink: gst::Element,
    path: &std::path::Path,
    sizes: FrameSizes,
    events: &Sender<MediaEvent>,
) -> Result<(), MediaError> {
    let sink = sink
        .downcast::<gst_app::AppSink>()
        .map_err(|_| MediaError::Output("panel sink".into()))?;
    let geometry = Geometry {
        width: sizes.display_width,
        height: sizes.display_height,
        slots: 4,
    };
    let mut ring =
        RingWriter::create(path, geometry, super::unix_stamp()).map_err(|err| MediaError::Output(err.to_string()))?;
    let events = events.clone();
    let mut failed = false;
    sink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Flushing)?;
                let buffer = sample.buffer().ok_or(gst::FlowError::Error)?;
                let map = buffer.map_readable().map_err(|_| gst::FlowError::Error)?;
                let pts = buffer.pts().map_or(0, |p| p.nseconds());
                // A failing ring is reported once; the other outputs go on.
                if let Err(err) = ring.write(pts, map.as_slice())
                    && !failed
                {
                    failed = true;
                    let _ = events.send(MediaEvent::OutputError {
                        message: format!("panel video: {err}"),
                    });
                }
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
    Ok(())
}
