//! The `tensorrt` backend: TensorRT through the shim
//! (`app/infer/trt-shim`, `libactrec_trt.so.2`), opened at run time, on a
//! serialised engine that `actrec build-engine` built for this model, this
//! TensorRT and this GPU.
//!
//! The shim has not run on TensorRT here (no Jetson, no TensorRT where it
//! was written); its contract is tested against the fake shim
//! (`app/infer/fake-trt-shim`), which has the same ABI. Its preprocessing on
//! the GPU (its [`DeviceWindows`]) ran on a GPU without TensorRT
//! (tools/bench/shim-window.sh).

mod ffi;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actrec_core::config::{Precision, TensorRtSettings};
use actrec_core::hex;
use actrec_core::manifest::Manifest;
use actrec_preprocess::Clip;
use actrec_preprocess::gpu::{FrameLayout, WindowPlan};
use sha2::{Digest, Sha256};

pub use ffi::{ABI_VERSION, Shim, TensorInfo};

use crate::tensor_shapes::{self, Pathway};
use crate::{DeviceWindows, InferError, InferenceBackend};

/// What a serialised engine depends on: it runs only on the TensorRT and
/// the GPU that built it, for the model file it was built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineKey {
    pub model_sha256: String,
    /// As the shim reports it: 80502 for 8.5.2.
    pub tensorrt: u32,
    pub device: String,
    pub precision: Precision,
}

impl EngineKey {
    /// The key of the network in `model_dir` that an engine of `precision`
    /// is built from ([`engine_source`]), for the shim's TensorRT and GPU.
    pub fn for_model(
        model_dir: &Path,
        manifest: &Manifest,
        shim: &Shim,
        precision: Precision,
    ) -> Result<Self, InferError> {
        let path = engine_source(model_dir, manifest, precision)?;
        let bytes = std::fs::read(&path).map_err(|e| InferError::Load {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let device = shim.device_name().map_err(|message| InferError::Load {
            path: shim.path().to_owned(),
            message,
        })?;
        Ok(Self {
            model_sha256: hex::encode(&Sha256::digest(&bytes)),
            tensorrt: shim.tensorrt_version(),
            device,
            precision,
        })
    }

    /// The engine's file name: the model's name and precision, for people,
    /// and a hash of the whole key.
    pub fn file_name(&self, manifest: &Manifest) -> String {
        let mut h = Sha256::new();
        h.update(format!(
            "actrec engine 1\nmodel {}\ntensorrt {}\ndevice {}\nprecision {}\n",
            self.model_sha256,
            self.tensorrt,
            self.device,
            self.precision.name()
        ));
        let safe: String = manifest
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
            .collect();
        format!(
            "{safe}-{}-{}.engine",
            self.precision.name(),
            &hex::encode(&h.finalize())[..16]
        )
    }

    /// e.g. "TensorRT 8.5.2, Xavier, fp16".
    pub fn describe(&self) -> String {
        format!(
            "TensorRT {}, {}, {}",
            version_text(self.tensorrt),
            self.device,
            self.precision.name()
        )
    }
}

/// 80502 → "8.5.2".
pub fn version_text(version: u32) -> String {
    format!("{}.{}.{}", version / 10000, version / 100 % 100, version % 100)
}

/// The quantised export an engine of `precision` is built from: the
/// manifest's `int8_file`, for INT8 only.
pub fn quantised_export(manifest: &Manifest, precision: Precision) -> Option<&str> {
    manifest.int8_file.as_deref().filter(|_| precision == Precision::Int8)
}

/// The network an engine of `precision` is built from: its
/// [`quantised_export`] if there is one, else the manifest's `file`.
pub fn engine_source(model_dir: &Path, manifest: &Manifest, precision: Precision) -> Result<PathBuf, InferError> {
    let file = quantised_export(manifest, precision)
        .or(manifest.file.as_deref())
        .ok_or(InferError::NoModel)?;
    Ok(model_dir.join(file))
}

/// Where `EngineKey` puts the engine of this model, TensorRT and GPU.
pub fn engine_path(
    model_dir: &Path,
    manifest: &Manifest,
    shim: &Shim,
    settings: &TensorRtSettings,
) -> Result<(PathBuf, EngineKey), InferError> {
    let key = EngineKey::for_model(model_dir, manifest, shim, settings.precision)?;
    Ok((settings.engines_dir.join(key.file_name(manifest)), key))
}

struct Bound {
    index: i32,
    pathway: Pathway,
}

pub struct TensorRtBackend {
    engine: ffi::Engine,
    inputs: Vec<Bound>,
    output: i32,
    logits: Vec<f32>,
    name: String,
    /// The window of preprocessing on the GPU, once `prepare` has made it.
    window: Option<WindowPlan>,
}

impl TensorRtBackend {
    /// Opens the shim, finds this model's engine for its TensorRT and GPU,
    /// and checks the engine's IO against the manifest.
    pub fn load(model_dir: &Path, manifest: &Manifest, settings: &TensorRtSettings) -> Result<Self, InferError> {
        let shim = Shim::open(&settings.shim).map_err(|message| InferError::Load {
            path: settings.shim.clone(),
            message,
        })?;
        let (path, key) = engine_path(model_dir, manifest, &shim, settings)?;
        let bytes = std::fs::read(&path).map_err(|e| InferError::Load {
            path: path.clone(),
            message: if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "no engine for this model on {}: run `actrec build-engine`",
                    key.describe()
                )
            } else {
                e.to_string()
            },
        })?;
        let name = format!("TensorRT ({})", key.describe());
        Self::from_engine(&shim, &path, &bytes, manifest, name)
    }

