//! Throughput of the pure inspection path: window lines → events.
//!
//! The baseline, run in the same process, is parsing the window lines alone;
//! the other rows add decoding and sequence checking on top of it, so the
//! ratios say what the checker costs compared with reading its input.
//! Run with `make bench` or `cargo bench -p actrec-core`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use actrec_core::decode::{DecoderSettings, Window};
use actrec_core::inspect::Inspector;
use actrec_core::sequence::Definition;
use actrec_core::windows::WindowReader;

const SEED_SEQUENCE: &str = include_str!("../../../config/sequences/gear-housing.toml");
const GOOD_WINDOWS: &str = include_str!("../../../config/demo/good-part.windows.jsonl");

fn parse(lines: &str) -> Vec<Window> {
    let mut reader = WindowReader::new("bench");
    lines
        .lines()
        .enumerate()
        .filter_map(|(i, l)| reader.line(i + 1, l).ok().flatten())
        .collect()
}

/// Runs `f` repeatedly for about a second; returns nanoseconds per item.
fn measure(items: usize, mut f: impl FnMut()) -> f64 {
    f(); // warm up
    let start = Instant::now();
    let mut rounds = 0u32;
    while start.elapsed() < Duration::from_secs(1) {
        f();
        rounds += 1;
    }
    start.elapsed().as_nanos() as f64 / (f64::from(rounds) * items as f64)
}

fn inspect(definition: &Definition, windows: &[Window]) {
    let mut inspector = Inspector::new(DecoderSettings::default(), definition);
    for window in windows {
        black_box(inspector.push(window));
    }
    black_box(inspector.finish());
}

/// A long definition (a 5-step group repeated 200 times: 1000 steps) and a good run of it.
fn long_sequence() -> (Definition, Vec<Window>) {
    let text = "name = \"long\"\nfinal_step = \"end\"\nsteps = [\"start\", { repeat = 200, steps = [\"a\", \"b\", \"c\", \"d\", \"e\"] }, \"end\"]\n";
    let definition = Definition::parse("long.toml", text, None).expect("valid bench definition");
    let mut labels = vec!["start"];
    for _ in 0..200 {
        labels.extend(["a", "b", "c", "d", "e"]);
    }
    labels.push("end");
    let windows = labels
        .iter()
        .enumerate()
        .map(|(i, l)| Window {
            t: i as f64,
            label: (*l).to_owned(),
            p: 0.9,
        })
        .collect();
    (definition, windows)
}

fn main() {
    let seed = Definition::parse("gear-housing.toml", SEED_SEQUENCE, None).expect("valid seed definition");
    let windows = parse(GOOD_WINDOWS);
    let n = windows.len();

    let parse_ns = measure(n, || {
        black_box(parse(GOOD_WINDOWS));
    });
    let check_ns = measure(n, || inspect(&seed, &windows));
    let (long, long_windows) = long_sequence();
    let long_ns = measure(long_windows.len(), || inspect(&long, &long_windows));

    println!("| path | ns per window | ratio to parsing |");
    println!("|---|---:|---:|");
    println!("| parse window lines (baseline) | {parse_ns:.0} | 1.00 |");
    println!(
        "| decode + check, seed sequence (22 steps) | {check_ns:.0} | {:.2} |",
        check_ns / parse_ns
    );
    println!(
        "| decode + check, 1002-step sequence | {long_ns:.0} | {:.2} |",
        long_ns / parse_ns
    );
}
