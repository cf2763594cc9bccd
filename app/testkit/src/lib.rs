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