    /// Deserialises `bytes` (read from `path`) on `shim` and binds its IO.
    pub fn from_engine(
        shim: &Arc<Shim>,
        path: &Path,
        bytes: &[u8],
        manifest: &Manifest,
        name: String,
    ) -> Result<Self, InferError> {
        let load = |message: String| InferError::Load {
            path: path.to_owned(),
            message,
        };
        let engine = shim.load_engine(bytes).map_err(load)?;
        let io = engine.io().map_err(load)?;
        let (inputs, output) = bind(path, manifest, &io)?;
        let mut backend = Self {
            engine,
            inputs,
            output: output.index,
            logits: vec![0.0; manifest.labels.len()],
            name,
            window: None,
        };
        tensor_shapes::probe(path, manifest, &mut backend)?;
        Ok(backend)
    }
}

/// Preprocessing on the GPU, in the shim (`actrec_window.cu`): decoded frames
/// go into a device ring, and each window is made in the engine's inputs.
impl DeviceWindows for TensorRtBackend {
    /// Centre-cropped, as the CPU path crops.
    fn prepare(&mut self, layout: FrameLayout, slots: usize, plan: WindowPlan) -> Result<(), InferError> {
        let input = |pathway| {
            self.inputs
                .iter()
                .find(|b| b.pathway == pathway)
                .map(|b| b.index)
                .ok_or_else(|| InferError::Run(format!("the engine has no {pathway:?} input")))
        };
        if plan.fast_frames > ffi::MAX_WINDOW {
            return Err(InferError::Run(format!(
                "{} fast frames: the shim takes {} at most",
                plan.fast_frames,
                ffi::MAX_WINDOW
            )));
        }
        let int = |value: usize| i32::try_from(value).map_err(|_| InferError::Run(format!("{value} is out of range")));
        let (crop_x, crop_y, crop) = layout.centre_crop();
        let mut slow_of = [-1; ffi::MAX_WINDOW];
        slow_of[..plan.slow_of.len()].copy_from_slice(&plan.slow_of);
        let raw = ffi::WindowPlan {
            format: layout.format.code(),
            width: int(layout.width)?,
            height: int(layout.height)?,
            pitch: int(layout.pitch)?,
            slots: int(slots)?,
            crop_x: int(crop_x)?,
            crop_y: int(crop_y)?,
            crop: int(crop)?,
            size: int(plan.size)?,
            fast_frames: int(plan.fast_frames)?,
            slow_frames: int(plan.slow_frames)?,
            scale: plan.scale,
            offset: plan.offset,
            slow_of,
            fast_input: input(Pathway::Fast)?,
            slow_input: input(Pathway::Slow)?,
        };
        self.engine.window_plan_set(&raw).map_err(InferError::Run)?;
        self.window = Some(plan);
        Ok(())
    }

    fn upload(&mut self, slot: usize, frame: &[u8]) -> Result<(), InferError> {
        let slot = i32::try_from(slot).map_err(|_| InferError::Run(format!("ring slot {slot}")))?;
        self.engine.window_upload(slot, frame).map_err(InferError::Run)
    }

    fn infer_window(&mut self, slots: &[usize]) -> Result<Vec<f32>, InferError> {
        let plan = self
            .window
            .as_ref()
            .ok_or_else(|| InferError::Run("no device window: prepare the ring first".into()))?;
        let fast_slots = plan
            .members_for(slots.len())
            .into_iter()
            .map(|m| {
                slots
                    .get(m)
                    .and_then(|&s| i32::try_from(s).ok())
                    .ok_or_else(|| InferError::Run(format!("window member {m} of {slots:?}")))
            })
            .collect::<Result<Vec<i32>, _>>()?;
        self.engine.window_run(&fast_slots).map_err(InferError::Run)?;
        self.run_network()
    }
}

