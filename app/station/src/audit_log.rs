//! The engine's side of the audit log: station events become audit records.
//! A part's verdict is committed (fsync) before the reject relay fires; a
//! write that fails raises the `audit_write_failure` fault, and the part is
//! still rejected on the line.

use std::path::Path;

use actrec_audit::record::{
    Artifact, Fault, FaultRecord, FaultState, JudgedWith, OperatorAction, OperatorRecord, PartRecord, Record,
    SourceChange, SourceRecord, StationEvent, StationRecord, StepRecord, WarningRecord,
};
use actrec_audit::{Audit, PreviousRun, RowId, Settings, Timestamp, sha256_file};
use actrec_core::event::Event;
use actrec_core::light::FaultKind;
use actrec_core::sequence::Definition;

use crate::StationError;
use crate::deps::audit::AuditStore;
use crate::load::LoadedStation;

pub struct AuditLog {
    audit: Box<dyn AuditStore>,
    judged_with: JudgedWith,
}

/// The model, config and sequence by name, version and SHA-256.
pub fn judged_with(station: &LoadedStation) -> Result<JudgedWith, StationError> {
    let hash = hash_file;
    let (config_path, config_dir) = (&station.config_path, &station.config_dir);
    let manifest = &station.manifest;
    let model_dir = station.config.model_dir(config_dir);
    let model_file = model_dir.join(manifest.file.as_deref().unwrap_or(actrec_core::manifest::MANIFEST_FILE));
    let sequence = station.config.sequence_file(config_dir);
    Ok(JudgedWith {
        sequence: sequence_artifact(&station.definition, &sequence)?,
        model: Artifact {
            name: manifest.name.clone(),
            version: manifest.version.clone(),
            sha256: hash(&model_file)?,
        },
        config: Artifact {
            name: config_path.display().to_string(),
            version: String::new(),
            sha256: hash(config_path)?,
        },
    })
}

/// A sequence definition by name and its file's SHA-256.
pub fn sequence_artifact(definition: &Definition, file: &Path) -> Result<Artifact, StationError> {
    Ok(Artifact {
        name: definition.name.clone(),
        version: String::new(),
        sha256: hash_file(file)?,
    })
}

fn hash_file(path: &Path) -> Result<String, StationError> {
    sha256_file(path).map_err(|err| StationError::Path {
        path: path.to_owned(),
        message: format!("cannot read to hash it: {err}"),
    })
}

impl AuditLog {
    pub fn open(path: &Path, settings: Settings, judged_with: JudgedWith) -> Result<Self, StationError> {
        let audit = Audit::open(path, settings).map_err(|err| StationError::Path {
            path: path.to_owned(),
            message: format!("audit log: {err}"),
        })?;
        let log = Self::new(Box::new(audit), judged_with);
        match log.audit.head() {
            // The head in the journal lets anyone notice later that the newest rows were cut off.
            Ok(head) => tracing::info!(audit = %path.display(), head = ?head, "audit log open"),
            Err(err) => tracing::warn!(%err, "audit log: cannot read the chain head"),
        }
        Ok(log)
    }

    /// The station's side of `audit`; prunes old rows first.
    pub fn new(mut audit: Box<dyn AuditStore>, judged_with: JudgedWith) -> Self {
        if let Err(err) = audit.prune(Timestamp::now()) {
            tracing::error!(%err, "audit log: pruning old rows failed");
        }
        Self { audit, judged_with }
    }

    /// A station event (a warning belongs to `open_part`, if any). A part's
    /// verdict is committed durably; returns its row.
    pub fn event(
        &mut self,
        event: &Event,
        open_part: Option<u32>,
        clip: Option<&Path>,
    ) -> Result<Option<RowId>, actrec_audit::Error> {
        match event {
            Event::Warning(w) => {
                self.audit.record(&Record::Warning(WarningRecord {
                    part: open_part,
                    stream_t: w.t,
                    label: w.label.clone(),
                    p: w.p,
                }))?;
                Ok(None)
            }
            Event::Step(step) => {
                self.audit.record(&Record::Step(StepRecord {
                    part: step.part,
                    stream_t: step.t,
                    step: step.step.clone(),
                    p: step.p,
                    status: step.status,
                    expected: step.expected.clone(),
                }))?;
                Ok(None)
            }
            Event::Part(part) => {
                let row = self.audit.commit_verdict(&PartRecord {
                    part: part.part,
                    stream_t: part.t,
                    verdict: part.verdict,
                    missing: part.missing.clone(),
                    errors: part.errors,
                    clip: clip.map(|c| c.display().to_string()),
                    judged_with: self.judged_with.clone(),
                })?;
                Ok(Some(row))
            }
        }
    }

    pub fn fault(&mut self, kind: FaultKind, active: bool, detail: &str) -> Result<RowId, actrec_audit::Error> {
        let state = if active {
            FaultState::Raised
        } else {
            FaultState::Cleared
        };
        self.audit.commit(&Record::Fault(FaultRecord {
            fault: kind,
            state,
            detail: detail.to_owned(),
        }))
    }

    pub fn source(
        &mut self,
        source: &str,
        change: SourceChange,
        previous: Option<String>,
        detail: &str,
    ) -> Result<RowId, actrec_audit::Error> {
        self.audit.record(&Record::Source(SourceRecord {
            source: source.to_owned(),
            change,
            previous,
            detail: detail.to_owned(),
        }))
    }

    /// Parts are judged with another sequence from now on.
    pub fn set_sequence(&mut self, sequence: Artifact) {
        self.judged_with.sequence = sequence;
    }

    pub fn operator(&mut self, action: OperatorAction) -> Result<RowId, actrec_audit::Error> {
        self.audit
            .commit(&Record::Operator(OperatorRecord { operator: None, action }))
    }

    /// At start: if the previous run was cut off, the outage goes into the
    /// log as an `engine_outage` fault, raised and cleared now (the station
    /// was down, and is back). Returns how long it was down at most.
    pub fn outage(&mut self) -> Result<Option<f64>, actrec_audit::Error> {
        let PreviousRun::CutOff { last_row } = self.audit.previous_run()? else {
            return Ok(None);
        };
        let now = Timestamp::now();
        let seconds = (now.0 - last_row.0).max(0) as f64 / 1000.0;
        let detail = format!(
            "the previous run ended without stopping (crash, kill or power cut); its last row was at {}, {seconds:.1} s before this start",
            last_row.rfc3339()
        );
        for state in [FaultState::Raised, FaultState::Cleared] {
            self.audit.commit(&Record::Fault(FaultRecord {
                fault: Fault::EngineOutage,
                state,
                detail: detail.clone(),
            }))?;
        }
        Ok(Some(seconds))
    }

    pub fn station(&mut self, event: StationEvent, detail: &str) -> Result<RowId, actrec_audit::Error> {
        self.audit.commit(&Record::Station(StationRecord {
            event,
            software: env!("CARGO_PKG_VERSION").to_owned(),
            detail: detail.to_owned(),
        }))
    }

    pub fn prune(&mut self) {
        match self.audit.prune(Timestamp::now()) {
            Ok(Some(pruned)) => tracing::info!(rows = pruned.rows, "audit log: old rows pruned"),
            Ok(None) => {}
            Err(err) => tracing::error!(%err, "audit log: pruning old rows failed"),
        }
    }
}
