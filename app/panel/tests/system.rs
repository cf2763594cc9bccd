//! The panel and the engine as the station runs them: two real processes,
//! the engine on a generated clip at camera speed with the demo model, the
//! panel on an X server of its own (Xvfb).
//!
//! - The panel is killed with SIGKILL 20 times; each time it is started
//!   again and must reconnect, and the engine's windows and verdict go on
//!   without a gap. (A file at camera speed acts as a camera: at its end the
//!   engine reports the source lost and retries, so the engine is stopped by
//!   time, just after the clip's end.)
//! - Screenshots of the panel at 1024×600, 1280×800 and 1920×1080, taken
//!   from the X server (GStreamer's `ximagesrc`), must show the status
//!   indicator in one of its colours, its tile whole on the screen (every
//!   other state the panel can be in: `tests/screens.rs`). They are written to
//!   `$ACTREC_SCREENSHOTS` (default `target/screenshots`); `make screenshots`
//!   copies them into `docs/screenshots/`.
//!
//! The engine binary is the workspace's `actrec`, the clip's maker its
//! `actrec-lab`, both built beside this one.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use actrec_testkit::{Reaped, Xvfb};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A binary of the workspace, built beside this one: `actrec` (the
/// engine) or `actrec-lab` (the synthetic station).
fn workspace_binary(name: &str) -> PathBuf {
    let panel = PathBuf::from(env!("CARGO_BIN_EXE_actrec-panel"));
    let binary = panel.with_file_name(name);
    assert!(
        binary.exists(),
        "{}: not built; build the workspace (cargo build --workspace) first",
        binary.display()
    );
    binary
}

/// A panel process whose log lines arrive on a channel.
struct PanelProcess {
    child: Reaped,
    log: mpsc::Receiver<String>,
}

impl PanelProcess {
    fn start(display: &str, socket: &Path, size: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_actrec-panel"))
            .env("DISPLAY", display)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .arg("--socket")
            .arg(socket)
            .args(["--size", size])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the panel starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Self {
            child: Reaped(child),
            log,
        }
    }

    /// Waits for a log line containing `text`; on failure, says what the
    /// panel logged and how it ended.
    fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        loop {
            match self
                .log
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) if line.contains(text) => return,
                Ok(line) => seen.push(line),
                Err(cause) => panic!(
                    "the panel never logged `{text}` ({cause}; exit: {:?}); it logged:\n{}",
                    self.child.0.try_wait(),
                    seen.join("\n")
                ),
            }
        }
    }

    fn kill_9(mut self) {
        let pid = self.child.0.id().to_string();
        let killed = Command::new("kill").args(["-KILL", &pid]).status();
        assert!(killed.is_ok_and(|s| s.success()));
        let status = self.child.0.wait().expect("reaped");
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9));
    }
}

/// The whole X screen as a PNG, through GStreamer.
fn screenshot(display: &str, path: &Path) {
    let status = Command::new("gst-launch-1.0")
        .arg("-q")
        .args([
            "ximagesrc",
            &format!("display-name={display}"),
            "num-buffers=1",
            "use-damage=false",
            "!",
            "videoconvert",
            "!",
            "pngenc",
            "!",
            "filesink",
        ])
        .arg(format!("location={}", path.display()))
        .status()
        .expect("gst-launch-1.0 runs");
    assert!(status.success(), "screenshot of {display} failed");
}

/// How many pixels of the PNG are within a small distance of `colour`.
fn pixels_of(path: &Path, colour: [u8; 3]) -> usize {
    let decoder = png::Decoder::new(BufReader::new(std::fs::File::open(path).expect("png")));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buffer = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buffer).expect("a frame");
    let channels = info.color_type.samples();
    buffer[..info.buffer_size()]
        .chunks_exact(channels)
        .filter(|px| (0..3).all(|i| px[i].abs_diff(colour[i]) <= 6))
        .count()
}

/// The status tile's extent in a screenshot (`common::tile_extent`).
fn tile_in(path: &Path, colour: [u8; 3], min_run: usize) -> Option<(usize, usize)> {
    let decoder = png::Decoder::new(BufReader::new(std::fs::File::open(path).expect("png")));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buffer = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buffer).expect("a frame");
    let channels = info.color_type.samples();
    common::tile_extent(
        &buffer[..info.buffer_size()],
        info.width as usize,
        channels,
        colour,
        min_run,
    )
}

/// The status indicator's colours (ui/theme.slint).
const INDICATOR_COLOURS: [(&str, [u8; 3]); 6] = [
    ("inspecting", [0x1f, 0x5f, 0xbf]),
    ("pass", [0x12, 0xa1, 0x50]),
    ("warning", [0xf5, 0xa3, 0x00]),
    ("reject", [0xe0, 0x28, 0x1b]),
    ("no video", [0x4a, 0x55, 0x66]),
    ("fault", [0x8e, 0x44, 0xd6]),
];

fn station_config(dir: &Path, clip: &Path) -> PathBuf {
    let root = root();
    let text = format!(
        r#"
[station]
id = "system-test"
data_dir = "{data}"
source = "clip"

[sources.clip.file]
path = "{clip}"
pace = "realtime"

[media]
display_width = 640
display_height = 360

[model]
dir = "{root}/config/models/demo"

[decoder]
min_confidence = 0.6
min_windows = 4
idle_labels = ["idle"]

[sequence]
file = "{root}/config/sequences/gear-housing.toml"

[outputs]
shm = {{ path = "video.ring" }}

[gpio]
backend = "sim"

[audit]
path = "audit.sqlite"

[operator]
socket = "{socket}"
"#,
        data = dir.join("data").display(),
        clip = clip.display(),
        root = root.display(),
        socket = dir.join("engine.sock").display(),
    );
    let path = dir.join("station.toml");
    std::fs::write(&path, text).expect("config");
    path
}

