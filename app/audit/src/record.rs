//! What the engine records: one variant per kind of row.
//!
//! Each record becomes one chain row: its kind and part number in columns,
//! everything else in the JSON body (keys sorted, no spaces: see
//! [`canonical_json`]). Field names are part of the audit format: rename
//! none of them; add new fields or new kinds instead.

use actrec_core::event::{StepStatus, Verdict};
use serde::Serialize;
use serde_json::Value;

/// The kinds of chain rows. `Schema` and `Anchor` are written by the audit
/// log itself (migrations and retention).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Part,
    Step,
    Warning,
    Fault,
    Source,
    Operator,
    Station,
    Schema,
    Anchor,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Part,
        Kind::Step,
        Kind::Warning,
        Kind::Fault,
        Kind::Source,
        Kind::Operator,
        Kind::Station,
        Kind::Schema,
        Kind::Anchor,
    ];

    /// The name in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Part => "part",
            Kind::Step => "step",
            Kind::Warning => "warning",
            Kind::Fault => "fault",
            Kind::Source => "source",
            Kind::Operator => "operator",
            Kind::Station => "station",
            Kind::Schema => "schema",
            Kind::Anchor => "anchor",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// One event for the audit log.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A closed part and its verdict: write it with [`crate::Audit::commit_verdict`].
    Part(PartRecord),
    Step(StepRecord),
    Warning(WarningRecord),
    Fault(FaultRecord),
    Source(SourceRecord),
    Operator(OperatorRecord),
    Station(StationRecord),
}

impl Record {
    pub fn kind(&self) -> Kind {
        match self {
            Record::Part(_) => Kind::Part,
            Record::Step(_) => Kind::Step,
            Record::Warning(_) => Kind::Warning,
            Record::Fault(_) => Kind::Fault,
            Record::Source(_) => Kind::Source,
            Record::Operator(_) => Kind::Operator,
            Record::Station(_) => Kind::Station,
        }
    }

    /// The part number, for the `part` column.
    pub fn part(&self) -> Option<u32> {
        match self {
            Record::Part(r) => Some(r.part),
            Record::Step(r) => Some(r.part),
            Record::Warning(r) => r.part,
            Record::Operator(OperatorRecord {
                action: OperatorAction::Acknowledge { part },
                ..
            }) => *part,
            _ => None,
        }
    }

    /// The body as canonical JSON text.
    pub fn body(&self) -> String {
        let value = match self {
            Record::Part(r) => serde_json::to_value(r),
            Record::Step(r) => serde_json::to_value(r),
            Record::Warning(r) => serde_json::to_value(r),
            Record::Fault(r) => serde_json::to_value(r),
            Record::Source(r) => serde_json::to_value(r),
            Record::Operator(r) => serde_json::to_value(r),
            Record::Station(r) => serde_json::to_value(r),
        };
        // Serialising these plain structs to a Value cannot fail (no maps
        // with non-string keys); a Null body would still be hashed and kept.
        canonical_json(&value.unwrap_or(Value::Null))
    }
}

/// A closed part: the row that must be durable before the reject relay fires.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartRecord {
    /// The checker's part number (counts from 1 at each engine start).
    pub part: u32,
    /// Stream time of the part's end, in seconds.
    pub stream_t: f64,
    pub verdict: Verdict,
    /// Every expected step never done, in sequence order, repeats counted.
    pub missing: Vec<String>,
    /// Steps done out of sequence.
    pub errors: u32,
    /// The evidence clip, absolute or relative to the clips directory.
    pub clip: Option<String>,
    /// What the part was judged with.
    pub judged_with: JudgedWith,
}

/// The model, config and sequence a part was judged with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JudgedWith {
    pub model: Artifact,
    pub config: Artifact,
    pub sequence: Artifact,
}

/// One input file set, named, versioned and hashed (see [`crate::sha256_file`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Artifact {
    pub name: String,
    /// Empty when the artifact has no version of its own (the config file).
    pub version: String,
    /// SHA-256, lowercase hex, of the file (the network for a model).
    pub sha256: String,
}

