//! The removable-media seam: which USB sticks are mounted under the
//! configured mount roots. The real one reads `/proc/self/mountinfo`
//! ([`crate::usb`]); the fake is a list the test sets.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use actrec_core::sync::lock;

pub trait Mounts {
    /// Mount points of whole filesystems strictly below one of `roots`.
    fn removable(&self, roots: &[PathBuf]) -> Vec<PathBuf>;
}

/// The kernel's mount table.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcMounts;

impl Mounts for ProcMounts {
    fn removable(&self, roots: &[PathBuf]) -> Vec<PathBuf> {
        crate::usb::removable_mounts(roots)
    }
}

/// Sticks a test plugs in and pulls out.
#[derive(Debug, Clone, Default)]
pub struct FakeMounts(pub Arc<Mutex<Vec<PathBuf>>>);

impl Mounts for FakeMounts {
    fn removable(&self, _roots: &[PathBuf]) -> Vec<PathBuf> {
        lock(&self.0).clone()
    }
}
