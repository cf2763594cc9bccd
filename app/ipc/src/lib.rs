//! actrec-ipc: how the engine and its clients (the panel, tools) talk.
//!
//! A Unix socket owned by the engine (mode 0660, group `actrec` where that
//! group exists). On it, frames: a 4-byte big-endian length, then that many
//! bytes of JSON. Each side's first frame is a [`Hello`] naming the protocol
//! version; a version the other side does not speak is refused with a
//! message both sides can show ("engine speaks protocol 2, this panel 1:
//! update the panel"). Then the engine sends [`ToClient`] frames (events and
//! state) and a client sends [`ToEngine`] frames (commands).
//!
//! The engine never blocks on a client: each client has a bounded queue,
//! and when a client does not keep up its oldest messages are dropped (and
//! counted). Video does not go over the socket: it goes through the shared
//! memory ring of `actrec-shmring`.
//!
//! The events themselves are one typed contract, [`EngineEvent`] (see
//! [`event`]), shared by the engine, `actrec check`, the panel and tools.

pub mod event;
mod server;
mod status;
mod wire;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use event::{Decoded, EngineEvent, EventError};
pub use server::{ClientId, Command, Server, ServerSettings};
pub use status::{Export, ExportState, Progress, Standing, Status};
pub use wire::{Client, MAX_FRAME, Sender, read_frame, write_frame};

/// The protocol version this build speaks. Bump it on any change that an
/// older peer would misread.
pub const PROTOCOL: u32 = 1;

/// The first frame on a connection, from either side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub protocol: u32,
    /// The sender's software version, for the message on a mismatch.
    pub software: String,
    /// `engine`, `panel`, or a tool's name.
    pub role: String,
}

impl Hello {
    pub fn new(role: &str) -> Self {
        Self {
            protocol: PROTOCOL,
            software: env!("CARGO_PKG_VERSION").to_owned(),
            role: role.to_owned(),
        }
    }
}

/// From the engine to a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToClient {
    /// The engine refuses the connection, and why; the socket closes after it.
    Refused { reason: String },
    /// One line of the engine's event stream: an [`EngineEvent`] as a JSON
    /// value, so that its bytes are those `actrec run` prints (see
    /// [`event`]). [`ToClient::event`] makes one, [`EngineEvent::parse`] reads it.
    Event { event: serde_json::Value },
    /// The station's state; sent on every change, once a second, and on [`ToEngine::Sync`].
    Status { status: Box<Status> },
    /// The answer to a command, in the order the commands came.
    Reply { ok: bool, error: Option<String> },
    /// Messages this client missed because it did not keep up.
    Dropped { count: u64 },
}

/// From a client to the engine. Its `Debug` leaves the PIN out, so that
/// logging a command never writes one.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ToEngine {
    SwitchSource {
        source: String,
    },
    /// A supervisor acknowledges a reject; the engine checks the PIN.
    Acknowledge {
        pin: String,
    },
    /// Export to `to`, or to the one USB stick mounted.
    Export {
        to: Option<PathBuf>,
    },
    SelectSequence {
        name: String,
    },
    /// Send me the status now and the recent events (the last parts' steps),
    /// as [`ToClient::Status`] and [`ToClient::Event`]s, then the reply.
    Sync,
}

impl std::fmt::Debug for ToEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SwitchSource { source } => f.debug_struct("SwitchSource").field("source", source).finish(),
            Self::Acknowledge { .. } => f.debug_struct("Acknowledge").finish_non_exhaustive(),
            Self::Export { to } => f.debug_struct("Export").field("to", to).finish(),
            Self::SelectSequence { name } => f.debug_struct("SelectSequence").field("name", name).finish(),
            Self::Sync => f.write_str("Sync"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IpcError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("a frame of {0} bytes is larger than the {MAX_FRAME} allowed")]
    TooLarge(usize),
    #[error("malformed message: {0}")]
    Malformed(String),
    #[error("{peer} speaks protocol {theirs} (software {software}), this side {ours}: update the older one")]
    Version {
        peer: String,
        ours: u32,
        theirs: u32,
        software: String,
    },
    #[error("the engine refused the connection: {0}")]
    Refused(String),
    #[error("the connection closed")]
    Closed,
}
