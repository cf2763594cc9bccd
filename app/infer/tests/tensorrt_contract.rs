//! The `tensorrt` backend against the fake shim (`app/infer/fake-trt-shim`,
//! same C ABI as `app/infer/trt-shim`): the contract between actrec and the
//! shim, without TensorRT or a GPU. The fake is a fake: these tests say
//! nothing about TensorRT itself.
//!
//! The fake is a cdylib of this workspace: `make test` builds it first
//! (`cargo build -p actrec-fake-trt-shim`), and these tests look for it in
//! this test binary's target directory.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use actrec_core::config::{InferenceSettings, ModelBackend, Precision, PreprocessOn, TensorRtSettings};
use actrec_infer::tensorrt::{ABI_VERSION, Shim, engine_path};
use actrec_infer::{DeviceWindows, InferError, InferenceBackend, TensorRtBackend};
use actrec_preprocess::Clip;
use actrec_testkit::fake_trt_shim;
use common::{demo_manifest, demo_model_dir, refusal};

const GOOD: &str = "actrec fake engine\ninput slow 1 3 8 96 96\ninput fast 1 3 32 96 96\noutput logits 1 9\n";

struct Station {
    settings: TensorRtSettings,
    dir: PathBuf,
}

impl Drop for Station {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A data directory whose engine for the demo model holds `engine`.
fn station(engine: Option<&str>) -> Station {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "actrec-trt-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let settings = TensorRtSettings {
        shim: fake_trt_shim(),
        engines_dir: dir.join("engines"),
        precision: Precision::Fp16,
        preprocess: PreprocessOn::Cpu,
    };
    if let Some(text) = engine {
        let shim = Shim::open(&settings.shim).expect("the fake shim opens");
        let (path, _) = engine_path(&demo_model_dir(), &demo_manifest(), &shim, &settings).expect("key");
        std::fs::create_dir_all(&settings.engines_dir).expect("engines dir");
        std::fs::write(path, text).expect("engine written");
    }
    Station { settings, dir }
}

fn load(station: &Station) -> Result<TensorRtBackend, InferError> {
    TensorRtBackend::load(&demo_model_dir(), &demo_manifest(), &station.settings)
}

fn clip(value: f32) -> Clip {
    let plane = 3 * 96 * 96;
    Clip {
        t: 0.0,
        t_end: 1.0,
        slow: vec![value; 8 * plane],
        fast: vec![value; 32 * plane],
    }
}

#[test]
fn an_engine_that_matches_the_manifest_runs_and_its_data_goes_through() {
    let station = station(Some(GOOD));
    let mut backend = load(&station).expect("loads");
    assert_eq!(backend.name(), "TensorRT (TensorRT 8.5.2, Fake GPU, fp16)");
    let logits = backend.infer(&clip(0.5)).expect("runs");
    // The fake's score j is (j + 1) times the mean input.
    let expected: Vec<f32> = (1..=9).map(|j| j as f32 * 0.5).collect();
    assert_eq!(logits, expected);
}

#[test]
fn auto_runs_on_tensorrt_when_its_engine_is_there() {
    let station = station(Some(GOOD));
    let settings = InferenceSettings {
        backend: ModelBackend::Auto,
        tensorrt: station.settings.clone(),
        ..InferenceSettings::default()
    };
    let loaded = actrec_infer::load(&demo_model_dir(), &demo_manifest(), &settings).expect("loads");
    assert!(
        loaded.backend.name().starts_with("TensorRT"),
        "{}",
        loaded.backend.name()
    );
    assert!(loaded.fell_back.is_empty(), "{:?}", loaded.fell_back);
}

#[test]
fn without_an_engine_auto_falls_back_to_the_cpu_and_says_to_build_one() {
    let station = station(None);
    let err = load(&station).err().expect("no engine");
    assert!(err.to_string().contains("run `actrec build-engine`"), "{err}");
    assert!(err.to_string().contains("TensorRT 8.5.2, Fake GPU, fp16"), "{err}");

    let settings = InferenceSettings {
        backend: ModelBackend::Auto,
        tensorrt: station.settings.clone(),
        ..InferenceSettings::default()
    };
    let loaded = actrec_infer::load(&demo_model_dir(), &demo_manifest(), &settings).expect("a CPU backend loads");
    assert!(!loaded.backend.name().starts_with("TensorRT"));
    assert!(loaded.fell_back[0].starts_with("TensorRT: "), "{:?}", loaded.fell_back);
    assert!(
        loaded.fell_back[0].contains("actrec build-engine"),
        "{:?}",
        loaded.fell_back
    );
}

#[test]
fn without_the_shim_auto_falls_back_and_names_the_library() {
    let settings = InferenceSettings {
        backend: ModelBackend::Auto,
        tensorrt: TensorRtSettings {
            shim: "/nonexistent/libactrec_trt.so.2".into(),
            engines_dir: "/nonexistent".into(),
            precision: Precision::Fp16,
            preprocess: PreprocessOn::Cpu,
        },
        ..InferenceSettings::default()
    };
    let loaded = actrec_infer::load(&demo_model_dir(), &demo_manifest(), &settings).expect("a CPU backend loads");
    assert!(
        loaded.fell_back[0].contains("/nonexistent/libactrec_trt.so.2"),
        "{:?}",
        loaded.fell_back
    );
    let err = refusal(&settings, ModelBackend::Tensorrt);
    assert!(err.to_string().contains("cannot open"), "{err}");
}

