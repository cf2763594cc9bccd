//! The panel in every state that matters, at every screen size it ships
//! for, drawn by Slint's software renderer (the panel's own renderer):
//! no part yet, a reject with a long missing list, a pass, ten closed parts
//! (the chart full, its legend long), the PIN keypad open, a fault. In
//! each, the status tile (the operator's main signal) and the controls
//! around it must lie wholly on screen, and the tile must be drawn where
//! its geometry says; a long headline must fit its tile.
//!
//! The states come from a fake engine (a real socket, the engine's
//! messages), so the controllers make the texts as they do on a station.
//! The screenshots go to `$ACTREC_SCREENSHOTS` (default
//! `target/screenshots`) as `panel-WxH-STATE.png`; docs/PANEL.md shows them.
//!
//! A platform of its own (a software-rendered window, an event loop the
//! test turns by hand) replaces the windowing system: it can be set once per
//! process, hence one `#[test]` in this file.

mod common;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use actrec_ipc::{Progress, Standing, Status};
use actrec_panel::ui::AppWindow;
use actrec_panel::{Panel, Settings};
use actrec_shmring::{Geometry, RingWriter};
use common::{FakeEngine, TempDir, labelled, press, value};
use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use serde_json::{Value, json};
use slint::ComponentHandle;
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{EventLoopProxy, Platform, WindowAdapter};
use slint::{EventLoopError, PlatformError, Rgb8Pixel};

const SIZES: [(u32, u32); 3] = [(1024, 600), (1280, 800), (1920, 1080)];

type Job = Box<dyn FnOnce() + Send>;

/// Closures the panel's link threads send to the UI thread.
#[derive(Clone, Default)]
struct Queue(Arc<Mutex<VecDeque<Job>>>);

impl Queue {
    fn pop(&self) -> Option<Job> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).pop_front()
    }
}

impl EventLoopProxy for Queue {
    fn quit_event_loop(&self) -> Result<(), EventLoopError> {
        Ok(())
    }

    fn invoke_from_event_loop(&self, event: Job) -> Result<(), EventLoopError> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push_back(event);
        Ok(())
    }
}

/// Software-rendered windows and a hand-turned event loop.
struct Headless {
    window: Rc<RefCell<Option<Rc<MinimalSoftwareWindow>>>>,
    queue: Queue,
}

impl Platform for Headless {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, PlatformError> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        self.window.replace(Some(Rc::clone(&window)));
        Ok(window)
    }

    fn new_event_loop_proxy(&self) -> Option<Box<dyn EventLoopProxy>> {
        Some(Box::new(self.queue.clone()))
    }
}

struct Screen {
    window: Rc<RefCell<Option<Rc<MinimalSoftwareWindow>>>>,
    queue: Queue,
}

impl Screen {
    fn install() -> Self {
        let window = Rc::new(RefCell::new(None));
        let queue = Queue::default();
        slint::platform::set_platform(Box::new(Headless {
            window: Rc::clone(&window),
            queue: queue.clone(),
        }))
        .expect("the platform, once per process");
        Self { window, queue }
    }

    /// Runs what the link queued and the timers that are due.
    fn turn(&self) {
        while let Some(job) = self.queue.pop() {
            job();
        }
        slint::platform::update_timers_and_animations();
    }

