//! actrec-infer: the inference stage, behind one trait at the hardware seam.
//!
//! [`InferenceBackend`] runs one window (both pathways) and returns logits.
//! The CPU backends: [`TractBackend`] (tract, pure Rust, built by default)
//! and, with the `onnxruntime` feature, `OnnxRuntimeBackend` (ONNX Runtime,
//! loaded at run time from a shared library). [`FakeBackend`] stands in for
//! tests of everything around inference. [`Classifier`] turns logits into
//! the per-window prediction the step decoder reads. [`load`] picks the
//! backend the station config names. [`TensorRtBackend`] runs TensorRT
//! through a C++ shim opened at run time (Jetson).

mod fake;
#[cfg(feature = "onnxruntime")]
mod onnxruntime;
mod tensor_shapes;
// The FFI to the TensorRT shim: the only unsafe code of this crate.
#[allow(unsafe_code)]
pub mod tensorrt;
mod tract;

use std::path::{Path, PathBuf};

use actrec_core::config::{InferenceSettings, ModelBackend};
use actrec_core::decode::Window;
use actrec_core::manifest::Manifest;
use actrec_preprocess::gpu::{FrameLayout, WindowPlan};
use actrec_preprocess::{Clip, SlotWindow};

pub use fake::FakeBackend;
#[cfg(feature = "onnxruntime")]
pub use onnxruntime::OnnxRuntimeBackend;
pub use tensorrt::TensorRtBackend;
pub use tract::TractBackend;

#[derive(Debug, thiserror::Error)]
pub enum InferError {
    #[error("{path}: cannot load the model: {message}")]
    Load { path: PathBuf, message: String },
    #[error("{path}: the model does not match its manifest: {message}")]
    Mismatch { path: PathBuf, message: String },
    #[error("inference failed: {0}")]
    Run(String),
    #[error("the manifest names no model file (`file`)")]
    NoModel,
    #[error("backend `{0}` is not built into this binary (cargo feature `{0}`)")]
    NotBuilt(&'static str),
}

/// A backend ready to run, and why faster ones were passed over.
pub struct Loaded {
    pub backend: Box<dyn InferenceBackend>,
    /// One line per backend that `auto` tried and could not load.
    pub fell_back: Vec<String>,
}

/// Loads the model in `model_dir` on the backend `settings` names; `auto`
/// tries TensorRT, then ONNX Runtime, then tract.
pub fn load(model_dir: &Path, manifest: &Manifest, settings: &InferenceSettings) -> Result<Loaded, InferError> {
    let tract = || -> Result<Box<dyn InferenceBackend>, InferError> {
        Ok(Box::new(TractBackend::load(model_dir, manifest, settings.threads)?))
    };
    let onnxruntime = || -> Result<Box<dyn InferenceBackend>, InferError> {
        #[cfg(feature = "onnxruntime")]
        return Ok(Box::new(OnnxRuntimeBackend::load(
            model_dir,
            manifest,
            settings.threads,
            settings.onnxruntime_library.as_deref(),
        )?));
        #[cfg(not(feature = "onnxruntime"))]
        Err(InferError::NotBuilt("onnxruntime"))
    };
    let tensorrt = || -> Result<Box<dyn InferenceBackend>, InferError> {
        Ok(Box::new(TensorRtBackend::load(
            model_dir,
            manifest,
            &settings.tensorrt,
        )?))
    };
    let only = |backend| Loaded {
        backend,
        fell_back: Vec::new(),
    };
    match settings.backend {
        ModelBackend::Tract => tract().map(only),
        ModelBackend::Onnxruntime => onnxruntime().map(only),
        ModelBackend::Tensorrt => tensorrt().map(only),
        ModelBackend::Auto => {
            let mut fell_back = Vec::new();
            match tensorrt() {
                Ok(backend) => return Ok(Loaded { backend, fell_back }),
                // An engine that does not match the manifest is stale or
                // wrong: the CPU runs the model meanwhile.
                Err(err) => fell_back.push(format!("TensorRT: {err}")),
            }
            match onnxruntime() {
                Ok(backend) => Ok(Loaded { backend, fell_back }),
                // A model that does not match its manifest is wrong on every backend.
                Err(err @ InferError::Mismatch { .. }) => Err(err),
                Err(err) => {
                    fell_back.push(format!("ONNX Runtime: {err}"));
                    Ok(Loaded {
                        backend: tract()?,
                        fell_back,
                    })
                }
            }
        }
    }
}

/// Runs the network on one window.
pub trait InferenceBackend: Send {
    /// Short name for logs and the panel, e.g. "tract (CPU)".
    fn name(&self) -> &str;
    /// Logits, one per label, in the manifest's order.
    fn infer(&mut self, clip: &Clip) -> Result<Vec<f32>, InferError>;
    /// Preprocessing on the inference device, where the backend has it.
    fn device_windows(&mut self) -> Option<&mut dyn DeviceWindows> {
        None
    }
}

/// Preprocessing on the inference device (TensorRT's shim on a Jetson):
/// whole decoded frames go into a ring on the device, and each window is
/// made there, in the network's inputs (`actrec_window.cu`).
pub trait DeviceWindows {
    /// Makes the ring: `slots` frames of `layout`, windows sampled and
    /// normalised as `plan` says.
    fn prepare(&mut self, layout: FrameLayout, slots: usize, plan: WindowPlan) -> Result<(), InferError>;
    /// Copies one decoded frame into ring slot `slot`.
    fn upload(&mut self, slot: usize, frame: &[u8]) -> Result<(), InferError>;
    /// Logits of the window whose frames sit in `slots`, oldest first.
    fn infer_window(&mut self, slots: &[usize]) -> Result<Vec<f32>, InferError>;
}

/// Logits to the prediction the step decoder reads.
pub struct Classifier {
    backend: Box<dyn InferenceBackend>,
    labels: Vec<String>,
}

impl Classifier {
    pub fn new(backend: Box<dyn InferenceBackend>, labels: Vec<String>) -> Self {
        Self { backend, labels }
    }

