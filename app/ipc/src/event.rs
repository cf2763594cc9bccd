//! The engine's event stream as one typed contract: [`EngineEvent`].
//!
//! Every event the engine emits is one `EngineEvent`: the JSON lines of
//! `actrec check` and `actrec run`, and every [`ToClient::Event`] on the
//! operator socket. The panel and tools read them back with
//! [`EngineEvent::parse`]. The concepts are the workspace's own types:
//! [`Warning`], [`StepEvent`], [`PartSummary`], [`Verdict`] and
//! [`StepStatus`] from `actrec_core::event`, [`FaultKind`] and [`Lights`]
//! from `actrec_core::light`, and the media layer's [`MediaEvent`].
//!
//! # Writing (the engine)
//!
//! ```
//! use actrec_ipc::ToClient;
//! use actrec_ipc::event::{EngineEvent, FaultKind, MediaEvent};
//!
//! # let station_event = actrec_core::event::Event::Warning(actrec_core::event::Warning {
//! #     t: 9.0, label: "greased_disk".into(), p: 0.38 });
//! // A warning, step or part from the inspector: `p` of a step rounded to
//! // 3 decimals, `expected` kept on an error only (what `actrec check` writes).
//! let event = EngineEvent::from(&station_event);
//! // The engine's own events are written as they read.
//! let fault = EngineEvent::Fault { fault: FaultKind::NoVideo, active: true };
//! // The media layer's, as they come.
//! let media = EngineEvent::from(MediaEvent::SourceEnded { source: "demo".into() });
//! // To the panels.
//! let message: ToClient = ToClient::event(&fault)?;
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! # The bytes on the wire
//!
//! The JSON is what `docs/SEQUENCES.md` and `docs/PANEL.md` document and what
//! the engine wrote before this type existed, byte for byte; the golden test
//! (`app/ipc/tests/events.rs`, `tests/fixtures/golden/events.jsonl`) holds
//! one of each kind. Two forms, both golden-tested:
//!
//! - `actrec check` writes `serde_json::to_string(&event)`: `kind` first,
//!   then the fields in the order declared here.
//! - `actrec run`'s stdout and the socket carry `serde_json::to_value(&event)`
//!   ([`ToClient::event`]): a `serde_json::Value`, whose keys come out sorted
//!   (serde_json's `preserve_order` is off in this workspace). Keep going
//!   through a `Value` there, or the key order changes.
//!
//! # Reading (the panel, tools)
//!
//! [`EngineEvent::parse`] gives [`Decoded::Event`], or [`Decoded::Unknown`]
//! for a kind a newer engine added (readers pass it by), or an
//! [`EventError`] naming the kind whose fields did not read. Fields a newer
//! engine adds to a known kind are ignored.

mod media;

use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use actrec_core::event::{PartSummary, StepEvent, StepStatus, Verdict, Warning};
pub use actrec_core::light::{FaultKind, Lamp, Lights};
pub use media::{Branch, MediaEvent};

use crate::ToClient;

/// One event of the engine's stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// `remote = "Self"` turns the derives into inherent functions (for every
// kind but the media ones); the trait impls below add the media events,
// which carry their own `kind`, and `parse`'s tolerance of new kinds.
#[serde(remote = "Self", tag = "kind", rename_all = "snake_case")]
pub enum EngineEvent {
    /// A window below `min_confidence`.
    Warning(Warning),
    /// A step occurrence, checked against the part's sequence.
    Step(StepEvent),
    /// A closed part and its verdict.
    Part(PartSummary),
    /// A fault raised (`active`) or cleared.
    Fault {
        fault: FaultKind,
        active: bool,
    },
    /// The previous run was cut off; the outage, at most `seconds` long, is
    /// in the audit log.
    Outage {
        seconds: f64,
    },
    /// A part's verdict is in the audit log, durably, at `row`.
    Committed {
        part: u32,
        row: i64,
    },
    /// What the tower light shows now.
    Lights {
        lights: Lights,
    },
    /// A USB stick was mounted (`present`) or went.
    Stick {
        path: PathBuf,
        present: bool,
    },
    ExportStarted {
        to: PathBuf,
    },
    /// An export's `phase` (`rows`, `clips`, `syncing`) and its counts:
    /// rows, bytes of clips, 0 and 0 while syncing.
    ExportProgress {
        phase: String,
        done: u64,
        total: u64,
    },
    /// Written and synced; `head` is the exported chain's head hash.
    /// `safe_to_remove` is always true: the stick may be pulled.
    ExportDone {
        folder: PathBuf,
        rows: u64,
        parts: u64,
        head: String,
        safe_to_remove: bool,
    },
    ExportFailed {
        error: String,
    },
    /// A supervisor acknowledged; whether a reject was waiting for it.
    Acknowledged {
        reject_was_waiting: bool,
    },
    /// An operator's command the engine refused (a wrong PIN, say).
    Refused {
        command: String,
        reason: String,
    },
    /// Parts are checked against `sequence` from the next part on.
    SequenceSelected {
        sequence: String,
    },
    /// The engine stopped: frames the model took, and frames shown.
    Stopped {
        frames: u64,
        display_frames: u64,
    },
    /// From the media layer: on the wire, the media event's own `kind` and fields.
    #[serde(skip)]
    Media(MediaEvent),
}

