//! The station page: the link's state, the engine's status, events and
//! replies into the page's adapters; its buttons into commands.
//!
//! The PIN dialog is a small state machine of its own:
//!
//! ```text
//! Closed ──Acknowledge pressed──▶ Typing ──Confirm──▶ Checking ──reply ok──▶ Closed
//!                                   ▲                    └──reply error──▶ Typing (error shown, PIN cleared)
//!                                   └──Cancel (any time)──▶ Closed
//! ```
//!
//! The digits typed stay here, never in a UI property, and are dropped once sent.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use actrec_ipc::{Decoded, EngineEvent, Status, ToEngine};
use slint::{ComponentHandle, SharedString, Timer, TimerMode};

use super::{indicator, model, strings, tone};
use crate::connection::{CommandKind, Commands, Link};
use crate::model::{
    self as m, CHART_PARTS, CycleChart, ExportTracker, Indicator, LOG_CAPACITY, StepLog, VerdictLook as _,
};
use crate::ui::{
    AppWindow, ChartAdapter, ChartBar, ChartSegment, ControlAdapter, LegendItem, LinkState, LogAdapter, LogRow,
    Overlay, StationAdapter,
};

/// Digits a PIN may have (the engine takes 4 to 12).
const PIN_MAX: usize = 12;
/// How long a command's failure stays on screen.
const NOTICE: Duration = Duration::from_secs(8);

pub struct StationController {
    commands: Commands,
    socket: String,
    link: Link,
    status: Option<Status>,
    log: StepLog,
    chart: CycleChart,
    export: ExportTracker,
    pin: String,
    pin_busy: bool,
    notice_timer: Timer,
    /// Views to redraw once the messages at hand are applied.
    log_dirty: bool,
    chart_dirty: bool,
}

impl StationController {
    pub fn new(commands: Commands, socket: String) -> Self {
        Self {
            commands,
            link: Link::Waiting { reason: String::new() },
            socket,
            status: None,
            log: StepLog::new(LOG_CAPACITY),
            chart: CycleChart::new(CHART_PARTS),
            export: ExportTracker::default(),
            pin: String::new(),
            pin_busy: false,
            notice_timer: Timer::default(),
            log_dirty: true,
            chart_dirty: true,
        }
    }

    /// Replaces the adapters' design-time samples with the real (empty) state
    /// and wires the page's callbacks.
    pub fn bind(this: &Rc<RefCell<Self>>, app: &AppWindow) {
        {
            let mut controller = this.borrow_mut();
            let station = app.global::<StationAdapter>();
            station.set_station("".into());
            station.set_sequence("".into());
            station.set_source("".into());
            station.set_reject_waiting(false);
            station.set_video_live(false);
            let control = app.global::<ControlAdapter>();
            control.set_sources(strings(&[]));
            control.set_sequences(strings(&[]));
            control.set_notice("".into());
            controller.show_link(app);
            controller.show_progress(app);
            controller.show_export(app);
            controller.flush(app);
        }
        let control = app.global::<ControlAdapter>();
        let with_text = |action: fn(&mut Self, &AppWindow, String)| {
            let this = Rc::downgrade(this);
            let app = app.as_weak();
            move |text: SharedString| {
                if let (Some(this), Some(app)) = (this.upgrade(), app.upgrade()) {
                    action(&mut this.borrow_mut(), &app, text.into());
                }
            }
        };
        control.on_switch_source(with_text(Self::switch_source));
        control.on_select_sequence(with_text(Self::select_sequence));
        control.on_pin_key(with_text(Self::pin_key));
        let plain = |action: fn(&mut Self, &AppWindow)| {
            let this = Rc::downgrade(this);
            let app = app.as_weak();
            move || {
                if let (Some(this), Some(app)) = (this.upgrade(), app.upgrade()) {
                    action(&mut this.borrow_mut(), &app);
                }
            }
        };
        control.on_open_pin(plain(Self::open_pin));
        control.on_acknowledge(plain(Self::acknowledge));
        control.on_cancel_pin(plain(Self::close_pin));
        control.on_export(plain(Self::export));
        control.on_dismiss_export(plain(Self::dismiss_export));
    }

