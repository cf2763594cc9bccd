//! The ingest pipeline on real sources: files, RTP/UDP from a gst-launch
//! sender, RTSP from an in-process server, garbage packets, source switches.

mod common;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use actrec_core::config::{Pace, Source};
use actrec_media::event::MediaEvent;
use common::*;

const LIMIT: Duration = Duration::from_secs(20);

fn file(path: &std::path::Path, looping: bool) -> Source {
    Source::File {
        path: path.to_owned(),
        looping,
        pace: Pace::Fast,
    }
}

fn rtp(port: u16) -> Source {
    Source::Rtp {
        port,
        multicast: None,
        caps: None,
    }
}

#[test]
fn a_file_delivers_every_frame_with_its_timestamp() {
    let dir = temp_dir("file");
    let video = dir.join("clip.mp4");
    make_mp4(&video, 90, 640, 360);
    let (ingest, events) = start_ingest(vec![("clip", file(&video, false))], "clip");
    // A file waits for the engine (no frame of a file is ever dropped), so read as they come.
    let mut frames = Vec::new();
    while let Ok(frame) = ingest.frames.recv_timeout(Duration::from_secs(2)) {
        frames.push(frame);
    }
    wait_for(&events, LIMIT, |e| matches!(e, MediaEvent::SourceEnded { .. }));
    assert_eq!(frames.len(), 90);
    for (i, frame) in frames.iter().enumerate() {
        assert_eq!(frame.seq, i as u64);
        assert!((frame.t - i as f64 / 30.0).abs() < 1e-3, "frame {i} at t={}", frame.t);
        let pts = frame.pts.expect("timestamped").nseconds() as f64 / 1e9;
        assert!((pts - i as f64 / 30.0).abs() < 1e-3, "frame {i} pts {pts}");
        assert_eq!(frame.buffer.size(), 64 * 64 * 3, "square RGB at the model's size");
        assert_eq!(&*frame.source, "clip");
    }
}

#[test]
fn a_looping_file_keeps_station_time_going_forward() {
    let dir = temp_dir("loop");
    let video = dir.join("clip.mp4");
    make_mp4(&video, 15, 320, 240);
    let (ingest, _events) = start_ingest(vec![("clip", file(&video, true))], "clip");
    let frames: Vec<_> = (0..50)
        .map(|_| ingest.frames.recv_timeout(LIMIT).expect("frames keep coming"))
        .collect();
    for pair in frames.windows(2) {
        let step = pair[1].t - pair[0].t;
        assert!(
            (step - 1.0 / 30.0).abs() < 1e-3,
            "t steps by one frame across the loop, got {step}"
        );
    }
}

#[test]
fn corrupt_and_truncated_files_give_an_error_and_the_engine_goes_on() {
    let dir = temp_dir("corrupt");
    let garbage = dir.join("garbage.mp4");
    std::fs::write(&garbage, b"this is not a video at all, just bytes").expect("write");
    let good = dir.join("good.mp4");
    make_mp4(&good, 30, 320, 240);
    let truncated = dir.join("truncated.mp4");
    let bytes = std::fs::read(&good).expect("read");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");

    let (ingest, events) = start_ingest(
        vec![
            ("garbage", file(&garbage, false)),
            ("truncated", file(&truncated, false)),
            ("good", file(&good, false)),
        ],
        "garbage",
    );
    let error = wait_for(&events, LIMIT, |e| matches!(e, MediaEvent::SourceError { .. }));
    let MediaEvent::SourceError { source, message } = error else {
        unreachable!()
    };
    assert_eq!(source, "garbage");
    assert!(!message.is_empty());

    ingest.switch_source("truncated").expect("switch");
    let error = wait_for(&events, LIMIT, |e| matches!(e, MediaEvent::SourceError { .. }));
    assert!(
        matches!(&error, MediaEvent::SourceError { source, .. } if source == "truncated"),
        "{error:?}"
    );

    ingest.switch_source("good").expect("switch");
    let good: Vec<_> = std::iter::from_fn(|| ingest.frames.recv_timeout(Duration::from_secs(2)).ok())
        .filter(|f| &*f.source == "good")
        .collect();
    assert_eq!(good.len(), 30);
    wait_for(
        &events,
        LIMIT,
        |e| matches!(e, MediaEvent::SourceEnded { source } if source == "good"),
    );
}

#[test]
fn rtp_loss_is_reported_and_recovery_follows() {
    let port = free_port();
    let (ingest, events) = start_ingest(vec![("camera", rtp(port))], "camera");
    let sender = Sender::start(port);
    ingest.frames.recv_timeout(LIMIT).expect("frames from the sender");
    let _ = ingest.frames.try_iter().count();

    let stopped = Instant::now();
    sender.kill();
    wait_for(&events, LIMIT, |e| matches!(e, MediaEvent::SourceLost { .. }));
    // Reported here for the record; the 1 s goal is measured by `make bench`, not asserted.
    eprintln!("source_lost {} ms after the sender died", stopped.elapsed().as_millis());

    let _sender = Sender::start(port);
    wait_for(&events, LIMIT, |e| matches!(e, MediaEvent::SourceRestored { .. }));
    ingest.frames.recv_timeout(LIMIT).expect("frames again");
}

