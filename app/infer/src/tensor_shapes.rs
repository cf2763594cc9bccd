//! What every backend checks at load: the network's inputs and outputs must
//! be the ones the manifest describes, so that a wrong model file is refused
//! at start with a clear message instead of giving nonsense at run time.

use std::path::Path;

use actrec_core::manifest::Manifest;
use actrec_preprocess::Clip;

use crate::{InferError, InferenceBackend};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pathway {
    Slow,
    Fast,
}

impl Pathway {
    pub fn data(self, clip: &Clip) -> &[f32] {
        match self {
            Pathway::Slow => &clip.slow,
            Pathway::Fast => &clip.fast,
        }
    }
}

/// One network input: its name, the shape the manifest gives it, and which pathway feeds it.
#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub dims: Vec<usize>,
    pub pathway: Pathway,
}

/// Matches the network's inputs (name, and shape where the network fixes
/// one) with the manifest's pathways, in the network's order.
pub fn match_inputs(
    path: &Path,
    manifest: &Manifest,
    declared: &[(String, Option<Vec<usize>>)],
) -> Result<Vec<Input>, InferError> {
    let mismatch = |message: String| InferError::Mismatch {
        path: path.to_owned(),
        message,
    };
    if declared.len() != 2 {
        return Err(mismatch(format!(
            "it has {} inputs; a two-pathway model has 2",
            declared.len()
        )));
    }
    let spec = &manifest.input;
    let size = spec.size as usize;
    declared
        .iter()
        .map(|(name, shape)| {
            let (pathway, frames) = if *name == spec.slow_input {
                (Pathway::Slow, spec.slow_frames)
            } else if *name == spec.fast_input {
                (Pathway::Fast, spec.fast_frames)
            } else {
                return Err(mismatch(format!(
                    "input `{name}` is neither `{}` nor `{}`",
                    spec.slow_input, spec.fast_input
                )));
            };
            let dims = vec![1, 3, frames as usize, size, size];
            if let Some(shape) = shape
                && *shape != dims
            {
                return Err(mismatch(format!(
                    "input `{name}` is {shape:?}; the manifest says {dims:?}"
                )));
            }
            Ok(Input {
                name: name.clone(),
                dims,
                pathway,
            })
        })
        .collect()
}

/// One run on zeros proves the graph and checks the number of scores.
pub fn probe(path: &Path, manifest: &Manifest, backend: &mut dyn InferenceBackend) -> Result<(), InferError> {
    let mismatch = |message: String| InferError::Mismatch {
        path: path.to_owned(),
        message,
    };
    let spec = &manifest.input;
    let plane = 3 * (spec.size as usize).pow(2);
    let zeros = Clip {
        t: 0.0,
        t_end: 0.0,
        slow: vec![0.0; plane * spec.slow_frames as usize],
        fast: vec![0.0; plane * spec.fast_frames as usize],
    };
    let logits = backend.infer(&zeros).map_err(|e| mismatch(e.to_string()))?;
    if logits.len() != manifest.labels.len() {
        return Err(mismatch(format!(
            "it gives {} scores; the manifest has {} labels",
            logits.len(),
            manifest.labels.len()
        )));
    }
    Ok(())
}
