//! SIGTERM and SIGINT as the engine's shutdown: the reason arrives on the channel.

use crossbeam_channel::{Receiver, bounded};
use signal_hook::consts::{SIGINT, SIGTERM};

pub fn on_stop_signal() -> std::io::Result<Receiver<String>> {
    let (tx, rx) = bounded(1);
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        if let Some(signal) = signals.forever().next() {
            tracing::info!(signal, "stopping on signal");
            let _ = tx.send(format!("stopped by signal {signal}"));
        }
    })?;
    Ok(rx)
}
