//! The sysfs backend against a temporary tree that plays the kernel: chips
//! with label, base and ngpio; an `export` file; a thread that makes the
//! line's directory when its number is written to `export`, with its
//! attribute files a moment later (as udev fixing permissions would).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actrec_core::config::{GpioLine, RejectMode};
use actrec_core::light::{FaultKind, Health, LastVerdict, StationState};
use actrec_gpio::sysfs::SysfsLines;
use actrec_gpio::{Actuators, Error, Line, OutputLines, Settings};
use common::temp_dir;

/// A fake `/sys/class/gpio`.
struct Tree {
    root: PathBuf,
    stop: Arc<AtomicBool>,
    kernel: Option<JoinHandle<Vec<u32>>>,
}

impl Tree {
    /// Chips as `(gpiochipN, label, base, ngpio)`; `names` gives the
    /// directory name for a number exported (default `gpioN`).
    fn new(name: &str, chips: &[(u32, &str, u32, u32)], names: HashMap<u32, String>) -> Tree {
        let root = temp_dir(name).join("gpio");
        fs::create_dir_all(&root).unwrap();
        for (n, label, base, ngpio) in chips {
            let chip = root.join(format!("gpiochip{n}"));
            fs::create_dir_all(&chip).unwrap();
            fs::write(chip.join("label"), format!("{label}\n")).unwrap();
            fs::write(chip.join("base"), format!("{base}\n")).unwrap();
            fs::write(chip.join("ngpio"), format!("{ngpio}\n")).unwrap();
        }
        fs::write(root.join("export"), "").unwrap();
        fs::write(root.join("unexport"), "").unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let kernel = {
            let root = root.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut exported = Vec::new();
                while !stop.load(Ordering::Acquire) {
                    let text = fs::read_to_string(root.join("export")).unwrap_or_default();
                    if let Ok(number) = text.trim().parse::<u32>()
                        && !exported.contains(&number)
                    {
                        exported.push(number);
                        let name = names.get(&number).cloned().unwrap_or(format!("gpio{number}"));
                        let dir = root.join(name);
                        fs::create_dir_all(&dir).unwrap();
                        // The attributes come a moment after the directory.
                        std::thread::sleep(Duration::from_millis(20));
                        fs::write(dir.join("active_low"), "0\n").unwrap();
                        fs::write(dir.join("value"), "0\n").unwrap();
                        fs::write(dir.join("direction"), "in\n").unwrap();
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                exported
            })
        };
        Tree {
            root,
            stop,
            kernel: Some(kernel),
        }
    }

    fn read(&self, dir: &str, attr: &str) -> String {
        fs::read_to_string(self.root.join(dir).join(attr))
            .unwrap()
            .trim()
            .to_owned()
    }

    /// Stops the kernel thread; the numbers it exported, in order.
    fn exported(&mut self) -> Vec<u32> {
        self.stop.store(true, Ordering::Release);
        self.kernel.take().map(|k| k.join().unwrap()).unwrap_or_default()
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        self.exported();
        if let Some(dir) = self.root.parent() {
            let _ = fs::remove_dir_all(dir);
        }
    }
}

fn line(chip: &str, offset: u32, active_low: bool) -> GpioLine {
    GpioLine {
        chip: chip.into(),
        offset,
        active_low,
    }
}

/// The Nano's example wiring: red and reject active-low.
fn nano_lines() -> Vec<(Line, GpioLine)> {
    vec![
        (Line::Green, line("tegra-gpio", 149, false)),
        (Line::Amber, line("tegra-gpio", 200, false)),
        (Line::Red, line("tegra-gpio", 38, true)),
        (Line::Reject, line("tegra-gpio", 216, true)),
        (Line::Heartbeat, line("tegra-gpio", 194, false)),
    ]
}

const NANO_CHIPS: &[(u32, &str, u32, u32)] = &[(0, "tegra-gpio", 0, 256), (504, "max77620-gpio", 504, 8)];

/// The electrical level of each line, as the tree's `value` files hold it.
fn values(tree: &Tree) -> Vec<(&'static str, String)> {
    [
        ("green", 149),
        ("amber", 200),
        ("red", 38),
        ("reject", 216),
        ("heartbeat", 194),
    ]
    .into_iter()
    .map(|(name, n)| (name, tree.read(&format!("gpio{n}"), "value")))
    .collect()
}

