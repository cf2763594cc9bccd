//! The panel as a whole: the engine link, the video, and the controllers,
//! tied to one window.
//!
//! The link's threads queue messages and wake the UI thread through
//! `slint::Weak::upgrade_in_event_loop`, at most one wake in flight; the UI
//! thread then applies everything queued (in batches, so that a flood
//! cannot freeze the screen). A timer polls the video ring at ~30 Hz.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use slint::{ComponentHandle, Timer, TimerMode};

use crate::connection::{Connection, ConnectionError, Incoming};
use crate::controllers::{InfoController, StationController};
use crate::ui::{AppWindow, StationAdapter};
use crate::video::Video;

/// Video polls: a little faster than the engine's 25–30 fps, so no frame waits long.
const VIDEO_POLL: Duration = Duration::from_millis(30);
/// Messages applied per wake before the UI gets a turn.
const BATCH: usize = 256;

#[derive(Debug, Clone)]
pub struct Settings {
    /// The engine's socket.
    pub socket: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum PanelError {
    #[error(transparent)]
    Connection(#[from] ConnectionError),
}

/// The running panel; dropping it stops the link and the video.
pub struct Panel {
    // Held for its lifetime: the link, the timers and the callbacks live as long as it does.
    _inner: Rc<Inner>,
}

struct Inner {
    app: slint::Weak<AppWindow>,
    connection: Connection,
    wake: Arc<dyn Fn() + Send + Sync>,
    woken: Arc<AtomicBool>,
    station: Rc<RefCell<StationController>>,
    info: RefCell<InfoController>,
    video: RefCell<Video>,
    video_path: RefCell<Option<PathBuf>>,
    video_timer: Timer,
}

impl Panel {
    /// Connects `app` to the engine at `settings.socket` (retrying until one
    /// is there) and starts the video. Must run on the UI thread.
    pub fn start(app: &AppWindow, settings: Settings) -> Result<Self, PanelError> {
        let woken = Arc::new(AtomicBool::new(false));
        let wake: Arc<dyn Fn() + Send + Sync> = {
            let app = app.as_weak();
            let woken = Arc::clone(&woken);
            Arc::new(move || {
                if woken.swap(true, Ordering::AcqRel) {
                    return;
                }
                let sent = app.upgrade_in_event_loop(|app| app.invoke_engine_messages());
                if sent.is_err() {
                    // No event loop (any more): let a later message try again.
                    woken.store(false, Ordering::Release);
                }
            })
        };
        let connection = {
            let wake = Arc::clone(&wake);
            Connection::start(settings.socket.clone(), move || wake())?
        };
        let socket = settings.socket.display().to_string();
        let station = Rc::new(RefCell::new(StationController::new(
            connection.commands(),
            socket.clone(),
        )));
        StationController::bind(&station, app);
        let inner = Rc::new(Inner {
            app: app.as_weak(),
            connection,
            wake,
            woken,
            station,
            info: RefCell::new(InfoController::new(socket)),
            video: RefCell::new(Video::new()),
            video_path: RefCell::new(None),
            video_timer: Timer::default(),
        });
        inner.show_info(app);
        {
            let weak = Rc::downgrade(&inner);
            app.on_engine_messages(move || {
                if let Some(inner) = weak.upgrade() {
                    inner.pump();
                }
            });
        }
        {
            let weak = Rc::downgrade(&inner);
            inner.video_timer.start(TimerMode::Repeated, VIDEO_POLL, move || {
                if let Some(inner) = weak.upgrade() {
                    inner.poll_video();
                }
            });
        }
        Ok(Self { _inner: inner })
    }
}

impl Inner {
    fn pump(&self) {
        // Cleared first: a message queued from here on wakes us again.
        self.woken.store(false, Ordering::Release);
        let Some(app) = self.app.upgrade() else {
            return;
        };
        let mut station = self.station.borrow_mut();
        for applied in 0.. {
            if applied == BATCH {
                (self.wake)();
                break;
            }
            let Some(message) = self.connection.try_recv() else {
                break;
            };
            match message {
                Incoming::Link(link) => station.on_link(&app, link),
                Incoming::Status(status) => {
                    self.video_path.replace(status.video.clone());
                    station.on_status(&app, *status);
                }
                Incoming::Event(event) => station.on_event(&app, &event),
                Incoming::Reply { command, ok, error } => station.on_reply(&app, command, ok, error),
                Incoming::Dropped(_) => station.on_dropped(),
            }
        }
        station.flush(&app);
        drop(station);
        self.show_info(&app);
    }

    fn show_info(&self, app: &AppWindow) {
        let station = self.station.borrow();
        self.info.borrow_mut().show(app, station.status(), &station.link_text());
    }

    fn poll_video(&self) {
        let Some(app) = self.app.upgrade() else {
            return;
        };
        let now = Instant::now();
        let mut video = self.video.borrow_mut();
        let path = self.video_path.borrow();
        let station = app.global::<StationAdapter>();
        if let Some(frame) = video.poll(path.as_deref(), now) {
            station.set_video(frame);
        }
        let live = video.live(now);
        if station.get_video_live() != live {
            station.set_video_live(live);
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        tracing::debug!(socket = %self.connection.socket().display(), "panel: stopping");
    }
}
