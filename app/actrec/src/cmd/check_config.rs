//! `actrec check-config`: validate a station config and what it names.

use std::path::Path;

use actrec_station::load::{Failure, load_station};

pub fn run(path: &Path) -> Result<(), Failure> {
    let station = load_station(path)?;
    println!(
        "{}: ok (station {}, model {} {}, sequence {}, {} sources)",
        path.display(),
        station.config.station.id,
        station.manifest.name,
        station.manifest.version,
        station.definition.name,
        station.config.sources.len()
    );
    Ok(())
}