fn expect(green: &str, amber: &str, red: &str, reject: &str, heartbeat: &str) -> Vec<(&'static str, String)> {
    vec![
        ("green", green.into()),
        ("amber", amber.into()),
        ("red", red.into()),
        ("reject", reject.into()),
        ("heartbeat", heartbeat.into()),
    ]
}

#[test]
fn lines_are_exported_set_up_safe_and_driven_with_active_low_applied() {
    let mut tree = Tree::new("sysfs-nano", NANO_CHIPS, HashMap::new());
    let lines = SysfsLines::open(&tree.root, &nano_lines()).unwrap();
    assert_eq!(lines.backend(), "sysfs");
    assert!(!lines.has(Line::Buzzer));
    assert_eq!(
        lines.lines().iter().map(|l| l.number).collect::<Vec<_>>(),
        [149, 200, 38, 216, 194]
    );
    for n in [149, 200, 38, 216, 194] {
        let dir = format!("gpio{n}");
        assert_eq!(
            tree.read(&dir, "active_low"),
            "0",
            "{dir}: inversion is done in software"
        );
    }
    // Safe: red lit and reject asserted, which for these active-low lines
    // is low, the same as a dead station. Everything else off (low).
    assert_eq!(tree.read("gpio38", "direction"), "low");
    assert_eq!(tree.read("gpio216", "direction"), "low");
    assert_eq!(tree.read("gpio149", "direction"), "low");
    assert_eq!(values(&tree), expect("0", "0", "0", "0", "0"));

    let lines: Arc<dyn OutputLines> = Arc::new(lines);
    let t0 = Instant::now();
    let mut outputs = Actuators::new(lines.clone(), Settings::default(), t0).unwrap();
    outputs
        .apply(
            &StationState {
                last_verdict: LastVerdict::Pass,
                ..StationState::START
            },
            t0,
        )
        .unwrap();
    // Healthy and passed: green lit (high); red out and line running, both
    // by energising (high) their active-low lines.
    assert_eq!(values(&tree), expect("1", "0", "1", "1", "0"));
    outputs.heartbeat().unwrap();
    assert_eq!(values(&tree), expect("1", "0", "1", "1", "1"));

    outputs
        .apply(
            &StationState {
                health: Health::Fault(FaultKind::InferenceStalled),
                ..StationState::START
            },
            t0 + Duration::from_millis(10),
        )
        .unwrap();
    assert_eq!(
        values(&tree),
        expect("0", "0", "0", "0", "1"),
        "a fault: red lit, relay asserted"
    );

    drop(outputs);
    assert_eq!(values(&tree), expect("0", "0", "0", "0", "0"), "safe after drop");
    drop(lines);
    assert_eq!(tree.exported(), [149, 200, 38, 216, 194]);
}

#[test]
fn a_line_exported_before_is_reused_and_its_stale_active_low_cleared() {
    let tree = Tree::new("sysfs-reuse", NANO_CHIPS, HashMap::new());
    let dir = tree.root.join("gpio38");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("active_low"), "1\n").unwrap();
    fs::write(dir.join("value"), "1\n").unwrap();
    fs::write(dir.join("direction"), "out\n").unwrap();
    let lines = SysfsLines::open(&tree.root, &[(Line::Red, line("tegra-gpio", 38, true))]).unwrap();
    assert_eq!(tree.read("gpio38", "active_low"), "0");
    assert_eq!(tree.read("gpio38", "value"), "0", "red lit: active-low pin low");
    lines.set(Line::Red, false).unwrap();
    assert_eq!(tree.read("gpio38", "value"), "1");
    lines.set(Line::Red, true).unwrap();
    assert_eq!(tree.read("gpio38", "value"), "0");
    // Setting a line the backend does not have is ignored.
    lines.set(Line::Buzzer, true).unwrap();
    assert_eq!(
        fs::read_to_string(tree.root.join("export")).unwrap(),
        "",
        "nothing exported"
    );
}

