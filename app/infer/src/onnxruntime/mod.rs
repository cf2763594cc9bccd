//! The second CPU backend: ONNX Runtime, through the `ort` crate with
//! `load-dynamic`, so that nothing is downloaded at build time and the
//! library (`libonnxruntime.so.1.*`, e.g. from the onnxruntime wheel on PyPI,
//! or a distribution's package) is opened at run time.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use actrec_core::manifest::Manifest;
use actrec_preprocess::Clip;
use ort::environment::Environment;
use ort::session::Session;
use ort::value::TensorRef;

mod frames_as_images;

use crate::tensor_shapes::{self, Input};
use crate::{InferError, InferenceBackend};

/// Where the library is looked for when the config names none.
pub const LIBRARY_ENV: &str = "ORT_DYLIB_PATH";

pub struct OnnxRuntimeBackend {
    session: Session,
    inputs: Vec<Input>,
    name: String,
    convolutions_as_2d: usize,
}

/// The library is opened once per process, and its environment lives as long.
static ENVIRONMENT: OnceLock<(PathBuf, Result<Environment, String>)> = OnceLock::new();

fn environment(library: &Path) -> Result<&'static Environment, String> {
    let (loaded_from, environment) = ENVIRONMENT.get_or_init(|| {
        let environment = ort::init_from(library)
            .map_err(|e| e.to_string())
            .and_then(|b| b.with_name("actrec").build().map_err(|e| e.to_string()));
        (library.to_owned(), environment)
    });
    if loaded_from != library {
        return Err(format!(
            "{}: ONNX Runtime is already loaded from {} in this process",
            library.display(),
            loaded_from.display()
        ));
    }
    environment
        .as_ref()
        .map_err(|e| format!("{}: cannot load ONNX Runtime: {e}", library.display()))
}

impl OnnxRuntimeBackend {
    /// Loads `manifest.file` from `model_dir` on ONNX Runtime from `library`
    /// (else `$ORT_DYLIB_PATH`, else `libonnxruntime.so` on the loader's path).
    pub fn load(
        model_dir: &Path,
        manifest: &Manifest,
        threads: u32,
        library: Option<&Path>,
    ) -> Result<Self, InferError> {
        let file = manifest.file.as_ref().ok_or(InferError::NoModel)?;
        let path = model_dir.join(file);
        let load = |message: String| InferError::Load {
            path: path.clone(),
            message,
        };
        let from_env = std::env::var_os(LIBRARY_ENV).map(PathBuf::from);
        let library = library
            .map(Path::to_path_buf)
            .or(from_env)
            .unwrap_or_else(|| "libonnxruntime.so".into());
        let environment = environment(&library).map_err(load)?;
        let bytes = std::fs::read(&path).map_err(|e| load(e.to_string()))?;
        let rewritten = frames_as_images::rewrite(&bytes).map_err(load)?;
        let threads = threads.max(1);
        let session = Session::builder(environment)
            .and_then(|b| b.with_intra_threads(threads as usize).map_err(Into::into))
            // Idle pool threads sleep instead of spinning: on a 2-core station
            // a spinning thread takes the core the video needs.
            .and_then(|b| b.with_intra_op_spinning(false).map_err(Into::into))
            // No pre-planned allocation of every intermediate tensor: with
            // the frames-as-images rewrite that plan held about 16 MB more
            // at its peak, for no measurable speed.
            .and_then(|b| b.with_memory_pattern(false).map_err(Into::into))
            .and_then(|mut b| match &rewritten {
                Some((model, _)) => b.commit_from_memory(model),
                None => b.commit_from_file(&path),
            })
            .map_err(|e| load(e.to_string()))?;
        let declared: Vec<(String, Option<Vec<usize>>)> = session
            .inputs()
            .iter()
            .map(|outlet| {
                let shape = outlet
                    .dtype()
                    .tensor_shape()
                    .and_then(|s| s.iter().map(|&d| usize::try_from(d).ok()).collect());
                (outlet.name().to_owned(), shape)
            })
            .collect();
        let inputs = tensor_shapes::match_inputs(&path, manifest, &declared)?;
        let mut backend = Self {
            session,
            inputs,
            convolutions_as_2d: rewritten.as_ref().map_or(0, |(_, count)| *count),
            name: format!(
                "ONNX Runtime (CPU, {threads} thread{})",
                if threads == 1 { "" } else { "s" }
            ),
        };
        tensor_shapes::probe(&path, manifest, &mut backend)?;
        Ok(backend)
    }
}

impl OnnxRuntimeBackend {
    /// How many of the model's 3D convolutions run as 2D convolutions over
    /// the frames (`frames_as_images`).
    pub fn convolutions_as_2d(&self) -> usize {
        self.convolutions_as_2d
    }
}

impl InferenceBackend for OnnxRuntimeBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn infer(&mut self, clip: &Clip) -> Result<Vec<f32>, InferError> {
        let run = |e: ort::Error| InferError::Run(e.to_string());
        let mut values: Vec<(std::borrow::Cow<str>, ort::session::SessionInputValue)> = Vec::new();
        for input in &self.inputs {
            let tensor = TensorRef::from_array_view((input.dims.clone(), input.pathway.data(clip))).map_err(run)?;
            values.push((input.name.clone().into(), tensor.into()));
        }
        let outputs = self.session.run(values).map_err(run)?;
        let (_, logits) = outputs[0].try_extract_tensor::<f32>().map_err(run)?;
        Ok(logits.to_vec())
    }
}
