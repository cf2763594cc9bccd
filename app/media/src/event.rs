//! What the media layer tells the engine. The decision layer turns loss and
//! errors into the fault light; the audit log records every one.
//!
//! The types are part of the engine's event contract and live there
//! (`actrec_ipc::event`); they are re-exported here so that the media code
//! names them where it always has.

pub use actrec_ipc::event::{Branch, MediaEvent};
