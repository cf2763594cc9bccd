//! actrec-infer: the inference stage, behind one trait at the hardware seam.
//!
//! [`InferenceBackend`] runs one window (both pathways) and returns logits.
//! [`TractBackend`] is the CPU backend (tract, pure Rust, no download at build
//! time); the TensorRT backend joins it later, behind the same trait, with a
//! fake beside it. [`Classifier`] turns logits into the per-window prediction
//! the step decoder reads.

use std::path::{Path, PathBuf};

use actrec_core::decode::Window;
use actrec_core::manifest::Manifest;
use actrec_preprocess::Clip;
use tract_onnx::prelude::*;

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
}

/// Runs the network on one window.
pub trait InferenceBackend: Send {
    /// Short name for logs and the panel, e.g. "tract (CPU)".
    fn name(&self) -> &str;
    /// Logits, one per label, in the manifest's order.
    fn infer(&mut self, clip: &Clip) -> Result<Vec<f32>, InferError>;
}

/// The CPU backend.
pub struct TractBackend {
    model: std::sync::Arc<TypedRunnableModel>,
    /// Input shapes in the model's input order, and which pathway feeds each.
    inputs: Vec<(Vec<usize>, Pathway)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pathway {
    Slow,
    Fast,
}

impl TractBackend {
    /// Loads `manifest.file` from `model_dir`, refusing a model whose inputs or
    /// outputs differ from what the manifest says.
    pub fn load(model_dir: &Path, manifest: &Manifest) -> Result<Self, InferError> {
        let file = manifest.file.as_ref().ok_or(InferError::NoModel)?;
        let path = model_dir.join(file);
        let load = |e: TractError| InferError::Load {
            path: path.clone(),
            message: format!("{e:#}"),
        };
        let mismatch = |message: String| InferError::Mismatch {
            path: path.clone(),
            message,
        };
        let mut model = tract_onnx::onnx().model_for_path(&path).map_err(load)?;

        let input = &manifest.input;
        let size = input.size as usize;
        let shape = |frames: u32| vec![1, 3, frames as usize, size, size];
        let outlets = model.input_outlets().map_err(load)?.to_vec();
        if outlets.len() != 2 {
            return Err(mismatch(format!(
                "it has {} inputs; a two-pathway model has 2",
                outlets.len()
            )));
        }
        let mut inputs = Vec::new();
        for (i, outlet) in outlets.iter().enumerate() {
            let name = model.node(outlet.node).name.clone();
            let pathway = if name == input.slow_input {
                Pathway::Slow
            } else if name == input.fast_input {
                Pathway::Fast
            } else {
                return Err(mismatch(format!(
                    "input `{name}` is neither `{}` nor `{}`",
                    input.slow_input, input.fast_input
                )));
            };
            let dims = shape(if pathway == Pathway::Slow {
                input.slow_frames
            } else {
                input.fast_frames
            });
            let declared = model
                .input_fact(i)
                .map_err(load)?
                .shape
                .as_concrete_finite()
                .ok()
                .flatten()
                .map(|s| s.to_vec());
            if let Some(declared) = declared
                && declared != dims
            {
                return Err(mismatch(format!(
                    "input `{name}` is {declared:?}; the manifest says {dims:?}"
                )));
            }
            model = model.with_input_fact(i, f32::fact(&dims).into()).map_err(load)?;
            inputs.push((dims, pathway));
        }
        let model = model.into_optimized().map_err(load)?.into_runnable().map_err(load)?;
        let mut backend = Self { model, inputs };
        // One run on zeros proves the graph and gives the output size.
        let probe = Clip {
            t: 0.0,
            t_end: 0.0,
            slow: vec![0.0; 3 * input.slow_frames as usize * size * size],
            fast: vec![0.0; 3 * input.fast_frames as usize * size * size],
        };
        let logits = backend.infer(&probe).map_err(|e| mismatch(e.to_string()))?;
        if logits.len() != manifest.labels.len() {
            return Err(mismatch(format!(
                "it gives {} scores; the manifest has {} labels",
                logits.len(),
                manifest.labels.len()
            )));
        }
        Ok(backend)
    }
}

impl InferenceBackend for TractBackend {
    fn name(&self) -> &str {
        "tract (CPU)"
    }

    fn infer(&mut self, clip: &Clip) -> Result<Vec<f32>, InferError> {
        let run = |e: TractError| InferError::Run(format!("{e:#}"));
        let mut values = TVec::new();
        for (dims, pathway) in &self.inputs {
            let data = match pathway {
                Pathway::Slow => &clip.slow,
                Pathway::Fast => &clip.fast,
            };
            values.push(Tensor::from_shape(dims, data).map_err(run)?.into());
        }
        let outputs = self.model.run(values).map_err(run)?;
        let logits = outputs.first().ok_or_else(|| InferError::Run("no output".into()))?;
        Ok(logits
            .to_plain_array_view::<f32>()
            .map_err(run)?
            .iter()
            .copied()
            .collect())
    }
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
        let probabilities = softmax(&logits);
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
            t: clip.t,
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

/// A backend that returns fixed logits, for tests of everything around inference.
pub struct FakeBackend {
    pub logits: Vec<f32>,
    pub calls: usize,
}

impl InferenceBackend for FakeBackend {
    fn name(&self) -> &str {
        "fake"
    }

    fn infer(&mut self, _clip: &Clip) -> Result<Vec<f32>, InferError> {
        self.calls += 1;
        Ok(self.logits.clone())
    }
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