#[test]
fn the_panel_killed_20_times_reconnects_and_the_engine_never_misses_a_window() {
    let dir = std::env::temp_dir().join(format!("actrec-system-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let engine_exe = workspace_binary("actrec");
    let synth = Command::new(workspace_binary("actrec-lab"))
        .current_dir(root())
        .args([
            "synth", "--seed", "7", "--parts", "1", "--width", "640", "--height", "360", "--out",
        ])
        .arg(dir.join("clip"))
        .stdout(Stdio::null())
        .status()
        .expect("actrec-lab synth");
    assert!(synth.success());
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("clip/truth.json")).expect("truth")).expect("json");
    let clip_seconds = truth["frames"].as_f64().expect("frames") / 30.0;
    let config = station_config(&dir, &dir.join("clip/clip.mp4"));
    let predictions = dir.join("predictions.jsonl");
    let mut engine = Command::new(&engine_exe)
        .args(["run", "--seconds", &format!("{}", clip_seconds + 3.0), "--config"])
        .arg(&config)
        .arg("--predictions")
        .arg(&predictions)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the engine starts");
    let engine_out = engine.stdout.take().expect("stdout");
    let engine = Reaped(engine);
    let (tx, events) = mpsc::channel::<serde_json::Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(engine_out).lines().map_while(Result::ok) {
            if let Ok(value) = serde_json::from_str(&line) {
                let _ = tx.send(value);
            }
        }
    });
    let socket = dir.join("engine.sock");

    // Screenshots while the first part is assembled.
    let shots = std::env::var_os("ACTREC_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/screenshots"));
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    std::thread::sleep(Duration::from_secs(4));
    for size in ["1024x600", "1280x800", "1920x1080"] {
        let x = Xvfb::start(size);
        let display = x.display.clone();
        let mut panel = PanelProcess::start(&display, &socket, size);
        panel.wait_for("connected to the engine");
        panel.wait_for("video ring open");
        // A few status snapshots and video frames.
        std::thread::sleep(Duration::from_secs(2));
        let path = shots.join(format!("panel-{size}.png"));
        screenshot(&display, &path);
        let found: Vec<(&str, usize)> = INDICATOR_COLOURS
            .iter()
            .map(|(name, colour)| (*name, pixels_of(&path, *colour)))
            .filter(|(_, n)| *n > 5_000)
            .collect();
        assert!(!found.is_empty(), "{}: no status indicator colour", path.display());
        eprintln!("{}: indicator {found:?}", path.display());
        // The tile whole, at the right edge with the page's margin: not cut
        // off by the screen's edge (as when the chart's legend pushed it).
        let width: usize = size.split('x').next().and_then(|w| w.parse().ok()).expect("width");
        let side = (width as f64 * 0.38).clamp(360.0, 700.0) as usize;
        let tiles: Vec<(usize, usize)> = INDICATOR_COLOURS
            .iter()
            .filter_map(|(_, colour)| tile_in(&path, *colour, side * 4 / 5))
            .collect();
        assert_eq!(tiles.len(), 1, "{}: one status tile, found {tiles:?}", path.display());
        let (left, right) = tiles[0];
        assert!(
            right + 8 <= width && right - left + 4 >= side,
            "{}: the tile spans x {left}..{right} of {width}, expected {side} px wide ending 10 px before the edge",
            path.display()
        );
        panel.kill_9();
    }

    // 20 kills of a running panel; each new one must reconnect.
    let x = Xvfb::start("1280x800");
    let display = x.display.clone();
    for round in 0..20 {
        let mut panel = PanelProcess::start(&display, &socket, "1280x800");
        panel.wait_for("connected to the engine");
        std::thread::sleep(Duration::from_millis(200 + 50 * (round % 5)));
        panel.kill_9();
    }
    let mut last = PanelProcess::start(&display, &socket, "1280x800");
    last.wait_for("connected to the engine");

    let mut kinds = Vec::new();
    loop {
        match events.recv_timeout(Duration::from_secs(60)) {
            Ok(event) => {
                let kind = event["kind"].as_str().unwrap_or_default().to_owned();
                if kind == "frames_dropped" {
                    assert_ne!(event["branch"], "model", "the model lost frames: {event}");
                }
                let stopped = kind == "stopped";
                kinds.push(kind);
                if stopped {
                    break;
                }
            }
            Err(_) => panic!("the engine did not stop"),
        }
    }
    drop(engine);

    // Every window of the clip, one stride apart: no gap while the panel died and came back.
    let text = std::fs::read_to_string(&predictions).expect("predictions");
    let times: Vec<f64> = text
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).expect("json")["t"]
                .as_f64()
                .expect("t")
        })
        .collect();
    let stride = 4.0 / 30.0;
    let widest = times.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
    // The clip's windows: from its first to its last, one stride apart.
    let expected = ((clip_seconds - 1.0) / stride) as usize;
    assert!(times.len() >= expected, "{} windows of {expected}", times.len());
    assert!(widest < stride * 1.5, "a gap of {widest:.3} s between windows");
    let parts = kinds.iter().filter(|k| *k == "part").count();
    assert_eq!(parts, 1, "verdicts: {kinds:?}");
    eprintln!(
        "{} windows, widest step {widest:.3} s, {parts} verdicts, 20 panel kills",
        times.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
