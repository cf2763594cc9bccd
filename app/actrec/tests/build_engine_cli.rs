//! `actrec build-engine` with a stand-in `trtexec` (a script that writes the
//! fake shim's engine format) and the fake TensorRT shim: the command's
//! arguments, the cache key, the check of the new engine, the failure paths.
//! No TensorRT runs here; `make test` builds the fake shim first.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use actrec_testkit::fake_trt_shim;
use common::{pattern_clip, root, temp_dir};

const GOOD: &str = "actrec fake engine\ninput slow 1 3 8 96 96\ninput fast 1 3 32 96 96\noutput logits 1 9\n";

/// A station config in `dir` on the demo model, the fake shim and `precision`.
fn config(dir: &Path, precision: &str) -> PathBuf {
    config_with_model(dir, precision, &root().join("config/models/demo"))
}

/// The same on the model in `model`.
fn config_with_model(dir: &Path, precision: &str, model: &Path) -> PathBuf {
    let path = dir.join("station.toml");
    let text = format!(
        "[station]\nid = \"t\"\ndata_dir = \"data\"\nsource = \"cam\"\n\n[sources.cam.test]\npattern = \"smpte\"\n\n\
         [media]\nprofile = \"generic\"\n\n[model]\ndir = {model:?}\n\n[model.tensorrt]\nshim = {shim:?}\nprecision = \"{precision}\"\n\n\
         [decoder]\nmin_confidence = 0.6\nmin_windows = 4\nidle_labels = [\"idle\"]\n\n[sequence]\nfile = {sequence:?}\n\n\
         [outputs]\n\n[gpio]\nbackend = \"sim\"\n\n[audit]\npath = \"audit.sqlite\"\n",
        model = model.display().to_string(),
        shim = fake_trt_shim().display().to_string(),
        sequence = root().join("config/sequences/gear-housing.toml").display().to_string(),
    );
    std::fs::write(&path, text).expect("config");
    path
}

/// A `trtexec` that logs its arguments and writes `engine` to --saveEngine
/// (or fails when `engine` is None).
fn trtexec(dir: &Path, engine: Option<&str>) -> PathBuf {
    let path = dir.join("trtexec");
    std::fs::write(dir.join("engine.txt"), engine.unwrap_or("")).expect("engine text");
    let body = match engine {
        Some(_) => format!(
            "for a in \"$@\"; do case $a in --saveEngine=*) cp {text:?} \"${{a#--saveEngine=}}\";; esac; done\n\
             echo '[I] Engine built in 1.0 sec.'\n",
            text = dir.join("engine.txt").display().to_string()
        ),
        None => "echo '[E] Error[4]: the network has an unsupported layer'\nexit 1\n".into(),
    };
    let script = format!(
        "#!/bin/sh\necho \"$@\" >> {calls:?}\n{body}",
        calls = dir.join("calls").display().to_string()
    );
    std::fs::write(&path, script).expect("trtexec");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

fn build_engine(config: &Path, trtexec: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_actrec"))
        .args(["build-engine", "--config"])
        .arg(config)
        .arg("--trtexec")
        .arg(trtexec)
        .output()
        .expect("actrec build-engine")
}

fn engines(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("data/engines"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn builds_the_engine_once_under_its_key_with_fp16_and_a_timing_cache() {
    let dir = temp_dir("build-engine");
    let config = config(&dir, "fp16");
    let trtexec = trtexec(&dir, Some(GOOD));

    let out = build_engine(&config, &trtexec);
    assert!(out.status.success(), "{}", text(&out));
    let names = engines(&dir);
    let engine = names.iter().find(|n| n.ends_with(".engine")).expect("an engine");
    assert!(engine.starts_with("actrec-demo-fp16-"), "{names:?}");
    let stem = engine.trim_end_matches(".engine");
    assert!(
        names.contains(&format!("{stem}.json")) && names.contains(&format!("{stem}.log")),
        "{names:?}"
    );
    let description: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("data/engines").join(format!("{stem}.json"))).expect("json"),
    )
    .expect("JSON");
    assert_eq!(description["tensorrt"], "8.5.2");
    assert_eq!(description["device"], "Fake GPU");

    let calls = std::fs::read_to_string(dir.join("calls")).expect("trtexec ran");
    assert!(calls.contains("--onnx=") && calls.contains("model.onnx"), "{calls}");
    assert!(
        calls.contains("--fp16") && calls.contains("--timingCacheFile="),
        "{calls}"
    );
    // The fake reports TensorRT 8.5.2: before 8.6 the flag is --buildOnly.
    assert!(calls.contains("--buildOnly") && !calls.contains("--int8"), "{calls}");

    // Up to date: trtexec is not run again.
    let again = build_engine(&config, &trtexec);
    assert!(
        again.status.success() && text(&again).contains("up to date"),
        "{}",
        text(&again)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("calls"))
            .expect("calls")
            .lines()
            .count(),
        1
    );
}

#[test]
fn a_failed_build_shows_the_end_of_the_log_and_leaves_no_engine() {
    let dir = temp_dir("build-engine-fails");
    let config = config(&dir, "fp16");
    let out = build_engine(&config, &trtexec(&dir, None));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("unsupported layer"), "{}", text(&out));
    assert!(
        !engines(&dir).iter().any(|n| n.ends_with(".engine")),
        "{:?}",
        engines(&dir)
    );
}

#[test]
fn an_engine_that_does_not_match_the_manifest_never_takes_the_name() {
    let dir = temp_dir("build-engine-mismatch");
    let config = config(&dir, "fp16");
    let out = build_engine(&config, &trtexec(&dir, Some(&GOOD.replace("logits 1 9", "logits 1 5"))));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("refused") && text(&out).contains("9 labels"),
        "{}",
        text(&out)
    );
    assert!(
        !engines(&dir).iter().any(|n| n.contains(".engine")),
        "{:?}",
        engines(&dir)
    );
}

