//! `actrec hash-pin`: a supervisor PIN's hash for the station config.

use std::io::{BufRead, Read};

use actrec_core::diag::{Problem, Problems};
use actrec_core::pin::{DEFAULT_ROUNDS, PinHash};

use actrec_station::load::Failure;

pub fn run() -> Result<(), Failure> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(Failure::Output)?;
    let pin = line.trim();
    let mut salt = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut salt))
        .map_err(Failure::Output)?;
    let hash = PinHash::new(pin, &salt, DEFAULT_ROUNDS).map_err(|err| {
        Failure::Input(Problems(vec![Problem {
            origin: "<stdin>".into(),
            line: 1,
            column: 1,
            field: String::new(),
            message: err.to_string(),
        }]))
    })?;
    println!("{hash}");
    Ok(())
}
