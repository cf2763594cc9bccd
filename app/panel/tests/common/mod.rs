//! What the UI tests share: a fake engine (a real `actrec_ipc::Server` on a
//! socket in a temporary folder, answering the panel's real commands), a
//! way to run a test inside Slint's event loop on the testing backend, and
//! finding elements as a screen reader would.
//!
//! The testing backend can be set up once per process, so each test file
//! holds one `#[test]`.

// Each test file uses its own part of this module.
#![allow(dead_code)]

use std::future::Future;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actrec_ipc::{Command, ExportState, Hello, PROTOCOL, Server, ServerSettings, Status, ToClient, ToEngine};
use actrec_panel::ui::AppWindow;
use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use slint::ComponentHandle;

/// The supervisor PIN the fake engine accepts.
pub const PIN: &str = "1234";

/// A fresh folder for one test's socket and video ring, removed with it.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("actrec-panel-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A station as the engine would describe it.
pub fn station() -> Status {
    Status {
        station: "Test station".into(),
        software: "0.1.0-test".into(),
        model: "demo-assembly 0.4.0".into(),
        backend: "tract".into(),
        sequence: "demo-assembly".into(),
        sequences: vec!["demo-assembly".into(), "demo-assembly-v2".into()],
        source: "camera-1".into(),
        sources: vec!["camera-1".into(), "camera-2".into(), "broken".into()],
        headline: "INSPECTING".into(),
        ..Status::default()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

struct EngineState {
    server: Server,
    status: Mutex<Status>,
    /// Replayed to a client on `Sync`, like the engine's recent events.
    events: Mutex<Vec<serde_json::Value>>,
    received: Mutex<Vec<ToEngine>>,
    stop: AtomicBool,
}

impl EngineState {
    fn publish_status(&self) {
        let status = lock(&self.status).clone();
        self.server.publish(&ToClient::Status {
            status: Box::new(status),
        });
    }

    fn answer(&self, command: &Command) {
        let reply = |ok: bool, error: Option<String>| ToClient::Reply { ok, error };
        let client = command.client;
        let (ok, error) = match &command.command {
            ToEngine::Sync => {
                let status = lock(&self.status).clone();
                self.server.send_to(
                    client,
                    ToClient::Status {
                        status: Box::new(status),
                    },
                );
                for event in lock(&self.events).iter() {
                    self.server.send_to(client, ToClient::Event { event: event.clone() });
                }
                (true, None)
            }
            ToEngine::Acknowledge { pin } if pin == PIN => {
                let mut status = lock(&self.status);
                status.reject_waiting = false;
                drop(status);
                self.publish_status();
                (true, None)
            }
            ToEngine::Acknowledge { .. } => (false, Some("wrong PIN".to_owned())),
            ToEngine::SwitchSource { source } if source == "broken" => {
                (false, Some(format!("cannot open source {source}")))
            }
            ToEngine::SwitchSource { source } => {
                lock(&self.status).source.clone_from(source);
                self.publish_status();
                (true, None)
            }
            ToEngine::SelectSequence { name } => {
                lock(&self.status).sequence.clone_from(name);
                self.publish_status();
                (true, None)
            }
            ToEngine::Export { to: None } if lock(&self.status).sticks.is_empty() => {
                (false, Some("no USB stick mounted".to_owned()))
            }
            ToEngine::Export { to } => {
                let mut status = lock(&self.status);
                let stick = to
                    .clone()
                    .or_else(|| status.sticks.first().cloned())
                    .unwrap_or_default();
                status.export = Some(actrec_ipc::Export {
                    to: stick,
                    state: ExportState::Running {
                        phase: "rows".into(),
                        done: 0,
                        total: 10,
                    },
                });
                drop(status);
                self.publish_status();
                (true, None)
            }
        };
        self.server.send_to(client, reply(ok, error));
    }
}

/// An engine on a real socket that answers the panel's commands as the
/// engine would, and publishes its status twice a second.
pub struct FakeEngine {
    state: Arc<EngineState>,
    thread: Option<JoinHandle<()>>,
}

impl FakeEngine {
    pub fn start(path: &Path, status: Status) -> Self {
        let settings = ServerSettings {
            group: None,
            ..ServerSettings::default()
        };
        let server = Server::bind(path, settings).expect("the fake engine binds its socket");
        let state = Arc::new(EngineState {
            server,
            status: Mutex::new(status),
            events: Mutex::default(),
            received: Mutex::default(),
            stop: AtomicBool::new(false),
        });
        let thread = {
            let state = Arc::clone(&state);
            std::thread::spawn(move || {
                let mut published = Instant::now();
                while !state.stop.load(Ordering::Acquire) {
                    if let Ok(command) = state.server.commands.recv_timeout(Duration::from_millis(20)) {
                        lock(&state.received).push(command.command.clone());
                        state.answer(&command);
                    }
                    if published.elapsed() >= Duration::from_millis(500) {
                        state.publish_status();
                        published = Instant::now();
                    }
                }
            })
        };
        Self {
            state,
            thread: Some(thread),
        }
    }

    /// Changes the status and publishes it, as the engine does on every change.
    pub fn update(&self, change: impl FnOnce(&mut Status)) {
        change(&mut lock(&self.state.status));
        self.state.publish_status();
    }

    /// Sends an event to the panels connected now, and keeps it for a `Sync`.
    pub fn event(&self, event: serde_json::Value) {
        lock(&self.state.events).push(event.clone());
        self.state.server.publish(&ToClient::Event { event });
    }

    /// Keeps events for the next `Sync` only (what happened before the panel came).
    pub fn history(&self, events: Vec<serde_json::Value>) {
        lock(&self.state.events).extend(events);
    }

    /// Commands received so far, in order.
    pub fn received(&self) -> Vec<ToEngine> {
        lock(&self.state.received).clone()
    }

    pub fn clients(&self) -> usize {
        self.state.server.clients()
    }
}

impl Drop for FakeEngine {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An engine of a later protocol version: it says hello in its version and
/// refuses whoever speaks another, as `actrec_ipc::Server` does.
pub struct NewerEngine {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    path: PathBuf,
}

impl NewerEngine {
    pub fn start(path: &Path) -> Self {
        let listener = UnixListener::bind(path).expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Acquire) {
                    let Ok((mut stream, _)) = listener.accept() else {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    };
                    let _ = stream.set_nonblocking(false);
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                    let Ok(hello) = actrec_ipc::read_frame::<Hello>(&mut stream) else {
                        continue;
                    };
                    let ours = Hello {
                        protocol: PROTOCOL + 1,
                        software: "9.0.0".into(),
                        role: "engine".into(),
                    };
                    let _ = actrec_ipc::write_frame(&mut stream, &ours);
                    let reason = format!(
                        "{} speaks protocol {} (software {}), this side {}: update the older one",
                        hello.role,
                        hello.protocol,
                        hello.software,
                        PROTOCOL + 1
                    );
                    let _ = actrec_ipc::write_frame(&mut stream, &ToClient::Refused { reason });
                }
            })
        };
        Self {
            stop,
            thread: Some(thread),
            path: path.to_owned(),
        }
    }
}