    pub fn backend_name(&self) -> &str {
        self.backend.name()
    }

    /// The top-1 label and its softmax probability, timed at the window's start.
    pub fn classify(&mut self, clip: &Clip) -> Result<Window, InferError> {
        let logits = self.backend.infer(clip)?;
        self.top(clip.t, &logits)
    }

    /// Preprocessing on the inference device, or why the backend has none.
    pub fn device_windows(&mut self) -> Result<&mut dyn DeviceWindows, InferError> {
        let name = self.backend.name().to_owned();
        self.backend
            .device_windows()
            .ok_or_else(|| InferError::Run(format!("{name} has no preprocessing on the device")))
    }

    /// As `classify`, for a window whose frames wait on the device.
    pub fn classify_on_device(&mut self, window: &SlotWindow) -> Result<Window, InferError> {
        let logits = self.device_windows()?.infer_window(&window.members)?;
        self.top(window.start, &logits)
    }

    fn top(&self, t: f64, logits: &[f32]) -> Result<Window, InferError> {
        let probabilities = softmax(logits);
        let (top, p) = probabilities
            .iter()
            .copied()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .ok_or_else(|| InferError::Run("no scores".into()))?;
        let label = self
            .labels
            .get(top)
            .cloned()
            .ok_or_else(|| InferError::Run(format!("score {top} has no label")))?;
        Ok(Window {
            t,
            label,
            p: f64::from(p),
        })
    }
}

pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.iter().map(|e| e / sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_keeps_order() {
        let p = softmax(&[1.0, 3.0, 2.0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(p[1] > p[2] && p[2] > p[0]);
    }

    #[test]
    fn the_classifier_names_the_top_label() {
        let fake = FakeBackend {
            logits: vec![0.0, 5.0, 1.0],
            calls: 0,
        };
        let mut classifier = Classifier::new(Box::new(fake), vec!["idle".into(), "spacer".into(), "lid".into()]);
        let clip = Clip {
            t: 2.5,
            t_end: 3.5,
            slow: Vec::new(),
            fast: Vec::new(),
        };
        let window = classifier.classify(&clip).expect("classified");
        assert_eq!((window.t, window.label.as_str()), (2.5, "spacer"));
        assert!(window.p > 0.95);
    }
}