/// What [`EngineEvent::parse`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    Event(EngineEvent),
    /// A kind this build does not know, from a newer engine: pass it by.
    Unknown {
        kind: String,
    },
}

/// An event of a known kind (or without a kind) whose JSON did not read.
#[derive(Debug, thiserror::Error)]
#[error("event of kind {kind:?}: {source}")]
pub struct EventError {
    /// The event's `kind`; empty when it had none.
    pub kind: String,
    #[source]
    pub source: serde_json::Error,
}

impl EngineEvent {
    /// The engine's own kinds; the media events' are [`MediaEvent::KINDS`].
    pub const OWN_KINDS: [&'static str; 16] = [
        "warning",
        "step",
        "part",
        "fault",
        "outage",
        "committed",
        "lights",
        "stick",
        "export_started",
        "export_progress",
        "export_done",
        "export_failed",
        "acknowledged",
        "refused",
        "sequence_selected",
        "stopped",
    ];

    /// Every `kind` on the wire: the engine's own, then the media events'.
    pub fn kinds() -> impl Iterator<Item = &'static str> {
        Self::OWN_KINDS.into_iter().chain(MediaEvent::KINDS)
    }

    /// Its `kind` on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Warning(_) => "warning",
            Self::Step(_) => "step",
            Self::Part(_) => "part",
            Self::Fault { .. } => "fault",
            Self::Outage { .. } => "outage",
            Self::Committed { .. } => "committed",
            Self::Lights { .. } => "lights",
            Self::Stick { .. } => "stick",
            Self::ExportStarted { .. } => "export_started",
            Self::ExportProgress { .. } => "export_progress",
            Self::ExportDone { .. } => "export_done",
            Self::ExportFailed { .. } => "export_failed",
            Self::Acknowledged { .. } => "acknowledged",
            Self::Refused { .. } => "refused",
            Self::SequenceSelected { .. } => "sequence_selected",
            Self::Stopped { .. } => "stopped",
            Self::Media(event) => event.kind(),
        }
    }

    /// Decodes one event of the stream. A kind this build does not know is
    /// [`Decoded::Unknown`], not an error, so that an older panel keeps
    /// working beside a newer engine.
    pub fn parse(value: &serde_json::Value) -> Result<Decoded, EventError> {
        let Some(kind) = value.get("kind").and_then(serde_json::Value::as_str) else {
            return Err(EventError {
                kind: String::new(),
                source: serde::de::Error::custom("no `kind` string: not an engine event"),
            });
        };
        let event = if MediaEvent::KINDS.contains(&kind) {
            MediaEvent::deserialize(value).map(Self::Media)
        } else if Self::OWN_KINDS.contains(&kind) {
            // The derived (inherent) function: the engine's own kinds.
            Self::deserialize(value)
        } else {
            return Ok(Decoded::Unknown { kind: kind.to_owned() });
        };
        event.map(Decoded::Event).map_err(|source| EventError {
            kind: kind.to_owned(),
            source,
        })
    }
}

impl Serialize for EngineEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Media(event) => event.serialize(serializer),
            // The derived (inherent) function.
            other => Self::serialize(other, serializer),
        }
    }
}

impl<'de> Deserialize<'de> for EngineEvent {
    /// Strict: an unknown kind is an error here; [`EngineEvent::parse`] tolerates it.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        match Self::parse(&value).map_err(serde::de::Error::custom)? {
            Decoded::Event(event) => Ok(event),
            Decoded::Unknown { kind } => Err(serde::de::Error::unknown_variant(&kind, &Self::OWN_KINDS)),
        }
    }
}

/// What `actrec check` has always written for the inspector's events: a
/// step's confidence rounded to 3 decimals, its `expected` on an error only.
impl From<&actrec_core::event::Event> for EngineEvent {
    fn from(event: &actrec_core::event::Event) -> Self {
        use actrec_core::event::Event;
        match event {
            Event::Warning(warning) => Self::Warning(warning.clone()),
            Event::Step(step) => Self::Step(StepEvent {
                p: round3(step.p),
                expected: match step.status {
                    StepStatus::Error => step.expected.clone(),
                    StepStatus::Ok => Vec::new(),
                },
                ..step.clone()
            }),
            Event::Part(part) => Self::Part(part.clone()),
        }
    }
}

impl From<MediaEvent> for EngineEvent {
    fn from(event: MediaEvent) -> Self {
        Self::Media(event)
    }
}

impl ToClient {
    /// An event for the socket, as `actrec run` also prints it (see the module docs).
    pub fn event(event: &EngineEvent) -> Result<Self, serde_json::Error> {
        Ok(Self::Event {
            event: serde_json::to_value(event)?,
        })
    }
}

fn round3(p: f64) -> f64 {
    (p * 1000.0).round() / 1000.0
}
