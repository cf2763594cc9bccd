//! Helpers the workspace's tests share. Test code only: nothing here ships.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed and reaped when dropped, so that a failing test
/// leaves nothing running behind it.
pub struct Reaped(pub Child);

impl Reaped {
    /// Asks the process to stop (SIGTERM), so that it can clean up after
    /// itself, and kills it if it has not gone within `grace`.
    pub fn terminate(&mut self, grace: Duration) {
        let pid = self.0.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An X server of the test's own (Xvfb).
///
/// Xvfb picks a free display itself and names it only once it accepts
/// clients (`-displayfd`). Choosing a number and waiting for its socket file
/// raced: an Xvfb killed earlier leaves its socket file behind, so the file
/// could exist before the new server listened, and the client started too
/// early failed to connect.
pub struct Xvfb {
    server: Reaped,
    /// `:N`, for `DISPLAY`.
    pub display: String,
}

impl Xvfb {
    /// A server with one screen of `size` (`"1280x800"`), 24-bit.
    ///
    /// # Panics
    /// If Xvfb is not installed or does not come up within 20 s: the test
    /// cannot run, and says why.
    pub fn start(size: &str) -> Self {
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                &format!("{size}x24"),
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb runs (package xvfb)");
        let stdout = child.stdout.take().expect("Xvfb's stdout");
        let mut server = Reaped(child);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let number = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(line) if !line.trim().is_empty() => line.trim().to_owned(),
            Ok(_) => panic!("Xvfb exited before naming its display: {:?}", server.0.try_wait()),
            Err(_) => {
                server.terminate(Duration::from_secs(1));
                panic!("Xvfb did not name a display within 20 s");
            }
        };
        Self {
            server,
            display: format!(":{number}"),
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        // SIGTERM lets Xvfb remove its socket and lock files.
        self.server.terminate(Duration::from_secs(2));
    }
}

/// The fake TensorRT shim (`app/infer/fake-trt-shim`), from the target
/// directory of the running test; `make test` builds it before the tests.
pub fn fake_trt_shim() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    let deps = exe.parent().expect("deps");
    let profile = deps.parent().expect("profile dir");
    [profile, deps]
        .iter()
        .map(|dir| dir.join("libactrec_fake_trt_shim.so"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "libactrec_fake_trt_shim.so is not in {}: build it first with `cargo build -p actrec-fake-trt-shim` (make test does)",
                profile.display()
            )
        })
}

/// The repository's root (where `config/` is).
pub fn repo_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// An empty folder of the test's own under the temp dir, `actrec-{name}-{pid}`.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("actrec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// One part of the synthetic station (the default variation, the gear
/// housing sequence) at `width`×`height`, 30 fps, made into `out` as
/// `actrec-lab synth` makes it; returns the clip.
///
/// # Panics
/// If the shipped files do not load or the clip cannot be made.
pub fn synth_clip(out: &std::path::Path, seed: u64, width: usize, height: usize) -> std::path::PathBuf {
    use actrec_core::sequence::Definition;
    use actrec_synth::clip::{ClipSpec, make};
    use actrec_synth::variation::Variation;
    let root = repo_root();
    let read = |path: &str| std::fs::read_to_string(root.join(path)).expect("a shipped file");
    let variation = Variation::parse("default.toml", &read("config/synth/default.toml")).expect("variation");
    let definition =
        Definition::parse("gear-housing.toml", &read("config/sequences/gear-housing.toml"), None).expect("sequence");
    let spec = ClipSpec {
        seed,
        parts: 1,
        width,
        height,
        fps: 30,
        bitrate_kbps: 8000,
        stride: 4,
        raw: false,
        video: true,
    };
    make(&definition, &variation, &spec, out).expect("the clip is made");
    out.join("clip.mp4")
}

/// Waits for a condition, checking every 10 ms; a guard against hangs
/// (20 s), not a speed check.
///
/// # Panics
/// If the condition does not hold within 20 s, naming `what`.
pub fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