    /// Turns the loop until `condition` holds (a guard against hangs, not a speed check).
    fn until(&self, what: &str, mut condition: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            self.turn();
            if condition() {
                return;
            }
            assert!(Instant::now() < deadline, "never happened: {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The window as the screen shows it, RGB.
    fn render(&self, width: u32, height: u32) -> Vec<Rgb8Pixel> {
        let window = self.window.borrow().clone().expect("a window");
        let mut pixels = vec![Rgb8Pixel { r: 0, g: 0, b: 0 }; (width * height) as usize];
        window.request_redraw();
        let drawn = window.draw_if_needed(|renderer| {
            renderer.render(&mut pixels, width as usize);
        });
        assert!(drawn, "the window was drawn");
        pixels
    }
}

/// A station as the engine describes it, on the gear housing's sequence.
fn status(ring: &Path) -> Status {
    Status {
        station: "Line 2, station 3".into(),
        software: "0.1.0".into(),
        model: "demo-assembly 0.4.0".into(),
        backend: "onnxruntime".into(),
        sequence: "gear-housing".into(),
        sequences: vec!["gear-housing".into(), "gear-housing-v2".into()],
        source: "line_camera".into(),
        sources: vec!["line_camera".into(), "spare_camera".into()],
        video: Some(ring.to_owned()),
        ..Status::default()
    }
}

/// The gear housing's steps, in order (config/sequences/gear-housing.toml,
/// its repeat written out).
const SEQUENCE: [&str; 22] = [
    "riveted_start",
    "spacer",
    "greased_disk",
    "separator",
    "spacer_washer",
    "spacer",
    "greased_disk",
    "separator",
    "spacer",
    "greased_disk",
    "separator",
    "spacer",
    "greased_disk",
    "separator",
    "spacer",
    "greased_disk",
    "separator",
    "spacer",
    "greased_disk",
    "install_lid_with_four_screws_torqued",
    "press_down",
    "complete_part",
];

/// A part's events from `t0`: its steps 1.1 s apart, those in `skip` left
/// out, then its verdict.
fn part(n: u32, t0: f64, skip: &[usize]) -> (Vec<Value>, f64) {
    let mut events = Vec::new();
    let mut t = t0;
    let mut missing = Vec::new();
    for (i, step) in SEQUENCE.iter().enumerate() {
        if skip.contains(&i) {
            missing.push(*step);
            continue;
        }
        events.push(json!({"kind":"step","t":t,"part":n,"step":step,"p":0.93,"status":"ok"}));
        t += 1.1 + 0.05 * f64::from(n % 4);
    }
    let verdict = if missing.is_empty() { "pass" } else { "reject" };
    events.push(json!({"kind":"part","t":t,"part":n,"verdict":verdict,"missing":missing,"errors":0}));
    (events, t + 3.0)
}

/// A state of the station: what the engine says, what happened before.
struct State {
    name: &'static str,
    status: Status,
    history: Vec<Value>,
    /// The headline the tile shows once the panel has it.
    headline: &'static str,
    /// Open the PIN keypad.
    pin: bool,
}

fn states(ring: &Path) -> Vec<State> {
    let base = || status(ring);
    let mut states = Vec::new();

    states.push(State {
        name: "idle",
        status: Status {
            standing: Standing::Idle,
            headline: "INSPECTING".into(),
            detail: "waiting for the first part".into(),
            expected_next: vec!["riveted_start".into()],
            progress: Some(Progress {
                done: 0,
                total: 22,
                repeat: None,
            }),
            ..base()
        },
        history: Vec::new(),
        headline: "INSPECTING",
        pin: false,
    });

    // A reject missing eight steps and one wrong: the longest detail a part gives.
    let (mut reject, _) = part(1, 4.0, &[5, 6, 7, 8, 9, 10, 19, 20]);
    reject.insert(
        6,
        json!({"kind":"step","t":9.0,"part":1,"step":"press_down","p":0.81,"status":"error","expected":["spacer_washer"]}),
    );
    let missing = "missing: spacer, greased_disk, separator, spacer, greased_disk, separator, \
                   install_lid_with_four_screws_torqued, press_down; 1 step out of order";
    states.push(State {
        name: "reject",
        status: Status {
            standing: Standing::Reject,
            headline: "REJECT #1".into(),
            detail: missing.into(),
            reject_waiting: true,
            expected_next: vec!["riveted_start".into()],
            progress: Some(Progress {
                done: 0,
                total: 22,
                repeat: None,
            }),
            ..base()
        },
        history: reject,
        headline: "REJECT #1",
        pin: false,
    });

    let (pass, _) = part(1, 4.0, &[]);
    states.push(State {
        name: "pass",
        status: Status {
            standing: Standing::Pass,
            headline: "PASS #1".into(),
            expected_next: vec!["riveted_start".into()],
            progress: Some(Progress {
                done: 0,
                total: 22,
                repeat: None,
            }),
            ..base()
        },
        history: pass,
        headline: "PASS #1",
        pin: false,
    });

    // Ten closed parts (two rejects) and the eleventh in its repeat.
    let mut ten = Vec::new();
    let mut t = 4.0;
    for n in 1..=10 {
        let skip: &[usize] = match n {
            4 => &[19],
            8 => &[2, 3],
            _ => &[],
        };
        let (events, next) = part(n, t, skip);
        ten.extend(events);
        t = next;
    }
    for (i, step) in SEQUENCE.iter().take(7).enumerate() {
        ten.push(json!({"kind":"step","t":t + i as f64,"part":11,"step":step,"p":0.95,"status":"ok"}));
    }
    let eleventh = Status {
        standing: Standing::Idle,
        headline: "PART #11".into(),
        detail: "last step: greased_disk".into(),
        expected_next: vec!["separator".into(), "install_lid_with_four_screws_torqued".into()],
        progress: Some(Progress {
            done: 7,
            total: 22,
            repeat: Some((2, 5)),
        }),
        ..base()
    };
    states.push(State {
        name: "ten-parts",
        status: eleventh.clone(),
        history: ten.clone(),
        headline: "PART #11",
        pin: false,
    });

    states.push(State {
        name: "pin",
        status: Status {
            standing: Standing::Reject,
            headline: "REJECT #10".into(),
            detail: "missing: greased_disk, separator".into(),
            reject_waiting: true,
            ..eleventh
        },
        history: ten,
        headline: "REJECT #10",
        pin: true,
    });

    states.push(State {
        name: "fault",
        status: Status {
            standing: Standing::Fault,
            headline: "FAULT".into(),
            detail: "inference stalled: no prediction for 5 s; the reject relay is held".into(),
            faults: vec!["inference_stalled".into()],
            ..base()
        },
        history: Vec::new(),
        headline: "FAULT",
        pin: false,
    });
    states
}

/// A camera picture for the video: a bench and a part on it, flat colours
/// (the screenshots stay small).
fn picture(width: u32, height: u32) -> Vec<u8> {
    let mut bgrx = Vec::with_capacity((width * height * 4) as usize);
    for y in 0..height {
        for x in 0..width {
            let bench = y > height * 3 / 5;
            let (dx, dy) = (
                f64::from(x) - f64::from(width) / 2.0,
                f64::from(y) - f64::from(height) * 0.55,
            );
            let part = dx * dx + dy * dy < f64::from(height / 5).powi(2);
            let (r, g, b) = if part {
                (150, 156, 164)
            } else if bench {
                (92, 72, 54)
            } else {
                (38, 44, 52)
            };
            bgrx.extend_from_slice(&[b, g, r, 0]);
        }
    }
    bgrx
}

/// An element's rectangle in the window: (x, y, width, height).
fn rect(element: &ElementHandle) -> (f32, f32, f32, f32) {
    let (p, s) = (element.absolute_position(), element.size());
    (p.x, p.y, s.width, s.height)
}

/// Asserts that the element labelled `label` (with `role`, if given) lies wholly on the screen.
fn on_screen(app: &AppWindow, label: &str, role: Option<AccessibleRole>, size: (u32, u32), shot: &str) {
    let elements: Vec<_> = labelled(app, label)
        .into_iter()
        .filter(|e| role.is_none_or(|r| e.accessible_role() == Some(r)))
        .collect();
    assert!(!elements.is_empty(), "{shot}: no {label:?} on screen");
    for element in elements {
        let (x, y, w, h) = rect(&element);
        let (sw, sh) = (size.0 as f32, size.1 as f32);
        assert!(
            w > 0.0 && h > 0.0 && x >= 0.0 && y >= 0.0 && x + w <= sw + 0.5 && y + h <= sh + 0.5,
            "{shot}: {label:?} at ({x}, {y}) {w}×{h} is not wholly on the {sw}×{sh} screen"
        );
    }
}

fn write_png(path: &Path, size: (u32, u32), pixels: &[Rgb8Pixel]) {
    let file = std::fs::File::create(path).expect("screenshot file");
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), size.0, size.1);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header().expect("png header");
    let bytes: Vec<u8> = pixels.iter().flat_map(|p| [p.r, p.g, p.b]).collect();
    writer.write_image_data(&bytes).expect("png data");
}

