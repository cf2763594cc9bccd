//! The seams: everything the engine touches, one trait each, with its real
//! implementation's adapter and a fake beside it.
//!
//! | seam | trait | real | fake |
//! |---|---|---|---|
//! | hardware: tower light, relay, heartbeat | [`actrec_gpio::OutputLines`] (driven by [`lines::LineOutputs`]) | GPIO cdev / sysfs | [`actrec_gpio::sim::SimLines`] |
//! | storage: the audit log | [`audit::AuditStore`] | [`actrec_audit::Audit`] (SQLite) | [`audit::FakeAudit`] |
//! | video outputs | [`video::VideoOutputs`] | [`actrec_media::output::Output`] (GStreamer) | [`video::FakeVideo`] |
//! | the frame source, as decisions see it | [`source::SourceControl`] | [`actrec_media::ingest::Ingest`] | [`source::FakeSource`] |
//! | the predictor | [`actrec_infer::InferenceBackend`] (inside [`crate::model_branch`]) | ONNX Runtime, tract, TensorRT | test backends |
//! | network: panel and tools | [`clients::Clients`] | [`actrec_ipc::Server`] (Unix socket) | [`clients::FakeClients`] |
//! | events | [`events::EventSink`] | [`events::Stdout`], the panel link | [`events::Collect`] |
//! | USB sticks | [`mounts::Mounts`] | [`mounts::ProcMounts`] | [`mounts::FakeMounts`] |
//! | clock | [`crate::clock::Clock`] | [`crate::clock::SystemClock`] | [`crate::clock::FakeClock`] |

pub mod audit;
pub mod clients;
pub mod events;
pub mod lines;
pub mod mounts;
pub mod source;
pub mod video;
