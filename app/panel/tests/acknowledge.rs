//! Acknowledging a reject: the PIN typed on the keypad goes to the engine,
//! which checks it. A wrong PIN is shown in the dialog, which stays open; the
//! right one closes it.

mod common;

use actrec_ipc::{Standing, Status, ToEngine};
use actrec_panel::ui::{ControlAdapter, Overlay};
use actrec_panel::{Panel, Settings};
use common::{FakeEngine, PIN, button, eventually, labelled, press, run_ui, station, value, window};
use slint::ComponentHandle;

fn type_pin(app: &actrec_panel::ui::AppWindow, pin: &str) {
    for digit in pin.chars() {
        press(app, &digit.to_string());
    }
}

#[test]
fn a_wrong_pin_is_shown_and_the_right_one_closes_the_dialog() {
    let dir = common::TempDir::new("ack");
    let socket = dir.join("engine.sock");
    let engine = FakeEngine::start(
        &socket,
        Status {
            standing: Standing::Reject,
            headline: "REJECT #13".into(),
            detail: "missing spacer washer".into(),
            reject_waiting: true,
            ..station()
        },
    );
    run_ui(move || async move {
        let app = window(1280.0, 800.0);
        let _panel = Panel::start(&app, Settings { socket }).expect("panel");
        eventually("a reject waiting", || {
            button(&app, "Acknowledge reject").accessible_enabled() == Some(true)
        })
        .await;
        assert!(labelled(&app, "Supervisor PIN").is_empty(), "no dialog yet");

        press(&app, "Acknowledge reject");
        eventually("the PIN dialog", || !labelled(&app, "Supervisor PIN").is_empty()).await;
        assert_eq!(
            button(&app, "Confirm").accessible_enabled(),
            Some(false),
            "nothing typed yet"
        );

        // A wrong PIN, corrected on the keypad on the way.
        type_pin(&app, "98");
        press(&app, "Delete");
        type_pin(&app, "76");
        assert_eq!(value(&app, "PIN"), "3 digits");
        press(&app, "Confirm");
        eventually("the engine's answer", || value(&app, "PIN message") == "wrong PIN").await;
        assert_eq!(
            engine.received().last(),
            Some(&ToEngine::Acknowledge { pin: "976".into() })
        );
        assert!(!labelled(&app, "Supervisor PIN").is_empty(), "the dialog stays open");
        assert_eq!(value(&app, "PIN"), "0 digits", "the wrong PIN is cleared");
        assert_eq!(app.global::<ControlAdapter>().get_overlay(), Overlay::Pin);
        // The reject still waits.
        assert_eq!(button(&app, "Acknowledge reject").accessible_enabled(), Some(true));

        // Clear works, and typing clears the old message.
        type_pin(&app, "55");
        assert_eq!(value(&app, "PIN message"), "");
        press(&app, "Clear");
        assert_eq!(value(&app, "PIN"), "0 digits");

        // The right PIN.
        type_pin(&app, PIN);
        press(&app, "Confirm");
        eventually("the dialog closes", || labelled(&app, "Supervisor PIN").is_empty()).await;
        assert_eq!(
            engine.received().last(),
            Some(&ToEngine::Acknowledge { pin: PIN.into() })
        );
        assert_eq!(app.global::<ControlAdapter>().get_overlay(), Overlay::None);
        eventually("the reject acknowledged", || {
            button(&app, "Acknowledge reject").accessible_enabled() == Some(false)
        })
        .await;
        assert_eq!(value(&app, "Notice"), "Reject acknowledged");

        // Cancel closes without sending anything.
        engine.update(|s| s.reject_waiting = true);
        eventually("another reject", || {
            button(&app, "Acknowledge reject").accessible_enabled() == Some(true)
        })
        .await;
        press(&app, "Acknowledge reject");
        eventually("the PIN dialog again", || !labelled(&app, "Supervisor PIN").is_empty()).await;
        assert_eq!(value(&app, "PIN message"), "", "a fresh dialog");
        type_pin(&app, "12");
        let sent = engine.received().len();
        press(&app, "Cancel");
        eventually("closed", || labelled(&app, "Supervisor PIN").is_empty()).await;
        assert_eq!(engine.received().len(), sent);
    });
}