#[test]
fn an_engine_of_other_shapes_is_refused_with_the_tensor_and_both_shapes() {
    let station = station(Some(&GOOD.replace("fast 1 3 32", "fast 1 3 16")));
    let err = load(&station).err().expect("refused");
    let text = err.to_string();
    assert!(matches!(err, InferError::Mismatch { .. }), "{text}");
    assert!(
        text.contains("`fast`") && text.contains("[1, 3, 16, 96, 96]") && text.contains("[1, 3, 32, 96, 96]"),
        "{text}"
    );

    let station = self::station(Some(&GOOD.replace("logits 1 9", "logits 1 7")));
    let text = load(&station).err().expect("refused").to_string();
    assert!(text.contains("7 scores") && text.contains("9 labels"), "{text}");

    let station = self::station(Some(&format!("{GOOD}type fast 1\n")));
    let text = load(&station).err().expect("refused").to_string();
    assert!(text.contains("`fast`") && text.contains("data type 1"), "{text}");
}

#[test]
fn an_engine_the_shim_cannot_load_is_refused_with_its_message() {
    let station = station(Some("a TensorRT 8.2 engine, or any foreign bytes"));
    let err = load(&station).err().expect("null engine");
    assert!(matches!(err, InferError::Load { .. }), "{err}");
    assert!(
        err.to_string().contains("not an engine of this TensorRT and GPU"),
        "{err}"
    );
}

#[test]
fn an_error_during_enqueue_fails_the_window_with_the_shim_message() {
    // The load's probe is the first enqueue; every later one fails.
    let station = station(Some(&format!("{GOOD}fail enqueue 1\n")));
    let mut backend = load(&station).expect("loads");
    let err = backend.infer(&clip(0.1)).expect_err("enqueue fails");
    assert!(matches!(err, InferError::Run(_)), "{err}");
    assert!(err.to_string().contains("enqueue failed"), "{err}");
}

#[test]
fn a_shim_of_another_abi_version_is_refused() {
    const CHILD: &str = "ACTREC_FAKE_TRT_ABI";
    if std::env::var_os(CHILD).is_some() {
        let err = Shim::open(&fake_trt_shim()).err().expect("refused");
        assert!(
            err.contains("speaks shim ABI version 99") && err.contains(&format!("version {ABI_VERSION}")),
            "{err}"
        );
        return;
    }
    // The fake reads its version from the environment: set it in a child
    // process only, this test alone.
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "a_shim_of_another_abi_version_is_refused", "--nocapture"])
        .env(CHILD, "99")
        .output()
        .expect("child runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Preprocessing in the shim (ABI 2): frames uploaded to its ring, one call
/// per window. The fake computes actrec's CPU reference of the kernel, so
/// the scores must equal those of the same window packed on the host; the
/// real kernel against that reference: tools/bench/shim-window.sh.
#[test]
fn a_window_made_in_the_shim_scores_as_the_same_window_made_on_the_host() {
    use actrec_preprocess::gpu::{FrameLayout, PixelFormat, WindowPlan, reference_window, test_pattern};

    let station = station(Some(GOOD));
    let mut backend = load(&station).expect("loads");
    let manifest = demo_manifest();
    let layout = FrameLayout::packed(PixelFormat::Nv12, 256, 144);
    let frames = test_pattern(&layout, 30);
    let plan = WindowPlan::new(&manifest.input, frames.len());
    let window = |backend: &mut TensorRtBackend| backend.infer_window(&(0..30).collect::<Vec<_>>());
    assert!(
        matches!(window(&mut backend), Err(InferError::Run(m)) if m.contains("prepare the ring first")),
        "a window before the plan is refused"
    );

    // A ring of 40 slots: the window's frames start at slot 10.
    backend.prepare(layout, 40, plan.clone()).expect("plan accepted");
    for (n, frame) in frames.iter().enumerate() {
        backend.upload(10 + n, frame).expect("upload");
    }
    let slots: Vec<usize> = (10..40).collect();
    let on_the_shim = backend.infer_window(&slots).expect("window runs");

    let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    let (slow, fast) = reference_window(&plan, &layout, &refs);
    let on_the_host = backend
        .infer(&Clip {
            t: 0.0,
            t_end: 1.0,
            slow,
            fast,
        })
        .expect("runs");
    assert_eq!(on_the_shim, on_the_host);

    // Frames of the wrong size, slots outside the ring and empty slots are
    // refused with the reason.
    fn error<T>(result: Result<T, InferError>) -> String {
        match result {
            Err(InferError::Run(message)) => message,
            Err(other) => panic!("expected a refusal to run, got {other}"),
            Ok(_) => panic!("expected a refusal"),
        }
    }
    let short = error(backend.upload(0, &frames[0][1..]));
    assert!(
        short.contains("55295 bytes into slot 0") && short.contains("55296 bytes"),
        "{short}"
    );
    assert!(error(backend.upload(40, &frames[0])).contains("40 slots"));
    assert!(error(backend.infer_window(&(0..30).collect::<Vec<_>>())).contains("holds no frame"));

    // A frame too small for the model's side has no crop to take.
    let tiny = FrameLayout::packed(PixelFormat::Nv12, 64, 48);
    assert!(error(backend.prepare(tiny, 4, plan)).contains("crop"));
}
