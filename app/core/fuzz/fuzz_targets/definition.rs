//! Any text given as a sequence definition gives a definition or located
//! problems; never a panic. Valid definitions must also build a checker that
//! survives a run of their own labels.
#![no_main]

use actrec_core::sequence::{Checker, Definition, Occurrence};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(definition) = Definition::parse("fuzz.toml", text, None) {
        let mut checker = Checker::new(&definition);
        for (i, label) in definition.labels().iter().enumerate() {
            checker.observe(&Occurrence { t: i as f64, label: label.clone(), p: 0.9 });
        }
        checker.finish(0.0);
    }
});