/// A copy of the demo model's folder, its manifest naming a quantised export or not.
fn model_copy(dir: &Path, quantised: bool) -> PathBuf {
    let model = dir.join("model");
    std::fs::create_dir_all(&model).expect("model dir");
    let demo = root().join("config/models/demo");
    let manifest = std::fs::read_to_string(demo.join("manifest.toml")).expect("manifest");
    let manifest: String = manifest
        .lines()
        .filter(|l| !l.starts_with("int8_file"))
        .map(|l| format!("{l}\n"))
        .collect();
    let manifest = if quantised {
        manifest.replacen(
            "file = \"model.onnx\"\n",
            "file = \"model.onnx\"\nint8_file = \"q.onnx\"\n",
            1,
        )
    } else {
        manifest
    };
    std::fs::write(model.join("manifest.toml"), manifest).expect("manifest");
    std::fs::copy(demo.join("model.onnx"), model.join("model.onnx")).expect("model");
    std::fs::write(model.join("q.onnx"), "a quantised export").expect("q.onnx");
    model
}

#[test]
fn int8_builds_from_the_quantised_export_the_manifest_names() {
    let dir = temp_dir("build-engine-int8-qdq");
    let config = config_with_model(&dir, "int8", &model_copy(&dir, true));
    let out = build_engine(&config, &trtexec(&dir, Some(GOOD)));
    assert!(out.status.success(), "{}", text(&out));
    let calls = std::fs::read_to_string(dir.join("calls")).expect("trtexec ran");
    assert!(
        calls.contains("q.onnx") && calls.contains("--int8") && !calls.contains("--calib"),
        "{calls}"
    );
    assert!(
        engines(&dir)
            .iter()
            .any(|n| n.starts_with("actrec-demo-int8-") && n.ends_with(".engine"))
    );
}

#[test]
fn int8_without_an_export_or_a_calibration_cache_is_refused_before_trtexec_runs() {
    let dir = temp_dir("build-engine-int8");
    let config = config_with_model(&dir, "int8", &model_copy(&dir, false));
    let out = build_engine(&config, &trtexec(&dir, Some(GOOD)));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("int8_file") && text(&out).contains("calibration.cache"),
        "{}",
        text(&out)
    );
    assert!(!dir.join("calls").exists());
}

/// The station with TensorRT (the fake shim and its engine) on a file,
/// windows made on the CPU or on the GPU: its log and its predictions.
fn run_on_clip(dir: &Path, preprocess: &str) -> (String, Vec<serde_json::Value>) {
    let config = config(dir, "fp16");
    let station = std::fs::read_to_string(&config)
        .expect("config")
        .replace(
            "[model.tensorrt]\n",
            &format!("[model.tensorrt]\npreprocess = \"{preprocess}\"\n"),
        )
        .replace("\n[model]\n", "\n[model]\nbackend = \"tensorrt\"\n")
        + &format!(
            "\n[sources.clip.file]\npath = {:?}\npace = \"fast\"\n",
            pattern_clip(dir, 90).display().to_string()
        );
    std::fs::write(&config, station).expect("config");
    if engines(dir).is_empty() {
        let built = build_engine(&config, &trtexec(dir, Some(GOOD)));
        assert!(built.status.success(), "{}", text(&built));
    }
    let predictions = dir.join(format!("predictions-{preprocess}.jsonl"));
    let out = Command::new(env!("CARGO_BIN_EXE_actrec"))
        .args(["run", "--source", "clip", "--exit-on-end", "--config"])
        .arg(&config)
        .arg("--predictions")
        .arg(&predictions)
        .output()
        .expect("actrec run");
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    let windows = std::fs::read_to_string(&predictions)
        .expect("predictions")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a prediction"))
        .collect();
    (log, windows)
}

/// `preprocess = "gpu"`: the model branch takes whole NV12 frames, each is
/// uploaded once into the shim's ring, and every window is made there (the
/// fake shim computes the kernel's CPU reference). The same windows come
/// out as with windows made on the CPU.
#[test]
fn with_preprocessing_on_the_gpu_every_window_is_made_in_the_shim() {
    let dir = temp_dir("gpu-windows");
    let (log, on_gpu) = run_on_clip(&dir, "gpu");
    assert!(log.contains("windows made on the GPU"), "{log}");
    let (log, on_cpu) = run_on_clip(&dir, "cpu");
    assert!(!log.contains("windows made on the GPU"), "{log}");
    assert!(on_gpu.len() >= 10, "{on_gpu:?}");
    let times = |windows: &[serde_json::Value]| windows.iter().map(|w| w["t"].as_f64()).collect::<Vec<_>>();
    assert_eq!(times(&on_gpu), times(&on_cpu));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Without TensorRT there is no device to make windows on: the station says
/// so and makes them on the CPU.
#[test]
fn preprocessing_on_the_gpu_without_tensorrt_falls_back_to_the_cpu_and_says_so() {
    let dir = temp_dir("gpu-windows-no-trt");
    let config = config(&dir, "fp16");
    let station = std::fs::read_to_string(&config)
        .expect("config")
        .replace("[model.tensorrt]\n", "[model.tensorrt]\npreprocess = \"gpu\"\n")
        .replace("\n[model]\n", "\n[model]\nbackend = \"tract\"\n");
    std::fs::write(&config, station).expect("config");
    let out = Command::new(env!("CARGO_BIN_EXE_actrec"))
        .args(["run", "--seconds", "1", "--config"])
        .arg(&config)
        .output()
        .expect("actrec run");
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("preprocessing on the GPU needs the TensorRT backend: tract"),
        "{log}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
