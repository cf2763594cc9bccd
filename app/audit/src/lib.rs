//! The station's audit log: every part, step, warning, fault, source change
//! and operator action, in one SQLite file, so that nothing is lost and
//! nothing can be altered without it showing.
//!
//! # Design
//! - **One append-only chain table** is the source of truth: each row has an
//!   id, a wall-clock time (UTC ms), a kind, the part number, a canonical
//!   JSON body, `prev_hash` and `hash = SHA-256(prev_hash, content)` (the
//!   exact bytes are in [`chain`]). The views `parts`, `steps` and `faults`
//!   only read it. [`verify`] walks the chain and names the first broken row.
//! - **Durability** ([`Audit`]): WAL mode. A verdict is committed with
//!   `synchronous=FULL` by [`Audit::commit_verdict`], which returns only
//!   after the fsync: the engine fires the reject relay after it. Other rows
//!   are written at once with `synchronous=NORMAL` and share the next fsync.
//! - **Migrations** ([`schema`]): `PRAGMA user_version` and an ordered list.
//! - **Retention** ([`Audit::prune`]): the oldest rows beyond a size or an
//!   age go; an `anchor` row records the last pruned row's id and hash and
//!   the counts of what went, so verification still works.
//! - **Export** ([`export()`], [`verify_export`]): a folder for a USB stick with
//!   CSV for spreadsheets, JSON lines of every row, the evidence clips and a
//!   manifest of SHA-256 sums and the chain's head.
//!
//! # What the hash chain does not do
//! Anyone with write access to the file can rewrite the whole chain from
//! some row on, or drop its newest rows, and it verifies again: only a head
//! recorded elsewhere shows that. Every export's `MANIFEST.json` records the
//! head, and the engine logs it to the journal; comparing a later chain
//! with a head recorded earlier shows a rewrite.

pub mod chain;
pub mod export;
pub mod record;
pub mod schema;
mod store;
pub mod time;

pub use chain::{Break, BrokenRow, ChainHead, GENESIS, VerifyError, verify};
pub use export::{
    ExportCheck, ExportError, ExportProblem, ExportProgress, Exported, Manifest, VerifyExportError, export,
    verify_export,
};
pub use record::{
    Artifact, Fault, FaultRecord, FaultState, JudgedWith, Kind, OperatorAction, OperatorRecord, PartRecord, Record,
    SourceChange, SourceRecord, StationEvent, StationRecord, StepRecord, WarningRecord,
};
pub use store::{Audit, Error, PreviousRun, Pruned, Retention, RowId, Settings, StoredRow, sha256_file};
pub use time::Timestamp;
