//! The model manifest (`manifest.toml` in a model directory): what the network
//! can say (its labels) and what it needs to see (its input).
//!
//! ```toml
//! name = "actrec-demo"
//! version = "0.1.0"
//! file = "model.onnx"     # the network, in this directory (absent: no network yet)
//! int8_file = "model.int8.onnx"  # optional: the same network quantised (Q/DQ), for TensorRT INT8
//! labels = ["idle", "riveted_start", "spacer"]
//!
//! [input]
//! layout = "NCTHW"        # each pathway is [1, 3, frames, size, size]
//! size = 256              # square crop side, pixels
//! window_seconds = 1.0    # video per prediction
//! stride_seconds = 1.0    # time between predictions (default: window_seconds)
//! fast_input = "fast"     # input tensor names
//! slow_input = "slow"
//! fast_frames = 32        # fast pathway: floor(linspace(0, n-1, 32)) of the n frames in a window
//! slow_frames = 8         # slow pathway: floor(linspace(0, 31, 8)) of the fast frames
//! mean = [0.45, 0.45, 0.45]   # per channel, after scaling pixels to 0..1
//! std = [0.225, 0.225, 0.225]
//! ```

use serde::Deserialize;

use crate::diag::{Problems, TomlDoc};
use crate::label::label_problem;

pub const MANIFEST_FILE: &str = "manifest.toml";

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    /// The network file, relative to the model directory.
    #[serde(default)]
    pub file: Option<String>,
    /// The same network with its INT8 quantisation written in it
    /// (QuantizeLinear/DequantizeLinear pairs), for TensorRT's `int8`
    /// precision; relative to the model directory.
    #[serde(default)]
    pub int8_file: Option<String>,
    /// Class labels, in the order of the network's output.
    pub labels: Vec<String>,
    pub input: InputSpec,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    #[serde(default = "default_layout")]
    pub layout: String,
    pub size: u32,
    pub window_seconds: f64,
    #[serde(default)]
    pub stride_seconds: Option<f64>,
    #[serde(default = "default_fast_input")]
    pub fast_input: String,
    #[serde(default = "default_slow_input")]
    pub slow_input: String,
    pub fast_frames: u32,
    pub slow_frames: u32,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

fn default_layout() -> String {
    "NCTHW".into()
}
fn default_fast_input() -> String {
    "fast".into()
}
fn default_slow_input() -> String {
    "slow".into()
}

impl InputSpec {
    /// A two-pathway input of `size` pixels in the manifest's defaults
    /// (NCTHW, inputs `fast` and `slow`) with pytorchvideo's SlowFast
    /// sampling and normalisation: 1 s windows, one every second, 32 fast
    /// and 8 slow frames, mean 0.45 and std 0.225. The demo model's input at 96.
    pub fn slowfast(size: u32) -> Self {
        Self {
            layout: default_layout(),
            size,
            window_seconds: 1.0,
            stride_seconds: None,
            fast_input: default_fast_input(),
            slow_input: default_slow_input(),
            fast_frames: 32,
            slow_frames: 8,
            mean: [0.45; 3],
            std: [0.225; 3],
        }
    }

    /// Time between predictions.
    pub fn stride(&self) -> f64 {
        self.stride_seconds.unwrap_or(self.window_seconds)
    }
}