impl Drop for NewerEngine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Runs `test` inside Slint's event loop (the testing backend, mock time),
/// where the panel's link delivers its messages through
/// `invoke_from_event_loop` as it does on a screen.
pub fn run_ui<F>(test: impl FnOnce() -> F + 'static)
where
    F: Future<Output = ()> + 'static,
{
    i_slint_backend_testing::init_integration_test_with_mock_time();
    slint::spawn_local(async move {
        test().await;
        slint::quit_event_loop().expect("quit");
    })
    .expect("spawn the test");
    slint::run_event_loop().expect("the event loop");
}

/// A window of the given size, shown.
pub fn window(width: f32, height: f32) -> AppWindow {
    let app = AppWindow::new().expect("the panel's window");
    app.window().set_size(slint::LogicalSize::new(width, height));
    app.show().expect("show");
    app
}

/// Gives the event loop a turn: queued callbacks (the panel's link) run before this resumes.
pub async fn yield_now() {
    struct YieldNow(bool);
    impl Future for YieldNow {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                Poll::Ready(())
            } else {
                self.0 = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }
    YieldNow(false).await;
}

/// Waits until `condition` holds, turning the event loop and advancing
/// Slint's mock clock (timers, the video poll) meanwhile. A guard against
/// hangs, not a speed check.
pub async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(16));
        if condition() {
            return;
        }
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(5));
        yield_now().await;
    }
}

/// Elements with this accessible label, as a screen reader finds them.
pub fn labelled(app: &AppWindow, label: &str) -> Vec<ElementHandle> {
    ElementHandle::find_by_accessible_label(app, label).collect()
}

/// The one button labelled `label`.
pub fn button(app: &AppWindow, label: &str) -> ElementHandle {
    let mut buttons: Vec<_> = labelled(app, label)
        .into_iter()
        .filter(|e| e.accessible_role() == Some(AccessibleRole::Button))
        .collect();
    assert_eq!(buttons.len(), 1, "buttons labelled {label:?}");
    buttons.remove(0)
}

/// Whether a button labelled `label` is on screen now.
pub fn has_button(app: &AppWindow, label: &str) -> bool {
    labelled(app, label)
        .iter()
        .any(|e| e.accessible_role() == Some(AccessibleRole::Button))
}

/// The accessible value of the element labelled `label`, or "" when there is none.
pub fn value(app: &AppWindow, label: &str) -> String {
    labelled(app, label)
        .first()
        .and_then(ElementHandle::accessible_value)
        .map(|v| v.to_string())
        .unwrap_or_default()
}

/// The accessible description of the element labelled `label`.
pub fn description(app: &AppWindow, label: &str) -> String {
    labelled(app, label)
        .first()
        .and_then(ElementHandle::accessible_description)
        .map(|v| v.to_string())
        .unwrap_or_default()
}

/// Presses a button, as a touch would.
pub fn press(app: &AppWindow, label: &str) {
    let button = button(app, label);
    assert_eq!(button.accessible_enabled(), Some(true), "{label:?} is enabled");
    button.invoke_accessible_default_action();
}

/// The status tile's extent in a screenshot (`channels` bytes a pixel, RGB
/// first): the leftmost start and the rightmost end of the rows where
/// `colour` runs at least `min_run` pixels wide. Those are the tile's
/// margins above and below its text; no button or bar is that wide in one
/// colour. `None` when no row is.
pub fn tile_extent(
    pixels: &[u8],
    width: usize,
    channels: usize,
    colour: [u8; 3],
    min_run: usize,
) -> Option<(usize, usize)> {
    let mut extent: Option<(usize, usize)> = None;
    for row in pixels.chunks_exact(width * channels) {
        let mut run_start = 0;
        for x in 0..=width {
            let matches = x < width && (0..3).all(|i| row[x * channels + i].abs_diff(colour[i]) <= 6);
            if matches {
                continue;
            }
            if x - run_start >= min_run {
                let (left, right) = extent.unwrap_or((run_start, x));
                extent = Some((left.min(run_start), right.max(x)));
            }
            run_start = x + 1;
        }
    }
    extent
}
