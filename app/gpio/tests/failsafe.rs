//! Fail-safe: the lines are safe after a drop, after a panic unwinds past
//! the outputs, and after a panic anywhere once the panic hook is installed,
//! and they stay safe. Panic hooks are per process, so the hook is tested in
//! child processes: this test binary run again with an environment variable
//! naming what the child does.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actrec_core::light::{LastVerdict, StationState};
use actrec_gpio::sim::SimLines;
use actrec_gpio::{Actuators, Line, OutputLines, Settings, Ticker};
use common::{changes, final_levels, safe_levels, temp_dir};

const CHILD: &str = "ACTREC_IO_FAILSAFE_CHILD";
const FILE: &str = "ACTREC_IO_FAILSAFE_FILE";

const PASSED: StationState = StationState {
    last_verdict: LastVerdict::Pass,
    ..StationState::START
};

fn running(path: &Path, settings: Settings) -> (Arc<SimLines>, Actuators) {
    let sim = Arc::new(SimLines::create(Some(path)).unwrap());
    let mut outputs = Actuators::new(sim.clone(), settings, Instant::now()).unwrap();
    outputs.apply(&PASSED, Instant::now()).unwrap();
    outputs.heartbeat().unwrap();
    assert_eq!(sim.level(Line::Green), Some(true));
    assert_eq!(sim.level(Line::Reject), Some(false));
    (sim, outputs)
}

#[test]
fn lines_are_safe_after_drop() {
    let dir = temp_dir("drop");
    let path = dir.join("gpio.jsonl");
    let (sim, outputs) = running(&path, Settings::default());
    drop(outputs);
    assert_eq!(final_levels(&path), safe_levels());
    // The backend alone drives safe on drop too.
    sim.set(Line::Green, true).unwrap();
    sim.set(Line::Reject, false).unwrap();
    drop(sim);
    assert_eq!(final_levels(&path), safe_levels());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_panic_unwinding_past_the_outputs_leaves_the_lines_safe() {
    let dir = temp_dir("unwind");
    let path = dir.join("gpio.jsonl");
    let sim = Arc::new(SimLines::create(Some(&path)).unwrap());
    let result = std::panic::catch_unwind({
        let sim = sim.clone();
        move || {
            let mut outputs = Actuators::new(sim.clone(), Settings::default(), Instant::now()).unwrap();
            outputs.apply(&PASSED, Instant::now()).unwrap();
            assert_eq!(sim.level(Line::Green), Some(true));
            panic!("the engine fails while the station shows green");
        }
    });
    assert!(result.is_err());
    assert_eq!(final_levels(&path), safe_levels());
    assert!(changes(&path).contains(&(Line::Green, true)), "it was green before");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs this binary's `test` alone in a child with `CHILD=mode`.
fn child(test: &str, mode: &str, path: &Path) -> std::process::Output {
    Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, mode)
        .env(FILE, path)
        .output()
        .unwrap()
}

/// The child's side: does nothing in a normal test run.
#[test]
fn child_engine() {
    let Ok(mode) = std::env::var(CHILD) else { return };
    let path = std::path::PathBuf::from(std::env::var(FILE).unwrap());
    let settings = Settings {
        blink_period: Duration::from_millis(100),
        ..Settings::default()
    };
    let (_sim, outputs) = running(&path, settings);
    outputs.install_panic_hook();
    match mode.as_str() {
        "thread" => {
            // A blinking amber with the ticker writing all the time, and a
            // panic in another thread.
            let outputs = Arc::new(Mutex::new(outputs));
            let low = StationState {
                low_confidence: true,
                ..PASSED
            };
            outputs.lock().unwrap().apply(&low, Instant::now()).unwrap();
            let ticker = Ticker::spawn(outputs.clone()).unwrap();
            std::thread::sleep(Duration::from_millis(150));
            let worker = std::thread::spawn(|| panic!("a worker thread fails"));
            assert!(worker.join().is_err());
            let len = std::fs::metadata(&path).unwrap().len();
            println!("FILE_LEN_AFTER_PANIC={len}");
            // The engine goes on as if nothing happened: nothing is written.
            std::thread::sleep(Duration::from_millis(400));
            let mut guard = outputs.lock().unwrap();
            guard.apply(&PASSED, Instant::now()).unwrap();
            guard.heartbeat().unwrap();
            assert!(guard.is_tripped());
            drop(guard);
            drop(ticker);
            // Exit without running any destructor: only the hook made them safe.
            std::process::exit(0);
        }
        "main" => {
            // The outputs are leaked, so no drop can run: only the hook.
            let _leaked: &'static mut Actuators = Box::leak(Box::new(outputs));
            panic!("the main thread fails");
        }
        other => panic!("unknown child mode {other}"),
    }
}

#[test]
fn a_panic_in_any_thread_drives_the_lines_safe_through_the_hook_and_keeps_them_so() {
    let dir = temp_dir("hook-thread");
    let path = dir.join("gpio.jsonl");
    let out = child("child_engine", "thread", &path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("a worker thread fails"), "{stderr}");
    assert!(stderr.contains("output lines driven safe"), "{stderr}");
    let all = changes(&path);
    assert!(all.contains(&(Line::Green, true)), "{all:?}");
    assert!(
        all.contains(&(Line::Amber, false)) && all.contains(&(Line::Amber, true)),
        "amber blinked"
    );
    assert_eq!(final_levels(&path), safe_levels());
    // Not one write after the hook: not the ticker's, not the engine's.
    let len: u64 = stdout
        .split_once("FILE_LEN_AFTER_PANIC=")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{stdout}"))
        .parse()
        .unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_panic_that_ends_the_process_leaves_the_lines_safe() {
    let dir = temp_dir("hook-main");
    let path = dir.join("gpio.jsonl");
    let out = child("child_engine", "main", &path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the child must fail: {stderr}");
    assert!(stderr.contains("the main thread fails"), "{stderr}");
    assert!(changes(&path).contains(&(Line::Green, true)));
    assert_eq!(final_levels(&path), safe_levels());
    let _ = std::fs::remove_dir_all(&dir);
}
