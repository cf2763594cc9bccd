//! The storage seam: where the engine's audit rows go. The real store is
//! actrec-audit's hash-chained SQLite log ([`actrec_audit::Audit`]); the
//! fake keeps rows in memory and can be told to fail, as a full or
//! read-only disk would.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use actrec_audit::record::{PartRecord, Record};
use actrec_audit::{Audit, ChainHead, Error, PreviousRun, Pruned, RowId, Timestamp};
use actrec_core::sync::lock;

pub trait AuditStore: Send {
    /// A row, written with the next durable commit.
    fn record(&mut self, record: &Record) -> Result<RowId, Error>;
    /// A row, durable (fsync) when this returns.
    fn commit(&mut self, record: &Record) -> Result<RowId, Error>;
    /// A part's verdict, durable when this returns.
    fn commit_verdict(&mut self, part: &PartRecord) -> Result<RowId, Error>;
    fn previous_run(&self) -> Result<PreviousRun, Error>;
    fn prune(&mut self, now: Timestamp) -> Result<Option<Pruned>, Error>;
    fn head(&self) -> Result<ChainHead, Error>;
}

impl AuditStore for Audit {
    fn record(&mut self, record: &Record) -> Result<RowId, Error> {
        Audit::record(self, record)
    }
    fn commit(&mut self, record: &Record) -> Result<RowId, Error> {
        Audit::commit(self, record)
    }
    fn commit_verdict(&mut self, part: &PartRecord) -> Result<RowId, Error> {
        Audit::commit_verdict(self, part)
    }
    fn previous_run(&self) -> Result<PreviousRun, Error> {
        Audit::previous_run(self)
    }
    fn prune(&mut self, now: Timestamp) -> Result<Option<Pruned>, Error> {
        Audit::prune(self, now)
    }
    fn head(&self) -> Result<ChainHead, Error> {
        Audit::head(self)
    }
}

/// What a [`FakeAudit`] holds; shared with the test that made it.
#[derive(Debug, Default)]
pub struct FakeAuditState {
    /// Rows written, with whether they were committed durably.
    pub rows: Vec<(Record, bool)>,
    /// Every write fails while this is set, as on a full disk.
    pub failing: bool,
    pub previous_run: Option<PreviousRun>,
}

/// An in-memory audit store.
#[derive(Debug, Clone, Default)]
pub struct FakeAudit(pub Arc<Mutex<FakeAuditState>>);

impl FakeAudit {
    pub fn state(&self) -> std::sync::MutexGuard<'_, FakeAuditState> {
        lock(&self.0)
    }

    fn write(&self, record: Record, durable: bool) -> Result<RowId, Error> {
        let mut state = lock(&self.0);
        if state.failing {
            return Err(Error::Folder {
                path: PathBuf::from("fake-audit"),
                source: std::io::Error::other("no space left on device (fake)"),
            });
        }
        state.rows.push((record, durable));
        Ok(RowId(state.rows.len() as i64))
    }
}

impl AuditStore for FakeAudit {
    fn record(&mut self, record: &Record) -> Result<RowId, Error> {
        self.write(record.clone(), false)
    }
    fn commit(&mut self, record: &Record) -> Result<RowId, Error> {
        self.write(record.clone(), true)
    }
    fn commit_verdict(&mut self, part: &PartRecord) -> Result<RowId, Error> {
        self.write(Record::Part(part.clone()), true)
    }
    fn previous_run(&self) -> Result<PreviousRun, Error> {
        Ok(lock(&self.0).previous_run.unwrap_or(PreviousRun::None))
    }
    fn prune(&mut self, _now: Timestamp) -> Result<Option<Pruned>, Error> {
        Ok(None)
    }
    fn head(&self) -> Result<ChainHead, Error> {
        let rows = lock(&self.0).rows.len();
        Ok(ChainHead {
            id: rows as i64,
            rows: rows as u64,
            ..ChainHead::empty()
        })
    }
}
