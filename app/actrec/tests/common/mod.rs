//! What the engine's process tests share: station configs in a temp dir,
//! the engine as a child process with its JSON events, windows to replay,
//! and queries of the audit log.
#![allow(dead_code)] // Each test file uses part of this.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("actrec-engine-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// One part of the synthetic station at `width`×`height` in `out`; returns the clip.
pub fn synth_clip(out: &Path, seed: u64, width: u32, height: u32) -> PathBuf {
    actrec_testkit::synth_clip(out, seed, width as usize, height as usize)
}

/// A station config in `dir` with a live test pattern, a file, and mp4 recording.
pub fn station(dir: &Path) -> PathBuf {
    station_with(dir, "mp4 = { dir = \"video\", split = \"part\" }")
}

/// `dir/clip.mp4`: `frames` frames of a test pattern, 320×240 at 30 fps.
pub fn pattern_clip(dir: &Path, frames: u32) -> PathBuf {
    let clip = dir.join("clip.mp4");
    let status = Command::new("gst-launch-1.0")
        .arg("-q")
        .args(
            format!(
                "videotestsrc num-buffers={frames} ! video/x-raw,width=320,height=240,framerate=30/1,format=I420 ! x264enc speed-preset=ultrafast ! h264parse ! mp4mux ! filesink location={}",
                clip.display()
            )
            .split_whitespace(),
        )
        .status()
        .expect("gst-launch-1.0 runs");
    assert!(status.success());
    clip
}

pub fn station_with(dir: &Path, outputs: &str) -> PathBuf {
    let clip = pattern_clip(dir, 30);
    let root = root();
    // The engine tests check media and decisions, not the network: their model has no network file.
    let model = dir.join("model");
    std::fs::create_dir_all(&model).expect("model dir");
    let manifest = std::fs::read_to_string(root.join("config/models/demo/manifest.toml")).expect("manifest");
    std::fs::write(
        model.join("manifest.toml"),
        manifest.replace("file = \"model.onnx\"\n", ""),
    )
    .expect("manifest");
    let text = format!(
        r#"
[station]
id = "test-station"
data_dir = "{data}"
source = "pattern"

[sources.pattern.test]
pattern = "ball"

[sources.clip.file]
path = "{clip}"
pace = "fast"

[media]
display_width = 320
display_height = 240
bitrate_kbps = 500

[model]
dir = "{model}"

[decoder]
idle_labels = ["idle"]

[sequence]
file = "{root}/config/sequences/gear-housing.toml"

[outputs]
{outputs}

[gpio]
backend = "sim"

[audit]
path = "audit.sqlite"
"#,
        data = dir.join("data").display(),
        clip = clip.display(),
        root = root.display(),
        model = model.display(),
        outputs = outputs,
    );
    let path = dir.join("station.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

pub struct Engine {
    pub child: Child,
    pub lines: mpsc::Receiver<serde_json::Value>,
}

impl Engine {
    pub fn start(config: &Path, extra: &[&str]) -> Self {
        Self::start_with_env(config, extra, &[])
    }

    pub fn start_with_env(config: &Path, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_actrec"))
            .envs(env.iter().copied())
            .arg("run")
            .arg("--config")
            .arg(config)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("engine starts");
        let stdout: ChildStdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(value) = serde_json::from_str(&line) {
                    let _ = tx.send(value);
                }
            }
        });
        Self { child, lines }
    }

    /// The first event of `kind`; a guard against hangs, not a speed check.
    pub fn wait_for(&self, kind: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) if v["kind"] == kind => return v,
                Ok(_) => {}
                Err(_) => panic!("no `{kind}` event"),
            }
        }
    }

    /// Every event up to and including `stopped`; a guard against hangs, not a speed check.
    pub fn until_stopped(&self, limit: Duration) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + limit;
        let mut events = Vec::new();
        while let Ok(event) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            let stopped = event["kind"] == "stopped";
            events.push(event);
            if stopped {
                break;
            }
        }
        events
    }

    /// SIGTERM, then waits for the process to end (its database closed).
    pub fn stop(mut self) -> Vec<serde_json::Value> {
        self.signal("TERM");
        let events = self.until_stopped(Duration::from_secs(20));
        let _ = self.child.wait();
        events
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status();
        assert!(status.is_ok_and(|s| s.success()));
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn recordings(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir.join("data/video"))
        .expect("video dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files
}

/// Decodes a file with gst-launch and counts its frames; a cut-off file plays up to the cut.
pub fn count_frames(path: &Path) -> usize {
    let output = Command::new("gst-launch-1.0")
        .args([
            "filesrc",
            &format!("location={}", path.display()),
            "!",
            "qtdemux",
            "!",
            "h264parse",
            "!",
        ])
        .args(["avdec_h264", "!", "identity", "silent=false", "!", "fakesink", "-v"])
        .output()
        .expect("gst-launch-1.0 runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| l.contains("identity0: last-message = chain"))
        .count()
}

/// The seed's good assembly, one window every 0.1 s of video.
/// `dir/windows.jsonl`: one confident window per step, `spacing` seconds
/// apart from `first` on, as `actrec run --windows` replays them.
pub fn write_windows(dir: &Path, steps: &[&str], first: f64, spacing: f64) -> PathBuf {
    let lines: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            format!(
                r#"{{"t": {:.3}, "label": "{step}", "p": 0.9}}"#,
                first + i as f64 * spacing
            )
        })
        .collect();
    let windows = dir.join("windows.jsonl");
    std::fs::write(&windows, lines.join("\n")).expect("write windows");
    windows
}

pub fn seed_steps() -> Vec<&'static str> {
    let mut steps = vec!["riveted_start", "spacer", "greased_disk", "separator", "spacer_washer"];
    for _ in 0..4 {
        steps.extend(["spacer", "greased_disk", "separator"]);
    }
    steps.extend(["spacer", "greased_disk", "install_lid", "press_down", "complete_part"]);
    steps
}

/// One query through the sqlite3 command-line shell, as a plant engineer would run it.
pub fn sqlite(db: &Path, query: &str) -> String {
    let out = Command::new("sqlite3").arg(db).arg(query).output().expect("sqlite3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub fn assert_chain_verifies(db: &Path) {
    let verify = Command::new(env!("CARGO_BIN_EXE_actrec"))
        .args(["verify-audit", "--db"])
        .arg(db)
        .output()
        .expect("verify-audit");
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
}