impl Manifest {
    pub fn parse(origin: &str, text: &str) -> Result<Self, Problems> {
        let doc = TomlDoc::parse(origin, text)?;
        let mut report = doc.report();
        let manifest: Option<Manifest> = report.whole();
        if let Some(m) = &manifest {
            if m.name.trim().is_empty() {
                report.at("name", "name is empty");
            }
            if m.labels.len() < 2 {
                report.at("labels", "a model needs at least two labels");
            }
            for (i, label) in m.labels.iter().enumerate() {
                if let Some(problem) = label_problem(label) {
                    report.at(format!("labels[{i}]"), problem);
                } else if m.labels[..i].contains(label) {
                    report.at(format!("labels[{i}]"), format!("`{label}` is listed twice"));
                }
            }
            let input = &m.input;
            if !(16..=4096).contains(&input.size) {
                report.at(
                    "input.size",
                    format!("size = {} must be from 16 to 4096 pixels", input.size),
                );
            }
            if !(input.window_seconds > 0.0 && input.window_seconds <= 60.0) {
                report.at(
                    "input.window_seconds",
                    format!(
                        "window_seconds = {} must be more than 0 and at most 60",
                        input.window_seconds
                    ),
                );
            }
            if input.layout != "NCTHW" {
                report.at(
                    "input.layout",
                    format!("layout `{}` is not supported; use \"NCTHW\"", input.layout),
                );
            }
            if let Some(stride) = input.stride_seconds
                && !(stride > 0.0 && stride <= input.window_seconds)
            {
                report.at(
                    "input.stride_seconds",
                    format!("stride_seconds = {stride} must be more than 0 and at most window_seconds"),
                );
            }
            if input.fast_input == input.slow_input {
                report.at("input.slow_input", "the two pathways need different input names");
            }
            for (field, file) in [("file", &m.file), ("int8_file", &m.int8_file)] {
                if let Some(file) = file
                    && (file.is_empty() || file.contains('/'))
                {
                    report.at(field, format!("`{file}` must be a file name in the model directory"));
                }
            }
            if input.fast_frames == 0 {
                report.at("input.fast_frames", "fast_frames must be at least 1");
            }
            if input.slow_frames == 0 || input.slow_frames > input.fast_frames {
                report.at(
                    "input.slow_frames",
                    format!(
                        "slow_frames = {} must be from 1 to fast_frames ({})",
                        input.slow_frames, input.fast_frames
                    ),
                );
            }
            for (i, std) in input.std.iter().enumerate() {
                if !std.is_finite() || *std <= 0.0 {
                    report.at(format!("input.std[{i}]"), format!("std = {std} must be greater than 0"));
                }
            }
        }
        report.finish(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "demo"
version = "0.1.0"
labels = ["idle", "a", "b"]
[input]
size = 256
window_seconds = 1.0
fast_frames = 32
slow_frames = 8
mean = [0.45, 0.45, 0.45]
std = [0.225, 0.225, 0.225]
"#;

    #[test]
    fn parses_a_manifest() {
        let m = Manifest::parse("manifest.toml", GOOD).expect("valid");
        assert_eq!(m.labels, ["idle", "a", "b"]);
        assert_eq!(m.input.slow_frames, 8);
    }

    #[test]
    fn reports_every_problem() {
        let bad = GOOD
            .replace("[\"idle\", \"a\", \"b\"]", "[\"idle\", \"a\", \"a\"]")
            .replace("slow_frames = 8", "slow_frames = 64")
            .replace("std = [0.225, 0.225, 0.225]", "std = [0.225, 0.0, 0.225]");
        let problems = Manifest::parse("manifest.toml", &bad).expect_err("invalid");
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["labels[2]", "input.slow_frames", "input.std[1]"]);
        assert_eq!(problems.0[0].line, 4);
    }

    #[test]
    fn network_files_are_names_in_the_model_directory() {
        let named = GOOD.replace("labels =", "file = \"m.onnx\"\nint8_file = \"m.int8.onnx\"\nlabels =");
        let m = Manifest::parse("manifest.toml", &named).expect("valid");
        assert_eq!(m.int8_file.as_deref(), Some("m.int8.onnx"));
        let outside = GOOD.replace("labels =", "int8_file = \"../m.int8.onnx\"\nlabels =");
        let problems = Manifest::parse("manifest.toml", &outside).expect_err("invalid");
        assert_eq!(problems.0[0].field, "int8_file");
        assert!(
            problems.0[0]
                .message
                .contains("must be a file name in the model directory")
        );
    }
}
