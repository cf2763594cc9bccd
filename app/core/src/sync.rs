//! Locking that survives a panic elsewhere.

/// Locks a mutex, carrying on with the data if another thread panicked while
/// holding it: the values guarded in this project (timestamps, counters,
/// queues of frames) stay meaningful, and a station must keep inspecting.
pub fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