    pub fn status(&self) -> Option<&Status> {
        self.status.as_ref()
    }

    /// The link in a few words, for the info page.
    pub fn link_text(&self) -> String {
        match &self.link {
            Link::Waiting { .. } => "waiting for the engine".to_owned(),
            Link::Connected { engine } => format!("connected ({engine})"),
            Link::Lost { reason } => format!("lost: {reason}"),
            Link::Refused { message } => format!("refused: {message}"),
        }
    }

    pub fn on_link(&mut self, app: &AppWindow, link: Link) {
        if matches!(link, Link::Connected { .. }) {
            // The engine sends its status and replays its recent events after
            // connecting: start afresh, with nothing stale shown and nothing twice.
            self.status = None;
            self.log.clear();
            self.chart.clear();
            self.log_dirty = true;
            self.chart_dirty = true;
        }
        self.link = link;
        self.show_link(app);
    }

    pub fn on_status(&mut self, app: &AppWindow, status: Status) {
        let station = app.global::<StationAdapter>();
        let control = app.global::<ControlAdapter>();
        // The first status of a connection sets everything; later ones what changed
        // (a new model each second would rebuild an open picker).
        let old = self.status.take();
        let fresh = old.is_none();
        let old = old.unwrap_or_default();
        if fresh || old.station != status.station {
            station.set_station(status.station.as_str().into());
        }
        if fresh || old.sequence != status.sequence {
            station.set_sequence(status.sequence.as_str().into());
        }
        if fresh || old.source != status.source {
            station.set_source(status.source.as_str().into());
        }
        if fresh || old.sources != status.sources {
            control.set_sources(strings(&status.sources));
        }
        if fresh || old.sequences != status.sequences {
            control.set_sequences(strings(&status.sequences));
        }
        station.set_reject_waiting(status.reject_waiting);
        self.export.apply_status(&status);
        self.status = Some(status);
        self.show_link(app);
        self.show_progress(app);
        self.show_export(app);
    }

    pub fn on_event(&mut self, app: &AppWindow, value: &serde_json::Value) {
        let event = match EngineEvent::parse(value) {
            Ok(Decoded::Event(event)) => event,
            Ok(Decoded::Unknown { kind }) => {
                tracing::debug!(kind, "panel: an event kind from a newer engine, passed by");
                return;
            }
            Err(err) => {
                tracing::warn!(%err, "panel: an event it cannot read");
                return;
            }
        };
        self.log_dirty |= self.log.apply(&event);
        self.chart_dirty |= self.chart.apply(&event);
        if self.export.apply_event(&event) {
            self.show_export(app);
        }
    }

    pub fn on_reply(&mut self, app: &AppWindow, command: CommandKind, ok: bool, error: Option<String>) {
        let error = error.unwrap_or_else(|| "refused".to_owned());
        if ok {
            tracing::info!(?command, "panel: command done");
        } else {
            tracing::warn!(?command, %error, "panel: command failed");
        }
        let control = app.global::<ControlAdapter>();
        match command {
            CommandKind::Acknowledge => {
                self.pin_busy = false;
                control.set_pin_busy(false);
                if ok {
                    self.close_pin(app);
                    self.notice(app, "Reject acknowledged", m::Tone::Pass);
                } else if control.get_overlay() == Overlay::Pin {
                    // Open still: the supervisor tries again.
                    self.pin.clear();
                    control.set_pin_digits(0);
                    control.set_pin_error(error.as_str().into());
                } else {
                    self.notice(app, &format!("Not acknowledged: {error}"), m::Tone::Reject);
                }
            }
            CommandKind::Export if !ok => {
                self.export.refused(error);
                self.show_export(app);
            }
            CommandKind::SwitchSource if !ok => {
                self.notice(app, &format!("Source not switched: {error}"), m::Tone::Reject);
            }
            CommandKind::SelectSequence if !ok => {
                self.notice(app, &format!("Sequence not selected: {error}"), m::Tone::Reject);
            }
            _ => {}
        }
    }

