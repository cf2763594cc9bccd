//! The output pipeline on real sinks: mp4 files (whole, split by part),
//! evidence clips (ending with the verdict on screen), the panel's video
//! ring, RTP and RTSP streams read back by the ingest pipeline.

mod common;

use std::path::Path;
use std::time::Duration;

use actrec_core::config::{Mp4Output, Mp4Split, Outputs, ShmOutput, Source, StreamOutput};
use actrec_media::describe::{self, OutputPlan};
use actrec_media::event::MediaEvent;
use actrec_media::gst;
use actrec_media::ingest::DisplayFrame;
use actrec_media::output::{Annotation, ClipSettings, Output, OutputConfig, POST_ROLL, Standing, StepMark};
use common::*;
use crossbeam_channel::Receiver;

const LIMIT: Duration = Duration::from_secs(20);

fn start(
    outputs: Outputs,
    mp4_dir: Option<&Path>,
    clips: Option<ClipSettings>,
    rtsp: Option<(u16, String)>,
) -> (Output, Receiver<MediaEvent>) {
    actrec_media::init().expect("gstreamer");
    let rtsp_feed_port = rtsp.as_ref().map(|_| free_port());
    let plan = OutputPlan {
        outputs,
        mp4_location: mp4_dir.map(|d| describe::mp4_location(d, "test")),
        rtsp_feed_port,
        clips: clips.is_some(),
    };
    let (tx, rx) = crossbeam_channel::unbounded();
    let output = Output::start(
        OutputConfig {
            plan,
            fragments: fragments(),
            sizes: SIZES,
            clips,
            rtsp,
        },
        tx,
    )
    .expect("outputs start");
    (output, rx)
}

/// A grey I420 frame at the test display size, brighter with `n`.
fn frame(n: u32) -> DisplayFrame {
    let (w, h) = (SIZES.display_width as usize, SIZES.display_height as usize);
    let mut buffer = gst::Buffer::with_size(w * h * 3 / 2).expect("buffer");
    {
        let mut map = buffer.get_mut().expect("writable").map_writable().expect("map");
        let luma = (n * 3 % 200) as u8 + 20;
        map[..w * h].fill(luma);
        map[w * h..].fill(128);
    }
    DisplayFrame { buffer, live: true }
}