/// The AGX Xavier on L4T 35: chip bases are not zero, and exported lines are
/// named by pin instead of `gpioN`.
#[test]
fn chip_base_is_added_and_pin_named_exports_are_found() {
    // Bases as on one L4T 35 image; the backend reads them, never assumes.
    let chips = &[(0, "tegra194-gpio", 348, 224), (1, "tegra194-gpio-aon", 316, 32)];
    let names = HashMap::from([(348 + 106, "PQ.06".to_owned()), (316 + 8, "PBB.00".to_owned())]);
    let mut tree = Tree::new("sysfs-xavier", chips, names);
    let lines = SysfsLines::open(
        &tree.root,
        &[
            (Line::Green, line("tegra194-gpio", 106, false)),
            (Line::Heartbeat, line("tegra194-gpio-aon", 8, false)),
            (Line::Reject, line("tegra194-gpio", 101, true)),
        ],
    )
    .unwrap();
    let found: Vec<(u32, PathBuf)> = lines
        .lines()
        .iter()
        .map(|l| (l.number, l.dir.strip_prefix(&tree.root).unwrap().to_owned()))
        .collect();
    assert_eq!(
        found,
        [
            (454, PathBuf::from("PQ.06")),
            (324, PathBuf::from("PBB.00")),
            (449, PathBuf::from("gpio449"))
        ]
    );
    lines.set(Line::Green, true).unwrap();
    assert_eq!(tree.read("PQ.06", "value"), "1");
    assert_eq!(
        tree.read("gpio449", "value"),
        "0",
        "reject asserted: active-low pin low"
    );
    drop(lines);
    assert_eq!(tree.read("PQ.06", "value"), "0", "safe after drop");
    assert_eq!(tree.exported(), [454, 324, 449]);
}

#[test]
fn problems_are_clear_errors() {
    let tree = Tree::new("sysfs-errors", NANO_CHIPS, HashMap::new());
    let err = SysfsLines::open(&tree.root, &[(Line::Green, line("tegra194-gpio", 1, false))]).unwrap_err();
    let root = tree.root.display();
    assert_eq!(
        err.to_string(),
        format!(
            "no GPIO chip is labelled `tegra194-gpio` (chips found: {root}/gpiochip0 `tegra-gpio`, {root}/gpiochip504 `max77620-gpio`)"
        )
    );
    let err = SysfsLines::open(&tree.root, &[(Line::Green, line("max77620-gpio", 8, false))]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the green line: offset 8 is beyond chip `max77620-gpio`, which has 8 lines"
    );
    let err = SysfsLines::open(Path::new("/nonexistent/gpio"), &nano_lines()).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
}

#[test]
fn an_export_that_never_appears_times_out() {
    let mut tree = Tree::new("sysfs-timeout", NANO_CHIPS, HashMap::new());
    tree.exported(); // no kernel: nothing will appear
    let err = SysfsLines::open_with_wait(
        &tree.root,
        &[(Line::Green, line("tegra-gpio", 149, false))],
        Duration::from_millis(50),
    )
    .unwrap_err();
    assert!(matches!(err, Error::ExportTimeout { number: 149, .. }), "{err}");
    assert!(
        err.to_string()
            .ends_with("gpio149 did not appear within 50 ms of exporting GPIO 149"),
        "{err}"
    );
}

#[test]
fn a_pulse_through_sysfs() {
    let tree = Tree::new("sysfs-pulse", NANO_CHIPS, HashMap::new());
    let lines: Arc<dyn OutputLines> = Arc::new(SysfsLines::open(&tree.root, &nano_lines()).unwrap());
    let settings = Settings {
        reject_mode: RejectMode::Pulse,
        pulse: Duration::from_millis(200),
        ..Settings::default()
    };
    let t0 = Instant::now();
    let mut outputs = Actuators::new(lines, settings, t0).unwrap();
    outputs.apply(&StationState::START, t0).unwrap();
    assert_eq!(
        tree.read("gpio216", "value"),
        "1",
        "released: relay energised, line runs"
    );
    outputs.reject(t0 + Duration::from_millis(100)).unwrap();
    assert_eq!(tree.read("gpio216", "value"), "0", "pulse: relay de-energised");
    outputs.tick(t0 + Duration::from_millis(300)).unwrap();
    assert_eq!(tree.read("gpio216", "value"), "1", "pulse over");
}
