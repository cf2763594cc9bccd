//! Any bytes given as a window file give windows or a located problem; never a panic.
#![no_main]

use actrec_core::windows::WindowReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut reader = WindowReader::new("fuzz.jsonl");
    for (i, line) in text.lines().enumerate() {
        if reader.line(i + 1, line).is_err() {
            break;
        }
    }
});