impl TensorRtBackend {
    /// Enqueue, wait, read the scores: after the inputs are in place.
    fn run_network(&mut self) -> Result<Vec<f32>, InferError> {
        self.engine.enqueue().map_err(InferError::Run)?;
        self.engine.synchronize().map_err(InferError::Run)?;
        self.engine
            .get_output(self.output, &mut self.logits)
            .map_err(InferError::Run)?;
        Ok(self.logits.clone())
    }
}

/// Matches the engine's tensors with the manifest: two float inputs of the
/// manifest's shapes, one float output of one score per label.
fn bind<'a>(
    path: &Path,
    manifest: &Manifest,
    io: &'a [TensorInfo],
) -> Result<(Vec<Bound>, &'a TensorInfo), InferError> {
    let mismatch = |message: String| InferError::Mismatch {
        path: path.to_owned(),
        message,
    };
    if let Some(t) = io.iter().find(|t| t.data_type != ffi::FLOAT) {
        return Err(mismatch(format!(
            "tensor `{}` has TensorRT data type {}; actrec feeds and reads float (build the engine with float IO)",
            t.name, t.data_type
        )));
    }
    let (inputs, outputs): (Vec<&TensorInfo>, Vec<&TensorInfo>) = io.iter().partition(|t| t.is_input);
    let declared: Vec<(String, Option<Vec<usize>>)> = inputs
        .iter()
        .map(|t| {
            let dims = t.dims.iter().map(|&d| usize::try_from(d).ok()).collect();
            (t.name.clone(), dims)
        })
        .collect();
    let matched = tensor_shapes::match_inputs(path, manifest, &declared)?;
    let [output] = outputs[..] else {
        return Err(mismatch(format!("it has {} outputs; actrec reads one", outputs.len())));
    };
    let scores: i64 = output.dims.iter().product();
    if scores != manifest.labels.len() as i64 {
        return Err(mismatch(format!(
            "output `{}` is {:?}: {scores} scores; the manifest has {} labels",
            output.name,
            output.dims,
            manifest.labels.len()
        )));
    }
    let bound = matched
        .into_iter()
        .zip(&inputs)
        .map(|(input, tensor)| Bound {
            index: tensor.index,
            pathway: input.pathway,
        })
        .collect();
    Ok((bound, output))
}

impl InferenceBackend for TensorRtBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn device_windows(&mut self) -> Option<&mut dyn DeviceWindows> {
        Some(self)
    }

    fn infer(&mut self, clip: &Clip) -> Result<Vec<f32>, InferError> {
        for input in &self.inputs {
            self.engine
                .set_input(input.index, input.pathway.data(clip))
                .map_err(InferError::Run)?;
        }
        self.run_network()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> EngineKey {
        EngineKey {
            model_sha256: "ab".repeat(32),
            tensorrt: 80502,
            device: "Xavier".into(),
            precision: Precision::Fp16,
        }
    }

    #[test]
    fn every_part_of_the_key_changes_the_engine_file() {
        let text = "name = \"demo model\"\nversion = \"1\"\nfile = \"m.onnx\"\nlabels = [\"idle\", \"spacer\"]\n[input]\nsize = 16\nwindow_seconds = 1.0\nstride_seconds = 1.0\nfast_frames = 4\nslow_frames = 2\nmean = [0.0, 0.0, 0.0]\nstd = [1.0, 1.0, 1.0]\n";
        let manifest = Manifest::parse("manifest.toml", text).expect("manifest");
        let base = key().file_name(&manifest);
        assert!(
            base.starts_with("demo_model-fp16-") && base.ends_with(".engine"),
            "{base}"
        );
        let changed = [
            EngineKey {
                model_sha256: "cd".repeat(32),
                ..key()
            },
            EngineKey {
                tensorrt: 80201,
                ..key()
            },
            EngineKey {
                device: "Orin".into(),
                ..key()
            },
            EngineKey {
                precision: Precision::Int8,
                ..key()
            },
        ];
        for other in changed {
            assert_ne!(other.file_name(&manifest), base, "{other:?}");
        }
        assert_eq!(key().describe(), "TensorRT 8.5.2, Xavier, fp16");

        // INT8 builds from the quantised export where the manifest names one.
        let dir = Path::new("/models/demo");
        let source = |manifest: &Manifest, precision| engine_source(dir, manifest, precision).expect("a file");
        assert_eq!(source(&manifest, Precision::Int8), dir.join("m.onnx"));
        let quantised = Manifest {
            int8_file: Some("m.int8.onnx".into()),
            ..manifest.clone()
        };
        assert_eq!(source(&quantised, Precision::Int8), dir.join("m.int8.onnx"));
        assert_eq!(source(&quantised, Precision::Fp16), dir.join("m.onnx"));
        assert_eq!(version_text(100300), "10.3.0");
    }
}