    /// The engine dropped messages for this panel: the log may have holes,
    /// so it is rebuilt from the engine's recent events.
    pub fn on_dropped(&mut self) {
        self.log.clear();
        self.chart.clear();
        self.log_dirty = true;
        self.chart_dirty = true;
        self.commands.send(ToEngine::Sync);
    }

    /// Redraws the views changed by the messages applied since the last flush.
    pub fn flush(&mut self, app: &AppWindow) {
        if std::mem::take(&mut self.log_dirty) {
            self.show_log(app);
        }
        if std::mem::take(&mut self.chart_dirty) {
            self.show_chart(app);
        }
    }

    fn switch_source(&mut self, _app: &AppWindow, source: String) {
        tracing::info!(%source, "panel: switching the source");
        self.commands.send(ToEngine::SwitchSource { source });
    }

    fn select_sequence(&mut self, _app: &AppWindow, name: String) {
        tracing::info!(sequence = %name, "panel: selecting a sequence");
        self.commands.send(ToEngine::SelectSequence { name });
    }

    fn open_pin(&mut self, app: &AppWindow) {
        self.pin.clear();
        self.pin_busy = false;
        let control = app.global::<ControlAdapter>();
        control.set_pin_digits(0);
        control.set_pin_error("".into());
        control.set_pin_busy(false);
        control.set_overlay(Overlay::Pin);
    }

    fn pin_key(&mut self, app: &AppWindow, key: String) {
        if self.pin_busy {
            return;
        }
        match key.as_str() {
            "clear" => self.pin.clear(),
            "delete" => {
                self.pin.pop();
            }
            digit if digit.len() == 1 && digit.bytes().all(|b| b.is_ascii_digit()) => {
                if self.pin.len() < PIN_MAX {
                    self.pin.push_str(digit);
                }
            }
            other => tracing::warn!(key = %other, "panel: unknown keypad key"),
        }
        let control = app.global::<ControlAdapter>();
        control.set_pin_digits(i32::try_from(self.pin.len()).unwrap_or(i32::MAX));
        control.set_pin_error("".into());
    }

    fn acknowledge(&mut self, app: &AppWindow) {
        if self.pin.is_empty() || self.pin_busy {
            return;
        }
        let pin = std::mem::take(&mut self.pin);
        self.pin_busy = true;
        let control = app.global::<ControlAdapter>();
        control.set_pin_busy(true);
        control.set_pin_error("".into());
        control.set_pin_digits(0);
        tracing::info!("panel: acknowledging the reject");
        self.commands.send(ToEngine::Acknowledge { pin });
    }

    fn close_pin(&mut self, app: &AppWindow) {
        self.pin.clear();
        let control = app.global::<ControlAdapter>();
        control.set_pin_digits(0);
        control.set_pin_error("".into());
        if control.get_overlay() == Overlay::Pin {
            control.set_overlay(Overlay::None);
        }
    }

    fn export(&mut self, app: &AppWindow) {
        tracing::info!("panel: export to the USB stick");
        self.export.requested();
        self.show_export(app);
        self.commands.send(ToEngine::Export { to: None });
    }

    fn dismiss_export(&mut self, app: &AppWindow) {
        self.export.dismiss();
        self.show_export(app);
    }

    fn notice(&mut self, app: &AppWindow, text: &str, kind: m::Tone) {
        let control = app.global::<ControlAdapter>();
        control.set_notice(text.into());
        control.set_notice_tone(tone(kind));
        let app = app.as_weak();
        self.notice_timer.start(TimerMode::SingleShot, NOTICE, move || {
            if let Some(app) = app.upgrade() {
                app.global::<ControlAdapter>().set_notice("".into());
            }
        });
    }