/// The indicator's colours (ui/theme.slint), by standing.
fn tile_colour(standing: Standing) -> [u8; 3] {
    match standing {
        Standing::Idle => [0x1f, 0x5f, 0xbf],
        Standing::Pass => [0x12, 0xa1, 0x50],
        Standing::Warning => [0xf5, 0xa3, 0x00],
        Standing::Reject => [0xe0, 0x28, 0x1b],
        Standing::NoVideo => [0x4a, 0x55, 0x66],
        Standing::Fault => [0x8e, 0x44, 0xd6],
    }
}

/// Asserts that the tile is painted where its geometry says: its colour
/// just inside each of its four edges, halfway along.
fn painted(pixels: &[Rgb8Pixel], size: (u32, u32), tile: (f32, f32, f32, f32), colour: [u8; 3], shot: &str) {
    let (x, y, w, h) = tile;
    let at = |px: f32, py: f32| {
        let (px, py) = (px.round() as u32, py.round() as u32);
        let p = pixels[(py * size.0 + px) as usize];
        [p.r, p.g, p.b]
    };
    let inset = 4.0;
    for (px, py) in [
        (x + inset, y + h / 2.0),
        (x + w - inset, y + h / 2.0),
        (x + w / 2.0, y + inset),
        (x + w / 2.0, y + h - inset),
    ] {
        let got = at(px, py);
        assert!(
            (0..3).all(|i| got[i].abs_diff(colour[i]) <= 8),
            "{shot}: the tile's colour {colour:?} expected at ({px}, {py}), found {got:?}"
        );
    }
}

