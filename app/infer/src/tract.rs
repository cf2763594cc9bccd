//! The default CPU backend: tract, pure Rust, nothing to download or load.

use std::path::Path;
use std::sync::Arc;

use actrec_core::manifest::Manifest;
use actrec_preprocess::Clip;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::tract_linalg::multithread::{Executor, multithread_tract_scope};

use crate::tensor_shapes::{self, Input};
use crate::{InferError, InferenceBackend};

pub struct TractBackend {
    model: Arc<TypedRunnableModel>,
    inputs: Vec<Input>,
    /// Matrix products on this many threads (tract's own pool); `None` is one.
    executor: Option<Executor>,
    name: String,
}

impl TractBackend {
    /// Loads `manifest.file` from `model_dir`, refusing a model whose inputs or
    /// outputs differ from what the manifest says.
    pub fn load(model_dir: &Path, manifest: &Manifest, threads: u32) -> Result<Self, InferError> {
        let file = manifest.file.as_ref().ok_or(InferError::NoModel)?;
        let path = model_dir.join(file);
        let load = |e: TractError| InferError::Load {
            path: path.clone(),
            message: format!("{e:#}"),
        };
        let mut model = tract_onnx::onnx().model_for_path(&path).map_err(load)?;
        let mut declared = Vec::new();
        for (i, outlet) in model.input_outlets().map_err(load)?.iter().enumerate() {
            let shape = model
                .input_fact(i)
                .map_err(load)?
                .shape
                .as_concrete_finite()
                .ok()
                .flatten()
                .map(|s| s.to_vec());
            declared.push((model.node(outlet.node).name.clone(), shape));
        }
        let inputs = tensor_shapes::match_inputs(&path, manifest, &declared)?;
        for (i, input) in inputs.iter().enumerate() {
            model = model.with_input_fact(i, f32::fact(&input.dims).into()).map_err(load)?;
        }
        let model = model.into_optimized().map_err(load)?.into_runnable().map_err(load)?;
        let threads = threads.max(1);
        let mut backend = Self {
            model,
            inputs,
            executor: (threads > 1).then(|| Executor::multithread(threads as usize)),
            name: format!("tract (CPU, {threads} thread{})", if threads == 1 { "" } else { "s" }),
        };
        tensor_shapes::probe(&path, manifest, &mut backend)?;
        Ok(backend)
    }

    fn run(&self, clip: &Clip) -> TractResult<Vec<f32>> {
        let mut values = TVec::new();
        for input in &self.inputs {
            values.push(Tensor::from_shape(&input.dims, input.pathway.data(clip))?.into());
        }
        let outputs = match &self.executor {
            Some(executor) => multithread_tract_scope(executor.clone(), || self.model.run(values))?,
            None => self.model.run(values)?,
        };
        let logits = outputs.first().ok_or_else(|| TractError::msg("no output"))?;
        Ok(logits.to_plain_array_view::<f32>()?.iter().copied().collect())
    }
}

impl InferenceBackend for TractBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn infer(&mut self, clip: &Clip) -> Result<Vec<f32>, InferError> {
        self.run(clip).map_err(|e| InferError::Run(format!("{e:#}")))
    }
}