fn push(output: &Output, frames: std::ops::Range<u32>) {
    for n in frames {
        output.push(&frame(n));
        // Paced like a camera, so the live appsrc never has to drop.
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn mp4s(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files
}

#[test]
fn the_annotated_mp4_decodes_back_with_every_frame() {
    let dir = temp_dir("mp4");
    let outputs = Outputs {
        mp4: Some(Mp4Output {
            dir: dir.clone(),
            split: Mp4Split::Part,
            segment_seconds: None,
        }),
        ..Outputs::default()
    };
    let (output, events) = start(outputs, Some(&dir), None, None);
    output.annotate(&Annotation {
        source: "test".into(),
        label: Some(("spacer".into(), 0.9)),
        step: Some(("spacer".into(), true)),
        expected_next: vec!["greased_disk".into()],
        part: Some(1),
        verdict: Some(("PASS".into(), Standing::Pass)),
        ..Annotation::default()
    });
    push(&output, 0..45);
    output.shutdown();
    assert!(!events.try_iter().any(|e| matches!(e, MediaEvent::OutputError { .. })));
    let files = mp4s(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(count_frames(&files[0]), 45);
}

#[test]
fn recordings_split_by_part_lose_no_frame() {
    let dir = temp_dir("split");
    let outputs = Outputs {
        mp4: Some(Mp4Output {
            dir: dir.clone(),
            split: Mp4Split::Part,
            segment_seconds: None,
        }),
        ..Outputs::default()
    };
    let (output, _events) = start(outputs, Some(&dir), None, None);
    push(&output, 0..40);
    output.split_recording();
    push(&output, 40..80);
    output.shutdown();
    let files = mp4s(&dir);
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(files.iter().map(|f| count_frames(f)).sum::<u64>(), 80);
}

#[test]
fn a_rejected_part_gets_a_clip_with_pre_roll() {
    let dir = temp_dir("clips");
    let clips = ClipSettings {
        dir: dir.clone(),
        pre_roll: Duration::from_millis(300),
        max: Duration::from_secs(60),
    };
    let (output, events) = start(Outputs::default(), None, Some(clips), None);
    push(&output, 0..100);
    output.part_started(7);
    push(&output, 100..140);
    let path = output.save_clip(7).expect("a clip is planned");
    let written = wait_for(&events, LIMIT, |e| {
        matches!(e, MediaEvent::ClipWritten { .. } | MediaEvent::ClipFailed { .. })
    });
    assert_eq!(
        written,
        MediaEvent::ClipWritten {
            part: 7,
            path: path.clone()
        }
    );
    let frames = count_frames(&path);
    // The part's 40 frames, plus pre-roll back to a keyframe; never the whole ring.
    assert!((40..140).contains(&frames), "{frames} frames in the clip");
    output.shutdown();
}

/// Frames at a camera's pace (20 ms apart), for `span`.
fn push_for(output: &Output, from: u32, span: Duration) -> u32 {
    let end = std::time::Instant::now() + span;
    let mut n = from;
    while std::time::Instant::now() < end {
        output.push(&frame(n));
        n += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    n
}

fn open_part(part: u32) -> Annotation {
    Annotation {
        source: "test".into(),
        part: Some(part),
        expected_next: vec!["complete_part".into()],
        strip: vec![
            ("base".into(), StepMark::Done),
            ("nut".into(), StepMark::Current),
            ("lid".into(), StepMark::Pending),
        ],
        ..Annotation::default()
    }
}

fn rejected(part: u32) -> Annotation {
    Annotation {
        verdict: Some((format!("REJECT #{part}"), Standing::Reject)),
        missing: vec!["nut".into(), "lid".into()],
        strip: vec![
            ("base".into(), StepMark::Done),
            ("nut".into(), StepMark::Missing),
            ("lid".into(), StepMark::Missing),
        ],
        ..open_part(part)
    }
}

/// The clip's frames from the first with the verdict on; asserts the
/// post-roll: the verdict and the strip's missing steps on screen from
/// there to the last frame, for about `POST_ROLL`.
fn assert_ends_with_the_verdict(path: &Path) {
    let frames = look_at_frames(path);
    assert!(!frames.is_empty(), "{}: no frames", path.display());
    assert_eq!(
        frames[0].verdict_red, 0,
        "no verdict before the part closed: {:?}",
        frames[0]
    );
    assert!(frames[0].strip_green > 0, "the open part's strip: {:?}", frames[0]);
    let verdict = frames
        .iter()
        .position(|f| f.verdict_red > 50)
        .unwrap_or_else(|| panic!("the verdict never shows: {frames:?}"));
    let after = &frames[verdict..];
    let last = frames.last().expect("a frame");
    let shown = last.pts.saturating_sub(frames[verdict].pts);
    assert!(
        shown >= POST_ROLL.mul_f64(0.85),
        "the verdict shows for {shown:?} at the clip's end; {} frames of {}",
        after.len(),
        frames.len()
    );
    for f in after {
        assert!(f.verdict_red > 50, "the verdict stays to the end: {f:?}");
        assert!(f.strip_red > 20, "the missing steps stay marked in the strip: {f:?}");
    }
    eprintln!(
        "{}: {} frames, {:?} long, the verdict on for the last {shown:?}",
        path.display(),
        frames.len(),
        last.pts.saturating_sub(frames[0].pts)
    );
}

#[test]
fn a_rejected_parts_clip_ends_with_its_verdict_on_screen() {
    let dir = temp_dir("verdict-clip");
    let clips = ClipSettings {
        dir: dir.clone(),
        pre_roll: Duration::from_millis(300),
        max: Duration::from_secs(60),
    };
    let (output, events) = start(Outputs::default(), None, Some(clips), None);
    output.annotate(&open_part(6));
    let n = push_for(&output, 0, Duration::from_millis(600));
    output.part_started(7);
    output.annotate(&open_part(7));
    let n = push_for(&output, n, Duration::from_millis(800));
    // As the engine does: the clip first, then the verdict's annotation.
    let path = output.save_clip(7).expect("a clip is planned");
    output.annotate(&rejected(7));
    let n = push_for(&output, n, Duration::from_millis(500));
    // The next part starts within the post-roll: the clip keeps the verdict.
    output.part_started(8);
    output.annotate(&open_part(8));
    push_for(&output, n, POST_ROLL);
    let written = wait_for(&events, LIMIT, |e| {
        matches!(e, MediaEvent::ClipWritten { .. } | MediaEvent::ClipFailed { .. })
    });
    assert_eq!(
        written,
        MediaEvent::ClipWritten {
            part: 7,
            path: path.clone()
        }
    );
    assert_ends_with_the_verdict(&path);
    output.shutdown();
}

#[test]
fn a_clip_gets_its_post_roll_when_the_input_ends_with_the_verdict() {
    let dir = temp_dir("last-clip");
    let clips = ClipSettings {
        dir: dir.clone(),
        pre_roll: Duration::from_millis(300),
        max: Duration::from_secs(60),
    };
    let (output, events) = start(Outputs::default(), None, Some(clips), None);
    output.part_started(3);
    output.annotate(&open_part(3));
    let n = push_for(&output, 0, Duration::from_millis(800));
    let path = output.save_clip(3).expect("a clip is planned");
    output.annotate(&rejected(3));
    push(&output, n..n + 2);
    // A file's end: the engine shuts the outputs down at once.
    let started = std::time::Instant::now();
    output.shutdown();
    assert!(started.elapsed() < POST_ROLL + LIMIT);
    let written = events
        .try_iter()
        .find(|e| matches!(e, MediaEvent::ClipWritten { .. } | MediaEvent::ClipFailed { .. }));
    assert_eq!(
        written,
        Some(MediaEvent::ClipWritten {
            part: 3,
            path: path.clone()
        })
    );
    assert_ends_with_the_verdict(&path);
}

#[test]
fn the_panel_reads_frames_from_the_video_ring() {
    let dir = temp_dir("ring");
    let ring = dir.join("video.ring");
    let outputs = Outputs {
        shm: Some(ShmOutput { path: ring.clone() }),
        ..Outputs::default()
    };
    let (output, _events) = start(outputs, None, None, None);
    push(&output, 0..10);
    std::thread::sleep(Duration::from_millis(300));
    let mut reader = actrec_shmring::RingReader::open(&ring).expect("ring");
    let mut pixels = Vec::new();
    let info = reader.latest(None, &mut pixels).expect("read").expect("a frame");
    assert_eq!((reader.geometry().width, reader.geometry().height), (320, 240));
    assert_eq!(pixels.len(), 320 * 240 * 4);
    assert!(info.number >= 5, "{info:?}");
    output.shutdown();
}

#[test]
fn the_rtp_stream_is_received_by_a_station() {
    let port = free_port();
    let stream = StreamOutput::Rtp {
        host: "127.0.0.1".parse().expect("ip"),
        port,
    };
    let (ingest, _events) = start_ingest(
        vec![(
            "upstream",
            Source::Rtp {
                port,
                multicast: None,
                caps: None,
            },
        )],
        "upstream",
    );
    let (output, _events) = start(
        Outputs {
            stream: Some(stream),
            ..Outputs::default()
        },
        None,
        None,
        None,
    );
    push(&output, 0..60);
    ingest.frames.recv_timeout(LIMIT).expect("frames over RTP");
    output.shutdown();
}

#[test]
fn the_rtsp_stream_is_served() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("tcp");
        listener.local_addr().expect("addr").port()
    };
    let stream = StreamOutput::Rtsp {
        port,
        path: "/annotated".into(),
    };
    let (output, _events) = start(
        Outputs {
            stream: Some(stream),
            ..Outputs::default()
        },
        None,
        None,
        Some((port, "/annotated".into())),
    );
    let feeding = std::thread::scope(|scope| {
        let feeder = scope.spawn(|| push(&output, 0..150));
        let source = Source::Rtsp {
            url: format!("rtsp://127.0.0.1:{port}/annotated"),
            latency_ms: 100,
        };
        let (ingest, _events) = start_ingest(vec![("station", source)], "station");
        let got = ingest.frames.recv_timeout(LIMIT).is_ok();
        feeder.join().is_ok() && got
    });
    assert!(feeding, "frames over RTSP");
    output.shutdown();
}
