//! `[model]` and `[model.tensorrt]`: which network the station runs and on
//! which runtime, and the settings an inference backend gets from them.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::StationConfig;
use crate::diag::Report;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelRef {
    /// Directory holding `manifest.toml` and the network.
    pub dir: PathBuf,
    /// Which runtime runs the network. Default `auto`.
    #[serde(default)]
    pub backend: ModelBackend,
    /// CPU threads for inference. Default 1: on a 2-core station the other
    /// core decodes video.
    #[serde(default = "default_threads")]
    pub threads: u32,
    /// `libonnxruntime.so.1.*` for the `onnxruntime` backend; default
    /// `$ORT_DYLIB_PATH`, else the loader's search path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onnxruntime_library: Option<PathBuf>,
    /// Seconds one frame may spend in the model branch before the engine
    /// raises `inference_stalled`. Default 5: a window takes milliseconds on
    /// a station's hardware. Keep it below systemd's `WatchdogSec`.
    #[serde(default = "default_stall_seconds")]
    pub stall_seconds: u32,
    /// The `tensorrt` backend (Jetson): `[model.tensorrt]`.
    #[serde(default)]
    pub tensorrt: TensorRtRef,
}

/// `[model.tensorrt]`: how the station finds TensorRT and which engine it
/// builds (`actrec build-engine`) and runs.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TensorRtRef {
    /// The shim library (`app/infer/trt-shim`); default `libactrec_trt.so.2`
    /// on the loader's search path.
    #[serde(default = "default_shim")]
    pub shim: PathBuf,
    /// The engine's precision. Default `fp16`; `int8` needs a GPU with fast
    /// INT8 (not the Nano) and a calibration cache.
    #[serde(default)]
    pub precision: Precision,
    /// Where built engines are kept; default `engines` in `station.data_dir`
    /// (relative paths are too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engines_dir: Option<PathBuf>,
    /// Where windows are made when TensorRT runs: `cpu` (the default: the
    /// pipeline crops and scales, the CPU packs) or `gpu` (whole NV12
    /// frames go to the shim's device ring and its kernel makes each
    /// window in the engine's inputs; docs/GPU.md).
    #[serde(default)]
    pub preprocess: PreprocessOn,
}

/// Where a window's crop, resize, normalisation and packing run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PreprocessOn {
    #[default]
    Cpu,
    Gpu,
}

impl Default for TensorRtRef {
    fn default() -> Self {
        Self {
            shim: default_shim(),
            precision: Precision::default(),
            engines_dir: None,
            preprocess: PreprocessOn::default(),
        }
    }
}

fn default_shim() -> PathBuf {
    "libactrec_trt.so.2".into()
}

/// Precision of a TensorRT engine. Its serde name is [`Precision::name`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    Fp32,
    #[default]
    Fp16,
    Int8,
}

impl Precision {
    pub fn name(self) -> &'static str {
        match self {
            Precision::Fp32 => "fp32",
            Precision::Fp16 => "fp16",
            Precision::Int8 => "int8",
        }
    }
}

fn default_threads() -> u32 {
    1
}

fn default_stall_seconds() -> u32 {
    5
}

/// The runtimes a station can run its network on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelBackend {
    /// The fastest that loads: TensorRT, else ONNX Runtime, else tract; the
    /// engine says why it fell back.
    #[default]
    Auto,
    /// TensorRT through the shim, on an engine `actrec build-engine` built.
    Tensorrt,
    /// tract: pure Rust, always built.
    Tract,
    /// ONNX Runtime, opened at run time (cargo feature `onnxruntime`).
    Onnxruntime,
}

/// What an inference backend needs besides the model, with paths resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct InferenceSettings {
    pub backend: ModelBackend,
    pub threads: u32,
    pub onnxruntime_library: Option<PathBuf>,
    pub tensorrt: TensorRtSettings,
}

/// The `tensorrt` backend's settings, with paths resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorRtSettings {
    pub shim: PathBuf,
    /// Where built engines are kept: `station.data_dir`/engines.
    pub engines_dir: PathBuf,
    pub precision: Precision,
    pub preprocess: PreprocessOn,
}

impl Default for InferenceSettings {
    fn default() -> Self {
        Self {
            backend: ModelBackend::Auto,
            threads: default_threads(),
            onnxruntime_library: None,
            tensorrt: TensorRtSettings {
                shim: default_shim(),
                engines_dir: "engines".into(),
                precision: Precision::default(),
                preprocess: PreprocessOn::default(),
            },
        }
    }
}

impl TensorRtRef {
    /// The shim as the loader gets it: a bare name is for the loader to
    /// search; a path is relative to the config file.
    pub(super) fn shim_in(&self, config_dir: &Path) -> PathBuf {
        if self.shim.components().count() > 1 {
            config_dir.join(&self.shim)
        } else {
            self.shim.clone()
        }
    }
}

impl StationConfig {
    /// The model directory, resolved against the config file's directory.
    pub fn model_dir(&self, config_dir: &Path) -> PathBuf {
        config_dir.join(&self.model.dir)
    }

    /// How to run the network, with paths resolved against the config file's directory.
    pub fn inference(&self, config_dir: &Path) -> InferenceSettings {
        InferenceSettings {
            backend: self.model.backend,
            threads: self.model.threads,
            onnxruntime_library: self.model.onnxruntime_library.as_ref().map(|p| config_dir.join(p)),
            tensorrt: TensorRtSettings {
                shim: self.model.tensorrt.shim_in(config_dir),
                engines_dir: self.data_dir(config_dir).join(
                    self.model
                        .tensorrt
                        .engines_dir
                        .as_deref()
                        .unwrap_or(Path::new("engines")),
                ),
                precision: self.model.tensorrt.precision,
                preprocess: self.model.tensorrt.preprocess,
            },
        }
    }
}

pub(super) fn validate_model(model: &ModelRef, report: &mut Report<'_, '_>) {
    if model.dir.as_os_str().is_empty() {
        report.at("model.dir", "dir is empty");
    }
    if !(1..=64).contains(&model.threads) {
        report.at(
            "model.threads",
            format!("threads = {} must be from 1 to 64", model.threads),
        );
    }
    if !(1..=600).contains(&model.stall_seconds) {
        report.at(
            "model.stall_seconds",
            format!("stall_seconds = {} must be from 1 to 600", model.stall_seconds),
        );
    }
    if model
        .onnxruntime_library
        .as_ref()
        .is_some_and(|p| p.as_os_str().is_empty())
    {
        report.at("model.onnxruntime_library", "onnxruntime_library is empty");
    }
    if model.tensorrt.shim.as_os_str().is_empty() {
        report.at("model.tensorrt.shim", "shim is empty");
    }
}