#[test]
fn garbage_udp_packets_crash_nothing() {
    let port = free_port();
    let (ingest, events) = start_ingest(vec![("camera", rtp(port))], "camera");
    let socket = UdpSocket::bind("127.0.0.1:0").expect("socket");
    let mut noise = 0x1234_5678u32;
    for size in [1usize, 12, 13, 100, 1400, 1472] {
        for _ in 0..50 {
            let packet: Vec<u8> = (0..size)
                .map(|_| {
                    noise ^= noise << 13;
                    noise ^= noise >> 17;
                    noise ^= noise << 5;
                    noise as u8
                })
                .collect();
            socket.send_to(&packet, ("127.0.0.1", port)).expect("send");
        }
    }
    // Valid RTP headers with garbage payload, too.
    for seq in 0..200u16 {
        let mut packet = vec![0x80, 96, (seq >> 8) as u8, seq as u8, 0, 0, 0, 0, 1, 2, 3, 4];
        packet.extend((0..200).map(|i| (i * 7 + seq as usize) as u8));
        socket.send_to(&packet, ("127.0.0.1", port)).expect("send");
    }
    let _sender = Sender::start(port);
    ingest
        .frames
        .recv_timeout(LIMIT)
        .expect("real frames after the garbage");
    assert!(
        !events.try_iter().any(|e| matches!(e, MediaEvent::SourceError { .. })),
        "garbage is dropped quietly"
    );
}

#[test]
fn an_rtsp_server_feeds_the_ingest() {
    use actrec_media::gst::glib;
    use gstreamer_rtsp_server::prelude::*;
    actrec_media::init().expect("gstreamer");
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("tcp");
        listener.local_addr().expect("addr").port()
    };
    let context = glib::MainContext::new();
    let main_loop = glib::MainLoop::new(Some(&context), false);
    let server = gstreamer_rtsp_server::RTSPServer::new();
    server.set_address("127.0.0.1");
    server.set_service(&port.to_string());
    let factory = gstreamer_rtsp_server::RTSPMediaFactory::new();
    factory.set_launch(
        "( videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! rtph264pay name=pay0 pt=96 )",
    );
    factory.set_shared(true);
    server.mount_points().expect("mounts").add_factory("/test", factory);
    server.attach(Some(&context)).expect("serve");
    let running = main_loop.clone();
    let serving = std::thread::spawn(move || {
        let _guard = context.acquire();
        running.run();
    });

    let source = Source::Rtsp {
        url: format!("rtsp://127.0.0.1:{port}/test"),
        latency_ms: 100,
    };
    let (ingest, _events) = start_ingest(vec![("ip_camera", source)], "ip_camera");
    let frame = ingest.frames.recv_timeout(LIMIT).expect("frames over RTSP");
    assert_eq!(&*frame.source, "ip_camera");
    drop(ingest);
    main_loop.quit();
    serving.join().expect("server thread");
}

#[test]
fn the_source_switches_mid_run() {
    let dir = temp_dir("switch");
    let video = dir.join("clip.mp4");
    make_mp4(&video, 30, 320, 240);
    let test = Source::Test {
        pattern: "smpte".into(),
    };
    let (ingest, events) = start_ingest(vec![("pattern", test), ("clip", file(&video, false))], "pattern");
    let first = ingest.frames.recv_timeout(LIMIT).expect("test frames");
    assert_eq!(&*first.source, "pattern");
    assert!(ingest.switch_source("nope").is_err(), "unknown sources are refused");
    ingest.switch_source("clip").expect("switch");
    wait_for(
        &events,
        LIMIT,
        |e| matches!(e, MediaEvent::SourceSwitched { from, to } if from == "pattern" && to == "clip"),
    );
    let frames: Vec<_> = std::iter::from_fn(|| ingest.frames.recv_timeout(Duration::from_secs(2)).ok()).collect();
    wait_for(
        &events,
        LIMIT,
        |e| matches!(e, MediaEvent::SourceEnded { source } if source == "clip"),
    );
    let clip: Vec<_> = frames.iter().filter(|f| &*f.source == "clip").collect();
    assert_eq!(clip.len(), 30);
    assert!(
        frames.windows(2).all(|w| w[1].t >= w[0].t),
        "station time never goes back across the switch"
    );
}

#[test]
fn frames_the_engine_cannot_take_are_counted_and_reported() {
    let test = Source::Test {
        pattern: "smpte".into(),
    };
    let (ingest, events) = start_ingest(vec![("pattern", test)], "pattern");
    // The engine "stalls": nobody reads frames, so the bounded queue fills and a live source must drop.
    let dropped = wait_for(&events, LIMIT, |e| matches!(e, MediaEvent::FramesDropped { .. }));
    let MediaEvent::FramesDropped {
        source, count, total, ..
    } = dropped
    else {
        unreachable!()
    };
    assert_eq!(source, "pattern");
    assert!(count > 0 && total >= count);
    drop(ingest);
}