#[test]
fn the_status_tile_is_whole_on_every_screen_in_every_state() {
    let screen = Screen::install();
    let dir = TempDir::new("screens");
    let shots = std::env::var_os("ACTREC_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots"));
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let ring_path = dir.join("video.ring");
    let (vw, vh) = (640, 360);
    let mut ring = RingWriter::create(
        &ring_path,
        Geometry {
            width: vw,
            height: vh,
            slots: 2,
        },
        1,
    )
    .expect("video ring");
    let frame = picture(vw, vh);
    let mut pts = 0;

    for (index, state) in states(&ring_path).into_iter().enumerate() {
        let socket = dir.join(&format!("engine-{index}.sock"));
        let engine = FakeEngine::start(&socket, state.status.clone());
        engine.history(state.history.clone());
        for size in SIZES {
            let shot = format!("panel-{}x{}-{}", size.0, size.1, state.name);
            let app = AppWindow::new().expect("the panel's window");
            app.window()
                .set_size(slint::LogicalSize::new(size.0 as f32, size.1 as f32));
            app.show().expect("show");
            let panel = Panel::start(&app, Settings { socket: socket.clone() }).expect("panel");
            let closed = state.history.iter().filter(|e| e["kind"] == "part").count();
            let summary = if closed > 0 { "Part " } else { "" };
            screen.until(&format!("{shot}: the state shown"), || {
                pts += 1;
                ring.write(pts, &frame).expect("a frame");
                value(&app, "Part status") == state.headline
                    && value(&app, "Last part").starts_with(summary)
                    && app.global::<actrec_panel::ui::StationAdapter>().get_video_live()
            });
            // Small screens: the ten parts' chart is behind its tab.
            if state.name == "ten-parts" && !labelled(&app, "Cycle times").is_empty() {
                press(&app, "Cycle times");
                screen.until(&format!("{shot}: the chart"), || {
                    !labelled(&app, "Cycle time chart").is_empty()
                });
            }
            if state.pin {
                press(&app, "Acknowledge reject");
                screen.until(&format!("{shot}: the keypad"), || {
                    !labelled(&app, "Supervisor PIN").is_empty()
                });
                for digit in ["1", "2"] {
                    press(&app, digit);
                }
                screen.turn();
                assert_eq!(value(&app, "PIN"), "2 digits");
            }

            // What must always be whole: the tile, and what is around it.
            on_screen(&app, "Part status", None, size, &shot);
            on_screen(&app, "Sequence progress", None, size, &shot);
            on_screen(&app, "Acknowledge reject", Some(AccessibleRole::Button), size, &shot);
            on_screen(&app, "Export to USB", Some(AccessibleRole::Button), size, &shot);
            on_screen(&app, "Info", Some(AccessibleRole::Button), size, &shot);
            if !labelled(&app, "Step log").is_empty() {
                on_screen(&app, "Step log", None, size, &shot);
            }
            if !labelled(&app, "Cycle time chart").is_empty() {
                on_screen(&app, "Cycle time chart", None, size, &shot);
            }
            if state.pin {
                on_screen(&app, "Supervisor PIN", None, size, &shot);
                for key in ["1", "0", "9", "Clear", "Delete", "Cancel", "Confirm"] {
                    on_screen(&app, key, Some(AccessibleRole::Button), size, &shot);
                }
            }
            // The tile at the right edge with the page's margin, not cut by it.
            let tile = rect(&labelled(&app, "Part status")[0]);
            assert!(
                size.0 as f32 - (tile.0 + tile.2) >= 9.5,
                "{shot}: the tile ends {:?} px from the screen's edge",
                size.0 as f32 - (tile.0 + tile.2)
            );

            let pixels = screen.render(size.0, size.1);
            if !state.pin {
                let colour = tile_colour(state.status.standing);
                painted(&pixels, size, tile, colour, &shot);
                // The system test finds the tile in its screenshots this way: check it here,
                // where the tile's geometry is known.
                let bytes: Vec<u8> = pixels.iter().flat_map(|p| [p.r, p.g, p.b]).collect();
                let side = tile.2 as usize;
                let (left, right) =
                    common::tile_extent(&bytes, size.0 as usize, 3, colour, side * 4 / 5).expect("the tile found");
                assert!(
                    left.abs_diff(tile.0 as usize) <= 3 && right.abs_diff((tile.0 + tile.2) as usize) <= 3,
                    "{shot}: the tile found at x {left}..{right}, laid out at {tile:?}"
                );
            }
            let path = shots.join(format!("{shot}.png"));
            write_png(&path, size, &pixels);
            eprintln!("{}: tile at {tile:?}", path.display());
            drop(panel);
            app.hide().expect("hide");
            drop(app);
            screen.turn();
        }
        drop(engine);
    }
}
