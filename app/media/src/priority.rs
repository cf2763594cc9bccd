//! Which work gets the CPU first when a station has too little: the model
//! branch and the decisions (nice 0) before decoding (the ingest's threads)
//! before the annotated outputs (overlay, encoder, muxers, network). A
//! recording that falls behind drops a camera's frames; a decision that
//! falls behind is a late reject.
//!
//! Every GStreamer streaming thread announces itself on the bus from the
//! thread itself (`STREAM_STATUS`, `Enter`) before it runs; a sync handler
//! lowers that thread's priority there. Threads a codec starts from a
//! streaming thread (libav's, x264's) inherit it. Lowering needs no
//! privilege; where it fails (a seccomp filter), it is logged once.
//!
//! Nice +12 gives decoding about a twentieth of a core's share while the
//! model runs, which is only in bursts, so decoding catches up in between;
//! +5 (a third) let it stretch the bursts. Measured in docs/PERFORMANCE.md
//! ("Priorities").

use std::sync::atomic::{AtomicBool, Ordering};

use gstreamer as gst;
use gstreamer::prelude::*;

/// How much lower than the engine's own threads the ingest's decoding and scaling run.
pub const INGEST_NICE: i32 = 12;
/// How much lower the annotated outputs run.
pub const OUTPUT_NICE: i32 = 15;

static WARNED: AtomicBool = AtomicBool::new(false);

/// Every streaming thread `pipeline` starts from now on runs `by` nice
/// levels below the calling thread (at most 19).
pub fn lower_streaming_threads(pipeline: &gst::Pipeline, by: i32) {
    let Some(bus) = pipeline.bus() else { return };
    let nice = (current_nice().unwrap_or(0) + by).min(19);
    bus.set_sync_handler(move |_, message| {
        if let gst::MessageView::StreamStatus(status) = message.view()
            && status.get().0 == gst::StreamStatusType::Enter
        {
            let thread = rustix::thread::gettid();
            if let Err(err) = rustix::process::setpriority_process(Some(thread), nice)
                && !WARNED.swap(true, Ordering::Relaxed)
            {
                tracing::warn!(%err, nice, "cannot lower a streaming thread's priority; video competes with the model");
            }
        }
        gst::BusSyncReply::Pass
    });
}

/// This thread's nice value.
pub fn current_nice() -> std::io::Result<i32> {
    rustix::process::getpriority_process(Some(rustix::thread::gettid())).map_err(std::io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipelines_streaming_threads_run_at_the_lower_priority() {
        gst::init().expect("GStreamer");
        let pipeline = gst::parse::launch("videotestsrc num-buffers=3 ! fakesink name=sink signal-handoffs=true")
            .expect("pipeline")
            .downcast::<gst::Pipeline>()
            .expect("a pipeline");
        lower_streaming_threads(&pipeline, 7);
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = pipeline.by_name("sink").expect("sink");
        sink.connect("handoff", false, move |_| {
            let _ = tx.send(current_nice());
            None
        });
        pipeline.set_state(gst::State::Playing).expect("playing");
        let nice = rx.recv_timeout(std::time::Duration::from_secs(20)).expect("a buffer");
        pipeline.set_state(gst::State::Null).expect("stopped");
        let base = current_nice().expect("getpriority");
        assert_eq!(nice.expect("getpriority"), (base + 7).min(19));
    }
}
