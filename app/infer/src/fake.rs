use actrec_preprocess::Clip;

use crate::{InferError, InferenceBackend};

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
