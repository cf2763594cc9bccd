//! actrec-core: the station's pure logic, with no I/O.
//!
//! Data flows one way through the station:
//! source → preprocess → infer → **decode steps → check sequence** → {actuators, audit, outputs, panel}.
//! This crate holds the bold part and the formats that describe the rest:
//!
//! - [`config`]: the station config file;
//! - [`manifest`]: what a model needs and says;
//! - [`windows`]: per-window predictions as `actrec check` reads them;
//! - [`decode`]: windows → step occurrences (confidence, idle, debounce);
//! - [`sequence`]: sequence definitions and the checker that gives verdicts;
//! - [`inspect`]: decoder and checker joined, windows in, [`event::Event`]s out;
//! - [`light`]: the tower light and reject relay policy, from station state;
//! - [`pin`]: the supervisor PIN's hash and the lockout after wrong tries;
//! - [`sync`]: a mutex lock that outlives a panic elsewhere;
//! - [`hex`]: lowercase hexadecimal for digests and hashes.
//!
//! Every parser reports [`diag::Problem`]s located by file, line, column and field.

pub mod config;
pub mod decode;
pub mod diag;
pub mod event;
pub mod hex;
pub mod inspect;
pub mod label;
pub mod light;
pub mod manifest;
pub mod pin;
pub mod sequence;
pub mod sync;
pub mod windows;
