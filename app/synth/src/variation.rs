//! Variation files (`config/synth/*.toml`): every visual and timing knob of
//! the synthetic station. Training uses one; generalisation is measured on one
//! never seen in training.

use std::collections::BTreeMap;

use actrec_core::diag::{Problems, TomlDoc};
use serde::Deserialize;

/// The zones of the workbench, one per step that picks from it.
pub const ZONES: &[&str] = &[
    "riveted_start",
    "press",
    "lid",
    "greased_disk",
    "completed",
    "washer",
    "separator",
    "spacer",
];

/// The shipped default variation (`config/synth/default.toml`), built in so
/// that `actrec bench` makes its clip on a station without the repository.
pub const BUILT_IN: &str = include_str!("../../../config/synth/default.toml");

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variation {
    pub name: String,
    pub layout: Layout,
    pub hand: Hand,
    pub lighting: Lighting,
    pub noise: Noise,
    pub camera: Camera,
    pub timing: Timing,
    pub distractor: Distractor,
    pub faults: Faults,
}

/// Positions are fractions of the frame: x of its width, y of its height.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// Where the part is built.
    pub part: [f64; 2],
    /// Where the operator's arm enters (bottom edge).
    pub rest: [f64; 2],
    /// Centre of each zone; keys are `ZONES`.
    pub zones: BTreeMap<String, [f64; 2]>,
    /// Side of a zone, as a fraction of the frame height.
    pub zone_size: f64,
    /// Random shift of each zone per clip, as a fraction of the frame height.
    pub jitter: f64,
    /// Bench colour range, RGB.
    pub bench_min: [u8; 3],
    pub bench_max: [u8; 3],
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hand {
    pub colour_min: [u8; 3],
    pub colour_max: [u8; 3],
    /// Hand radius range, as a fraction of the frame height.
    pub size: [f64; 2],
    /// Sleeve colour range.
    pub sleeve_min: [u8; 3],
    pub sleeve_max: [u8; 3],
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lighting {
    /// Overall gain per clip.
    pub brightness: [f64; 2],
    /// Left-to-right fall-off per clip (0: flat).
    pub gradient: [f64; 2],
    /// Frame-to-frame flicker amplitude.
    pub flicker: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Noise {
    /// Sensor noise amplitude per clip, in 8-bit levels.
    pub amplitude: [f64; 2],
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Camera {
    /// Largest shift of the view per clip, as a fraction of the frame height.
    pub shift: f64,
    /// Slow wobble amplitude during the clip, same unit.
    pub drift: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    pub step_seconds: [f64; 2],
    pub idle_seconds: [f64; 2],
    /// Chance of an idle pause before each step.
    pub idle_probability: f64,
    /// Idle between parts.
    pub between_parts_seconds: [f64; 2],
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Distractor {
    /// Chance that something unrelated crosses the view during a step.
    pub probability: f64,
    pub colour: [u8; 3],
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Share of parts built with a fault.
    pub faulty_fraction: f64,
    /// Which faults to use: missing, swap, extra, repeat.
    pub kinds: Vec<FaultKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// A step left out.
    Missing,
    /// Two neighbouring steps done in the wrong order.
    Swap,
    /// A step done once too often.
    Extra,
    /// A repeated group done one time too few or too many.
    Repeat,
}

impl Variation {
    pub fn parse(origin: &str, text: &str) -> Result<Self, Problems> {
        let doc = TomlDoc::parse(origin, text)?;
        let mut report = doc.report();
        let variation: Option<Variation> = report.whole();
        if let Some(v) = &variation {
            for zone in ZONES {
                if !v.layout.zones.contains_key(*zone) {
                    report.at(
                        "layout.zones",
                        format!("zone `{zone}` is missing; zones are: {}", ZONES.join(", ")),
                    );
                }
            }
            for (name, at) in &v.layout.zones {
                if !ZONES.contains(&name.as_str()) {
                    report.at(
                        format!("layout.zones.{name}"),
                        format!("unknown zone; zones are: {}", ZONES.join(", ")),
                    );
                }
                if !at.iter().all(|c| (0.0..=1.0).contains(c)) {
                    report.at(format!("layout.zones.{name}"), "positions are fractions from 0 to 1");
                }
            }
            let mut range = |field: &str, [lo, hi]: [f64; 2], min: f64, max: f64| {
                if !(min <= lo && lo <= hi && hi <= max) {
                    report.at(
                        field,
                        format!("[{lo}, {hi}] must be an increasing range within [{min}, {max}]"),
                    );
                }
            };
            range("hand.size", v.hand.size, 0.005, 0.2);
            range("lighting.brightness", v.lighting.brightness, 0.2, 2.0);
            range("lighting.gradient", v.lighting.gradient, 0.0, 0.9);
            range("noise.amplitude", v.noise.amplitude, 0.0, 64.0);
            range("timing.step_seconds", v.timing.step_seconds, 0.2, 20.0);
            range("timing.idle_seconds", v.timing.idle_seconds, 0.0, 60.0);
            range(
                "timing.between_parts_seconds",
                v.timing.between_parts_seconds,
                0.0,
                60.0,
            );
            for (field, p) in [
                ("timing.idle_probability", v.timing.idle_probability),
                ("distractor.probability", v.distractor.probability),
                ("faults.faulty_fraction", v.faults.faulty_fraction),
            ] {
                if !(0.0..=1.0).contains(&p) {
                    report.at(field, format!("{p} is not a probability from 0 to 1"));
                }
            }
            if v.faults.faulty_fraction > 0.0 && v.faults.kinds.is_empty() {
                report.at("faults.kinds", "faulty parts need at least one fault kind");
            }
            if !(0.02..=0.3).contains(&v.layout.zone_size) {
                report.at("layout.zone_size", "zone_size must be from 0.02 to 0.3");
            }
        }
        report.finish(variation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: &str = BUILT_IN;
    const UNSEEN: &str = include_str!("../../../config/synth/unseen.toml");

    #[test]
    fn the_shipped_variations_are_valid_and_differ() {
        let default = Variation::parse("default.toml", DEFAULT).expect("valid");
        let unseen = Variation::parse("unseen.toml", UNSEEN).expect("valid");
        assert_ne!(default.hand, unseen.hand);
        assert_ne!(default.layout, unseen.layout);
    }

    #[test]
    fn problems_are_located() {
        let bad = DEFAULT.replace("faulty_fraction = 0.4", "faulty_fraction = 1.4");
        let problems = Variation::parse("v.toml", &bad).expect_err("invalid");
        assert_eq!(problems.0[0].field, "faults.faulty_fraction");
        assert!(problems.0[0].line > 0);
    }
}