    /// The link chip, and the indicator: the engine's standing while
    /// connected, the link's state otherwise (a stale PASS must not stay up).
    fn show_link(&self, app: &AppWindow) {
        let station = app.global::<StationAdapter>();
        let socket = &self.socket;
        let (state, chip, kind, headline, detail) = match &self.link {
            Link::Connected { .. } => {
                let (kind, headline, detail) = m::indicator(self.status.as_ref().unwrap_or(&Status::default()));
                (
                    LinkState::Connected,
                    "Engine connected".to_owned(),
                    kind,
                    headline,
                    detail,
                )
            }
            Link::Waiting { .. } => (
                LinkState::Waiting,
                "Waiting for engine…".to_owned(),
                Indicator::Offline,
                "Waiting for engine…".to_owned(),
                format!("socket {socket}"),
            ),
            Link::Lost { reason } => (
                LinkState::Lost,
                "Engine lost; reconnecting…".to_owned(),
                Indicator::Offline,
                "Waiting for engine…".to_owned(),
                format!("{reason}; socket {socket}"),
            ),
            Link::Refused { message } => (
                LinkState::Refused,
                "Engine refused this panel".to_owned(),
                Indicator::Fault,
                "VERSION MISMATCH".to_owned(),
                message.clone(),
            ),
        };
        station.set_link(state);
        station.set_link_text(chip.into());
        station.set_indicator(indicator(kind));
        station.set_headline(headline.into());
        station.set_detail(detail.into());
    }

    fn show_progress(&self, app: &AppWindow) {
        let station = app.global::<StationAdapter>();
        let (expected, progress) = match &self.status {
            Some(status) if matches!(self.link, Link::Connected { .. }) => {
                (status.expected_next.as_slice(), status.progress.as_ref())
            }
            _ => (&[][..], None),
        };
        let view = m::progress(expected, progress);
        station.set_next_step(view.next.into());
        station.set_steps_text(view.steps.into());
        station.set_repeat_text(view.repeat.into());
        station.set_progress(view.fraction);
    }

    fn show_export(&self, app: &AppWindow) {
        let view = self.export.view();
        let control = app.global::<ControlAdapter>();
        control.set_export_enabled(view.enabled);
        control.set_export_stick(view.stick.into());
        control.set_export_visible(view.visible);
        control.set_export_busy(view.busy);
        control.set_export_fraction(view.fraction);
        control.set_export_message(view.message.into());
        control.set_export_tone(tone(view.tone));
    }

    fn show_log(&self, app: &AppWindow) {
        let rows = self
            .log
            .rows()
            .map(|row| LogRow {
                time: row.time.as_str().into(),
                part: row.part.as_str().into(),
                step: row.step.as_str().into(),
                status: row.status.as_str().into(),
                confidence: row.confidence.as_str().into(),
                tone: tone(row.tone),
            })
            .collect();
        let adapter = app.global::<LogAdapter>();
        adapter.set_rows(model(rows));
        match self.log.last_part() {
            Some(part) => {
                adapter.set_last_part(m::part_summary(part).into());
                adapter.set_last_part_tone(tone(part.verdict.tone()));
            }
            None => adapter.set_last_part("".into()),
        }
    }

    fn show_chart(&self, app: &AppWindow) {
        let bars = self
            .chart
            .bars()
            .map(|bar| ChartBar {
                part: bar.part.to_string().into(),
                total: bar.total as f32,
                label: format!("{:.1} s", bar.total).into(),
                tone: tone(bar.verdict.tone()),
                segments: model(
                    bar.segments
                        .iter()
                        .map(|s| ChartSegment {
                            step: m::display_label(&s.step).into(),
                            seconds: s.seconds as f32,
                            start: s.start as f32,
                            color_index: i32::try_from(s.color).unwrap_or(0),
                            error: s.error,
                        })
                        .collect(),
                ),
            })
            .collect::<Vec<_>>();
        let adapter = app.global::<ChartAdapter>();
        let count = bars.len();
        adapter.set_bars(model(bars));
        adapter.set_max_seconds(self.chart.max_total() as f32);
        let mean = self.chart.mean_total();
        adapter.set_mean_seconds(mean.unwrap_or(0.0) as f32);
        adapter.set_mean_text(
            mean.map(|mean| {
                let parts = if count == 1 { "part" } else { "parts" };
                format!("mean {mean:.1} s over {count} {parts}")
            })
            .unwrap_or_default()
            .into(),
        );
        adapter.set_legend(model(
            self.chart
                .legend()
                .map(|(step, color)| LegendItem {
                    step: m::display_label(step).into(),
                    color_index: i32::try_from(color).unwrap_or(0),
                })
                .collect(),
        ));
    }
}
