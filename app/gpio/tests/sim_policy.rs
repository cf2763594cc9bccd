//! The light and relay policy, end to end through the sim backend: what the
//! station shows is checked in the sim's record file.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use actrec_core::config::RejectMode;
use actrec_core::light::{FaultKind, Health, LastVerdict, StationState};
use actrec_gpio::sim::{LineState, SimLines};
use actrec_gpio::{Actuators, Line, OutputLines, Settings};
use common::{changes, final_levels, levels, safe_levels, temp_dir};

use Line::{Amber, Buzzer, Green, Heartbeat, Red, Reject};

fn settings(mode: RejectMode) -> Settings {
    Settings {
        reject_mode: mode,
        pulse: Duration::from_millis(300),
        blink_period: Duration::from_millis(1000),
    }
}

fn ms(t0: Instant, n: u64) -> Instant {
    t0 + Duration::from_millis(n)
}

const IN_PROGRESS: StationState = StationState {
    part_in_progress: true,
    ..StationState::START
};

fn after(verdict: LastVerdict) -> StationState {
    StationState {
        last_verdict: verdict,
        reject_unacknowledged: verdict == LastVerdict::Reject,
        ..StationState::START
    }
}

#[test]
fn the_sim_starts_safe_and_records_every_line() {
    let dir = temp_dir("sim-start");
    let path = dir.join("data/gpio-sim.jsonl");
    let sim = SimLines::create(Some(&path)).unwrap();
    assert_eq!(sim.path(), Some(path.as_path()));
    let records = SimLines::read_records(&path).unwrap();
    assert_eq!(records.len(), 6, "{records:?}");
    assert_eq!(final_levels(&path), safe_levels());
    assert_eq!(
        changes(&path),
        vec![
            (Green, false),
            (Amber, false),
            (Red, true),
            (Buzzer, false),
            (Reject, true),
            (Heartbeat, false)
        ]
    );
    // Each record is one JSON object with time, line and state.
    let text = std::fs::read_to_string(&path).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["line"], "green");
    assert_eq!(first["state"], "off");
    assert!(first["unix_ms"].as_u64().unwrap() > 1_600_000_000_000);
    assert!(first["t_ms"].is_u64());
    // A set that changes nothing is not recorded.
    sim.set(Red, true).unwrap();
    assert_eq!(SimLines::read_records(&path).unwrap().len(), 6);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_good_part_goes_amber_then_green() {
    let dir = temp_dir("sim-good");
    let path = dir.join("gpio.jsonl");
    let sim = Arc::new(SimLines::create(Some(&path)).unwrap());
    let t0 = Instant::now();
    let mut outputs = Actuators::new(sim.clone(), settings(RejectMode::Latch), t0).unwrap();

    outputs.apply(&StationState::START, ms(t0, 10)).unwrap();
    let waiting = levels(&[
        (Green, false),
        (Amber, true),
        (Red, false),
        (Buzzer, false),
        (Reject, false),
        (Heartbeat, false),
    ]);
    assert_eq!(final_levels(&path), waiting);

    outputs.apply(&IN_PROGRESS, ms(t0, 20)).unwrap();
    assert_eq!(final_levels(&path), waiting, "a part in progress is amber too");

    outputs.apply(&after(LastVerdict::Pass), ms(t0, 30)).unwrap();
    assert_eq!(
        final_levels(&path),
        levels(&[
            (Green, true),
            (Amber, false),
            (Red, false),
            (Buzzer, false),
            (Reject, false),
            (Heartbeat, false)
        ])
    );
    // Start (safe), then: amber on, red off, reject off; then green on, amber off.
    assert_eq!(
        changes(&path)[6..],
        [
            (Amber, true),
            (Red, false),
            (Reject, false),
            (Green, true),
            (Amber, false)
        ]
    );
    drop(outputs);
    assert_eq!(final_levels(&path), safe_levels(), "safe after drop");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_latched_reject_blinks_red_and_sounds_until_acknowledged() {
    let dir = temp_dir("sim-latch");
    let path = dir.join("gpio.jsonl");
    let sim = Arc::new(SimLines::create(Some(&path)).unwrap());
    let events = sim.subscribe();
    let t0 = Instant::now();
    let mut outputs = Actuators::new(sim.clone(), settings(RejectMode::Latch), t0).unwrap();
    outputs.apply(&IN_PROGRESS, ms(t0, 10)).unwrap();

    // The verdict is committed; the relay fires, then the state is applied.
    outputs.reject(ms(t0, 1000)).unwrap();
    assert_eq!(sim.level(Reject), Some(true));
    let rejected = after(LastVerdict::Reject);
    outputs.apply(&rejected, ms(t0, 1000)).unwrap();
    assert_eq!(sim.level(Red), Some(true), "a new blink starts lit");
    assert_eq!(sim.level(Buzzer), Some(true));
    assert_eq!(sim.level(Amber), Some(false));
    assert_eq!(sim.level(Green), Some(false));

    // Blinking: off for the second half of each period, on again after.
    outputs.tick(ms(t0, 1499)).unwrap();
    assert_eq!(sim.level(Red), Some(true));
    outputs.tick(ms(t0, 1500)).unwrap();
    assert_eq!(sim.level(Red), Some(false));
    outputs.tick(ms(t0, 2000)).unwrap();
    assert_eq!(sim.level(Red), Some(true));
    assert_eq!(sim.level(Buzzer), Some(true), "the buzzer is continuous");

    // Latched: still held long after.
    outputs.tick(ms(t0, 60_000)).unwrap();
    assert_eq!(sim.level(Reject), Some(true));

    outputs.acknowledge(ms(t0, 61_000)).unwrap();
    let acknowledged = StationState {
        reject_unacknowledged: false,
        ..rejected
    };
    outputs.apply(&acknowledged, ms(t0, 61_000)).unwrap();
    assert_eq!(
        final_levels(&path),
        levels(&[
            (Green, false),
            (Amber, true),
            (Red, false),
            (Buzzer, false),
            (Reject, false),
            (Heartbeat, false)
        ]),
        "acknowledged: waiting for the next part"
    );

    // After the safe start, in order: waiting (amber), the reject (relay,
    // then red and buzzer), red blinking, released on acknowledgement.
    let all = changes(&path);
    let from_reject = &all[6..];
    assert_eq!(
        from_reject,
        [
            (Amber, true),
            (Red, false),
            (Reject, false),
            (Reject, true),
            (Amber, false),
            (Red, true),
            (Buzzer, true),
            (Red, false),
            (Red, true),
            (Amber, true),
            (Red, false),
            (Buzzer, false),
            (Reject, false),
        ]
    );
    // The event stream saw the same changes as the file.
    let streamed: Vec<(Line, bool)> = events.try_iter().map(|e| (e.line, e.state == LineState::On)).collect();
    assert_eq!(streamed, from_reject);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_pulsed_reject_releases_after_the_pulse() {
    let dir = temp_dir("sim-pulse");
    let path = dir.join("gpio.jsonl");
    let sim = Arc::new(SimLines::create(Some(&path)).unwrap());
    let t0 = Instant::now();
    let mut outputs = Actuators::new(sim.clone(), settings(RejectMode::Pulse), t0).unwrap();
    outputs.apply(&IN_PROGRESS, ms(t0, 10)).unwrap();
    assert_eq!(sim.level(Reject), Some(false));

    outputs.reject(ms(t0, 1000)).unwrap();
    outputs.apply(&after(LastVerdict::Reject), ms(t0, 1000)).unwrap();
    assert_eq!(sim.level(Reject), Some(true));
    outputs.tick(ms(t0, 1299)).unwrap();
    assert_eq!(sim.level(Reject), Some(true), "still within the 300 ms pulse");
    outputs.tick(ms(t0, 1300)).unwrap();
    assert_eq!(sim.level(Reject), Some(false), "the pulse is over");
    // In pulse mode the line runs on, but the buzzer sounds until acknowledged.
    assert_eq!(sim.level(Buzzer), Some(true));

    // A second reject: a second pulse, recorded after the first one's end.
    outputs.reject(ms(t0, 5000)).unwrap();
    outputs.tick(ms(t0, 5300)).unwrap();
    let relay: Vec<bool> = changes(&path)
        .into_iter()
        .filter(|(line, _)| *line == Reject)
        .map(|(_, on)| on)
        .collect();
    // safe (on), released by the first apply, two pulses.
    assert_eq!(relay, [true, false, true, false, true, false]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_fault_shows_steady_red_holds_the_relay_and_beeps() {
    for kind in FaultKind::ALL {
        for mode in [RejectMode::Latch, RejectMode::Pulse] {
            let dir = temp_dir(&format!("sim-fault-{}-{mode:?}", kind.as_str()));
            let path = dir.join("gpio.jsonl");
            let sim = Arc::new(SimLines::create(Some(&path)).unwrap());
            let t0 = Instant::now();
            let mut outputs = Actuators::new(sim.clone(), settings(mode), t0).unwrap();
            outputs.apply(&after(LastVerdict::Pass), ms(t0, 10)).unwrap();
            assert_eq!(sim.level(Green), Some(true));

            let fault = StationState {
                health: Health::Fault(kind),
                ..after(LastVerdict::Pass)
            };
            outputs.apply(&fault, ms(t0, 1000)).unwrap();
            let expect = |buzzer: bool| {
                levels(&[
                    (Green, false),
                    (Amber, false),
                    (Red, true),
                    (Buzzer, buzzer),
                    (Reject, true),
                    (Heartbeat, false),
                ])
            };
            assert_eq!(final_levels(&path), expect(true), "{kind:?} {mode:?}");
            outputs.tick(ms(t0, 1500)).unwrap();
            assert_eq!(final_levels(&path), expect(false), "intermittent buzzer, {kind:?}");
            outputs.tick(ms(t0, 2000)).unwrap();
            assert_eq!(final_levels(&path), expect(true), "steady red, {kind:?}");

            // The fault clears: back to green, relay released.
            outputs.apply(&after(LastVerdict::Pass), ms(t0, 3000)).unwrap();
            assert_eq!(sim.level(Green), Some(true));
            assert_eq!(sim.level(Red), Some(false));
            assert_eq!(sim.level(Reject), Some(false));
            drop(outputs);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

#[test]
fn the_heartbeat_toggles_once_per_call() {
    let dir = temp_dir("sim-heartbeat");
    let path = dir.join("gpio.jsonl");
    let sim = Arc::new(SimLines::create(Some(&path)).unwrap());
    let mut outputs = Actuators::new(sim.clone(), Settings::default(), Instant::now()).unwrap();
    for _ in 0..5 {
        outputs.heartbeat().unwrap();
    }
    let beats: Vec<bool> = changes(&path)
        .into_iter()
        .filter(|(line, _)| *line == Heartbeat)
        .map(|(_, on)| on)
        .collect();
    assert_eq!(beats, [false, true, false, true, false, true]);
    outputs.shutdown().unwrap();
    assert!(outputs.is_tripped());
    // After shutdown, nothing but safe levels is written.
    outputs.heartbeat().unwrap();
    outputs.apply(&after(LastVerdict::Pass), Instant::now()).unwrap();
    assert_eq!(final_levels(&path), safe_levels());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_ticker_blinks_without_the_caller() {
    let dir = temp_dir("sim-ticker");
    let path = dir.join("gpio.jsonl");
    let sim = Arc::new(SimLines::create(Some(&path)).unwrap());
    let events = sim.subscribe();
    let settings = Settings {
        blink_period: Duration::from_millis(200),
        ..Settings::default()
    };
    let mut outputs = Actuators::new(sim.clone(), settings, Instant::now()).unwrap();
    let low = StationState {
        low_confidence: true,
        ..StationState::START
    };
    outputs.apply(&low, Instant::now()).unwrap();
    let outputs = Arc::new(std::sync::Mutex::new(outputs));
    let ticker = actrec_gpio::Ticker::spawn(outputs.clone()).unwrap();
    // Liveness, not timing: wait (generously) for amber to go off and on again.
    let mut amber = Vec::new();
    while amber.len() < 3 {
        match events.recv_timeout(Duration::from_secs(30)) {
            Ok(e) if e.line == Amber => amber.push(e.state.is_on()),
            Ok(_) => {}
            Err(e) => panic!("no blink from the ticker: {e}; amber so far {amber:?}"),
        }
    }
    assert_eq!(amber[..2], [true, false]);
    ticker.stop();
    drop(outputs);
    assert_eq!(final_levels(&path), safe_levels());
    let _ = std::fs::remove_dir_all(&dir);
}
