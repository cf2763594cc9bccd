//! The link to the engine on screen: "Waiting for engine…" with the socket
//! until an engine appears, the big indicator following the engine's
//! standing (text and colour), waiting again when the engine goes, and a
//! protocol mismatch explained.

mod common;

use actrec_ipc::Standing;
use actrec_panel::ui::{Indicator, StationAdapter, Theme};
use actrec_panel::{Panel, Settings};
use common::{FakeEngine, NewerEngine, description, eventually, run_ui, station, value, window};
use slint::{Color, ComponentHandle};

#[test]
fn waits_for_the_engine_then_follows_its_standing() {
    let dir = common::TempDir::new("link");
    let socket = dir.join("engine.sock");
    run_ui(move || async move {
        let app = window(1024.0, 600.0);
        let _panel = Panel::start(&app, Settings { socket: socket.clone() }).expect("panel");

        // No socket yet.
        eventually("waiting for the engine", || {
            value(&app, "Part status") == "Waiting for engine…"
        })
        .await;
        let detail = description(&app, "Part status");
        assert!(
            detail.contains(&socket.display().to_string()),
            "the socket is named: {detail}"
        );
        assert_eq!(value(&app, "Engine link"), "Waiting for engine…");
        assert_eq!(app.global::<StationAdapter>().get_indicator(), Indicator::Offline);
        assert!(
            !common::button(&app, "Acknowledge reject")
                .accessible_enabled()
                .unwrap_or(true)
        );

        // An engine appears: the panel finds it by itself.
        let engine = FakeEngine::start(&socket, station());
        eventually("connected", || value(&app, "Engine link") == "Engine connected").await;
        eventually("the engine's standing", || value(&app, "Part status") == "INSPECTING").await;

        let theme = app.global::<Theme>();
        let cases = [
            (
                Standing::Pass,
                "PASS #12",
                "",
                Indicator::Pass,
                Color::from_rgb_u8(0x12, 0xa1, 0x50),
            ),
            (
                Standing::Warning,
                "WARNING #13",
                "steps out of order",
                Indicator::Warning,
                Color::from_rgb_u8(0xf5, 0xa3, 0x00),
            ),
            (
                Standing::Reject,
                "REJECT #13",
                "missing spacer washer",
                Indicator::Reject,
                Color::from_rgb_u8(0xe0, 0x28, 0x1b),
            ),
            (
                Standing::NoVideo,
                "NO VIDEO",
                "camera-1 lost",
                Indicator::NoVideo,
                theme.get_no_video(),
            ),
            (
                Standing::Fault,
                "FAULT",
                "inference stalled",
                Indicator::Fault,
                theme.get_fault(),
            ),
            (Standing::Idle, "", "", Indicator::Inspecting, theme.get_inspecting()),
        ];
        for (standing, headline, detail, kind, colour) in cases {
            engine.update(|s| {
                s.standing = standing;
                s.headline = headline.into();
                s.detail = detail.into();
            });
            let shown = if headline.is_empty() { "INSPECTING" } else { headline };
            eventually(&format!("{standing:?} shown"), || {
                value(&app, "Part status") == shown && description(&app, "Part status") == detail
            })
            .await;
            let indicator = app.global::<StationAdapter>().get_indicator();
            assert_eq!(indicator, kind, "{standing:?}");
            assert_eq!(theme.invoke_indicator_color(indicator), colour, "{standing:?}");
        }
        // Green, amber and red are not each other, nor the no-video grey.
        let colours: Vec<_> = [
            Indicator::Pass,
            Indicator::Warning,
            Indicator::Reject,
            Indicator::NoVideo,
            Indicator::Fault,
        ]
        .into_iter()
        .map(|k| theme.invoke_indicator_color(k))
        .collect();
        for (i, a) in colours.iter().enumerate() {
            assert!(colours[i + 1..].iter().all(|b| b != a), "distinct colours");
        }

        // The engine goes (a crash, a restart): waiting again, and a stale PASS does not stay up.
        engine.update(|s| s.standing = Standing::Pass);
        eventually("pass", || {
            app.global::<StationAdapter>().get_indicator() == Indicator::Pass
        })
        .await;
        drop(engine);
        eventually("waiting again", || value(&app, "Part status") == "Waiting for engine…").await;
        assert_eq!(app.global::<StationAdapter>().get_indicator(), Indicator::Offline);

        // It comes back: connected again without a restart of the panel.
        let engine = FakeEngine::start(&socket, station());
        eventually("reconnected", || value(&app, "Engine link") == "Engine connected").await;
        eventually("synced", || {
            engine.received().first() == Some(&actrec_ipc::ToEngine::Sync)
        })
        .await;
        drop(engine);

        // An engine of a newer protocol: the mismatch is shown, with its message.
        eventually("the old socket is gone", || !socket.exists()).await;
        let _newer = NewerEngine::start(&socket);
        eventually("the mismatch shown", || {
            value(&app, "Part status") == "VERSION MISMATCH"
        })
        .await;
        let message = description(&app, "Part status");
        assert!(message.contains("speaks protocol"), "{message}");
        assert!(message.contains("update the older one"), "{message}");
        assert_eq!(value(&app, "Engine link"), "Engine refused this panel");
    });
}
