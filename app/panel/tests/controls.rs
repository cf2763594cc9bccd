//! The station's controls against a fake engine: switching the source (and
//! a source the engine refuses), selecting a sequence, exporting to a USB
//! stick until "safe to remove", the step log and cycle-time chart filled
//! from the engine's events, the video from its ring, and the info page.

mod common;

use std::path::PathBuf;

use actrec_ipc::{Export, ExportState, Progress, Status, ToEngine};
use actrec_panel::ui::{ChartAdapter, ControlAdapter, LogAdapter, Overlay, StationAdapter};
use actrec_panel::{Panel, Settings};
use actrec_shmring::{Geometry, RingWriter};
use common::{
    FakeEngine, button, description, eventually, has_button, labelled, press, run_ui, station, value, window,
};
use serde_json::json;
use slint::{ComponentHandle, Model};

#[test]
fn source_sequence_and_export_reach_the_engine() {
    let dir = common::TempDir::new("controls");
    let socket = dir.join("engine.sock");
    let ring = dir.join("video.ring");
    let mut video = RingWriter::create(
        &ring,
        Geometry {
            width: 4,
            height: 2,
            slots: 2,
        },
        1,
    )
    .expect("ring");
    let engine = FakeEngine::start(
        &socket,
        Status {
            video: Some(ring),
            sticks: vec![PathBuf::from("/media/usb0")],
            expected_next: vec!["greased_disk".into()],
            progress: Some(Progress {
                done: 3,
                total: 7,
                repeat: Some((2, 4)),
            }),
            ..station()
        },
    );
    // What happened before the panel came: replayed on its `Sync`.
    engine.history(vec![
        json!({"kind":"step","t":10.0,"part":4,"step":"base","p":0.97,"status":"ok"}),
        json!({"kind":"step","t":14.5,"part":4,"step":"nut","p":0.88,"status":"error","expected":["spacer_washer"]}),
        json!({"kind":"source_switched","source":"camera-1"}),
        json!({"kind":"part","t":20.0,"part":4,"verdict":"reject","missing":["spacer_washer"],"errors":1}),
    ]);
    run_ui(move || async move {
        let app = window(1920.0, 1080.0);
        let _panel = Panel::start(&app, Settings { socket }).expect("panel");
        eventually("connected", || value(&app, "Engine link") == "Engine connected").await;

        // The video: a frame written to the ring the status names is shown.
        let mut frame = [0u8; 32];
        frame[..4].copy_from_slice(&[10, 20, 30, 0]);
        video.write(1, &frame).expect("a frame");
        eventually("the video", || app.global::<StationAdapter>().get_video_live()).await;
        let image = app.global::<StationAdapter>().get_video();
        assert_eq!((image.size().width, image.size().height), (4, 2));
        let pixels = image.to_rgb8().expect("rgb");
        assert_eq!(
            (pixels.as_slice()[0].r, pixels.as_slice()[0].b),
            (30, 10),
            "BGRx to RGB"
        );

        // The replayed history: the log, the missing-step summary, the chart.
        eventually("the last part's summary", || {
            value(&app, "Last part") == "Part 4 REJECT: missing spacer washer; 1 wrong step"
        })
        .await;
        let rows = app.global::<LogAdapter>().get_rows();
        let steps: Vec<_> = rows
            .iter()
            .map(|r| (r.step.to_string(), r.status.to_string()))
            .collect();
        assert_eq!(
            steps,
            [
                ("closed".into(), "REJECT: missing spacer washer".into()),
                ("nut".into(), "WRONG, expected spacer washer".into()),
                ("base".into(), "ok".into()),
            ]
        );
        let bars = app.global::<ChartAdapter>().get_bars();
        assert_eq!(bars.row_count(), 1);
        let bar = bars.row_data(0).expect("a bar");
        assert_eq!(
            (bar.part.as_str(), bar.total, bar.label.as_str()),
            ("4", 10.0, "10.0 s")
        );
        assert_eq!(bar.segments.iter().map(|s| s.seconds).collect::<Vec<_>>(), [4.5, 5.5]);
        assert_eq!(value(&app, "Sequence progress"), "3 of 7 steps");
        assert_eq!(description(&app, "Sequence progress"), "next: greased disk");

        // A live step and a closing part.
        engine.event(json!({"kind":"step","t":30.0,"part":5,"step":"base","p":0.91,"status":"ok"}));
        engine.event(json!({"kind":"step","t":36.0,"part":5,"step":"cover","p":0.93,"status":"ok"}));
        engine.event(json!({"kind":"part","t":36.0,"part":5,"verdict":"pass","missing":[],"errors":0}));
        eventually("the pass", || value(&app, "Last part") == "Part 5 PASS").await;
        assert_eq!(app.global::<ChartAdapter>().get_bars().row_count(), 2);
        assert_eq!(app.global::<ChartAdapter>().get_mean_text(), "mean 8.0 s over 2 parts");

        // Source switch: the picker, then the engine's command.
        assert_eq!(description(&app, "Source"), "camera-1");
        press(&app, "Source");
        eventually("the source picker", || has_button(&app, "camera-2")).await;
        assert_eq!(app.global::<ControlAdapter>().get_overlay(), Overlay::Sources);
        press(&app, "camera-2");
        eventually("the switch reached the engine", || {
            engine.received().contains(&ToEngine::SwitchSource {
                source: "camera-2".into(),
            })
        })
        .await;
        assert!(!has_button(&app, "camera-2"), "the picker closed");
        eventually("the new source shown", || description(&app, "Source") == "camera-2").await;

        // A source the engine cannot open: its error on screen.
        press(&app, "Source");
        eventually("the source picker", || has_button(&app, "broken")).await;
        press(&app, "broken");
        eventually("the refusal shown", || {
            value(&app, "Notice") == "Source not switched: cannot open source broken"
        })
        .await;
        assert_eq!(description(&app, "Source"), "camera-2");

        // Sequence.
        press(&app, "Sequence");
        eventually("the sequence picker", || has_button(&app, "demo-assembly-v2")).await;
        press(&app, "demo-assembly-v2");
        eventually("the sequence selected", || {
            description(&app, "Sequence") == "demo-assembly-v2"
        })
        .await;
        assert!(engine.received().contains(&ToEngine::SelectSequence {
            name: "demo-assembly-v2".into()
        }));

        // Export: the command, the progress, then "safe to remove".
        assert_eq!(description(&app, "Export to USB"), "usb0");
        assert!(labelled(&app, "Export status").is_empty());
        press(&app, "Export to USB");
        eventually("the export reached the engine", || {
            engine.received().contains(&ToEngine::Export { to: None })
        })
        .await;
        eventually("the export running", || {
            value(&app, "Export status").starts_with("Exporting rows 0/10")
        })
        .await;
        assert_eq!(
            button(&app, "Export to USB").accessible_enabled(),
            Some(false),
            "not twice at once"
        );
        // The engine says it twice, as an event and in its next status.
        engine.event(json!({"kind":"export_progress","phase":"rows","done":5,"total":10}));
        engine.update(|s| {
            s.export = Some(Export {
                to: "/media/usb0".into(),
                state: ExportState::Running {
                    phase: "rows".into(),
                    done: 5,
                    total: 10,
                },
            });
        });
        eventually("progress", || {
            value(&app, "Export status").starts_with("Exporting rows 5/10")
        })
        .await;
        assert_eq!(app.global::<ControlAdapter>().get_export_fraction(), 0.5);
        engine.update(|s| {
            s.export = Some(Export {
                to: "/media/usb0".into(),
                state: ExportState::Done {
                    folder: "/media/usb0/actrec-export".into(),
                    rows: 42,
                },
            });
        });
        eventually("safe to remove", || {
            value(&app, "Export status").contains("Safe to remove the USB stick")
        })
        .await;
        assert!(value(&app, "Export status").contains("42 rows in /media/usb0/actrec-export"));
        press(&app, "Dismiss");
        eventually("dismissed", || labelled(&app, "Export status").is_empty()).await;

        // The stick pulled: no export, and the button says why.
        engine.update(|s| {
            s.sticks.clear();
            s.export = None;
        });
        eventually("no stick", || description(&app, "Export to USB") == "No USB stick").await;
        assert_eq!(button(&app, "Export to USB").accessible_enabled(), Some(false));

        // The info page.
        press(&app, "Info");
        eventually("the info page", || value(&app, "Station") == "Test station").await;
        assert_eq!(value(&app, "GPU"), "none");
        assert_eq!(value(&app, "Engine version"), "0.1.0-test");
        assert_eq!(value(&app, "Panel version"), env!("CARGO_PKG_VERSION"));
        press(&app, "Back");
        eventually("back", || labelled(&app, "Station").is_empty()).await;
    });
}
