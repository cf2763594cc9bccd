//! `[operator]`: how the panel and tools reach the engine, and the
//! supervisor PIN that acknowledges a reject.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::StationConfig;
use crate::diag::Report;
use crate::pin::PinHash;

/// The `[operator]` section: how the panel and tools reach the engine.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Operator {
    /// The engine's Unix socket for the panel (`actrec-ipc`); relative to
    /// this file. Absent: no panel can connect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket: Option<PathBuf>,
    /// The supervisor PIN that acknowledges a reject, as a hash made by
    /// `actrec hash-pin`. Absent: acknowledging needs no PIN. Kept as the
    /// text written, so that writing the config back gives the same hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor_pin: Option<String>,
}

impl Operator {
    pub fn pin(&self) -> Option<PinHash> {
        self.supervisor_pin
            .as_deref()
            .and_then(|text| PinHash::parse(text).ok())
    }
}

impl StationConfig {
    /// The engine's socket for the panel, resolved against the config file's directory.
    pub fn socket(&self, config_dir: &Path) -> Option<PathBuf> {
        self.operator.socket.as_ref().map(|p| config_dir.join(p))
    }
}

pub(super) fn validate_operator(operator: &Operator, report: &mut Report<'_, '_>) {
    if operator.socket.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
        report.at("operator.socket", "socket is empty");
    }
    if let Some(Err(err)) = operator.supervisor_pin.as_deref().map(PinHash::parse) {
        report.at("operator.supervisor_pin", err.to_string());
    }
}