/// One step occurrence checked against the sequence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRecord {
    pub part: u32,
    pub stream_t: f64,
    pub step: String,
    /// Mean confidence.
    pub p: f64,
    pub status: StepStatus,
    /// On an error, the steps that would have been accepted.
    pub expected: Vec<String>,
}

/// A window below the confidence threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WarningRecord {
    pub part: Option<u32>,
    pub stream_t: f64,
    pub label: String,
    pub p: f64,
}

/// A fault row's kind: the workspace's one fault type. Its names (what
/// `fault` holds in a row's body) are those this log has always stored.
pub use actrec_core::light::FaultKind as Fault;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultState {
    Raised,
    Cleared,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultRecord {
    pub fault: Fault,
    pub state: FaultState,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceChange {
    /// Chosen at start or switched to.
    Selected,
    Lost,
    Recovered,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceRecord {
    pub source: String,
    pub change: SourceChange,
    /// On `selected`: the source before, if any.
    pub previous: Option<String>,
    pub detail: String,
}

/// Something an operator did at the station.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperatorRecord {
    /// Who, when the panel knows (a badge or PIN owner); never the PIN itself.
    pub operator: Option<String>,
    #[serde(flatten)]
    pub action: OperatorAction,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum OperatorAction {
    /// A supervisor acknowledged a reject or a fault.
    Acknowledge {
        part: Option<u32>,
    },
    SourceSwitch {
        from: Option<String>,
        to: String,
    },
    /// An export was written (see [`crate::export`]).
    Export {
        to: String,
        from: String,
        until: String,
        rows: u64,
        head_hash: String,
    },
    /// A wrong PIN was entered, or any PIN while the pad was locked.
    WrongPin,
    /// Parts are checked against another sequence from now on.
    SelectSequence {
        from: String,
        to: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StationEvent {
    Started,
    Stopped,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StationRecord {
    pub event: StationEvent,
    /// The engine's version.
    pub software: String,
    pub detail: String,
}

/// JSON with object keys sorted and no whitespace: the form every body is
/// stored and hashed in, so that anyone can rebuild it.
pub fn canonical_json(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), sorted(v))).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    // With serde_json's `preserve_order` off the map is already sorted; with
    // it on (feature unification elsewhere in a build), `sorted` rebuilds the
    // map in sorted insertion order, which is what gets written.
    sorted(value).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_canonical() {
        let record = Record::Operator(OperatorRecord {
            operator: Some("lead".into()),
            action: OperatorAction::SourceSwitch {
                from: None,
                to: "line_camera".into(),
            },
        });
        assert_eq!(record.kind().as_str(), "operator");
        assert_eq!(
            record.body(),
            r#"{"action":"source_switch","from":null,"operator":"lead","to":"line_camera"}"#
        );
        let step = Record::Step(StepRecord {
            part: 3,
            stream_t: 12.5,
            step: "place \"gear\"".into(),
            p: 0.9,
            status: StepStatus::Error,
            expected: vec!["spacer".into()],
        });
        assert_eq!(step.part(), Some(3));
        assert_eq!(
            step.body(),
            r#"{"expected":["spacer"],"p":0.9,"part":3,"status":"error","step":"place \"gear\"","stream_t":12.5}"#
        );
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
    }

    /// Fault rows hashed by earlier versions must still verify: each kind is
    /// written as it always was.
    #[test]
    fn fault_bodies_keep_their_stored_names() {
        let body = |fault| {
            Record::Fault(FaultRecord {
                fault,
                state: FaultState::Raised,
                detail: "x".into(),
            })
            .body()
        };
        assert_eq!(
            body(Fault::EngineOutage),
            r#"{"detail":"x","fault":"engine_outage","state":"raised"}"#
        );
        assert_eq!(
            body(Fault::AuditWriteFailure),
            r#"{"detail":"x","fault":"audit_write_failure","state":"raised"}"#
        );
        assert_eq!(
            body(Fault::Actuator),
            r#"{"detail":"x","fault":"actuator","state":"raised"}"#
        );
        for fault in Fault::ALL {
            assert_eq!(
                body(fault),
                format!(r#"{{"detail":"x","fault":"{}","state":"raised"}}"#, fault.as_str())
            );
        }
    }
}
