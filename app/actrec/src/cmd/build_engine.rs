//! `actrec build-engine`: builds the TensorRT engine of the configured model
//! with `trtexec`, for this TensorRT and this GPU, into the engines folder
//! (`station.data_dir`/engines), where the `tensorrt` backend looks for it.
//! What `actrec-engine-build.service` runs at first boot and after a change.
//!
//! The engine's file name carries the key (model hash, TensorRT version, GPU
//! name, precision: `actrec_infer::tensorrt::EngineKey`), so an engine that
//! is up to date is found, not rebuilt, and a stale one is never loaded.
//! trtexec writes to a temporary file that is renamed into place only after
//! the shim has loaded it and its IO matched the manifest.

use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use actrec_core::config::Precision;
use actrec_core::diag::Problems;
use actrec_infer::tensorrt::{
    EngineKey, Shim, TensorRtBackend, engine_path, engine_source, quantised_export, version_text,
};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cmd::verify_audit::load_config;
use actrec_station::host::on_path;
use actrec_station::load::{Failure, file_problem, load_manifest};

#[derive(clap::Args)]
pub struct Args {
    /// The station config: its model, `[model.tensorrt]` and data directory.
    #[arg(long, env = "ACTREC_CONFIG", default_value = "/etc/actrec/station.toml")]
    config: PathBuf,
    /// trtexec; default: on PATH, else /usr/src/tensorrt/bin/trtexec (JetPack).
    #[arg(long)]
    trtexec: Option<PathBuf>,
    /// Build even when an engine with the same key exists.
    #[arg(long)]
    force: bool,
}

/// Where JetPack puts trtexec (not on PATH).
const JETPACK_TRTEXEC: &str = "/usr/src/tensorrt/bin/trtexec";
/// How often a build without a terminal says it is still running (journal).
const HEARTBEAT: Duration = Duration::from_secs(30);

fn problem(path: &Path, message: impl Into<String>) -> Failure {
    Failure::Input(Problems(vec![file_problem(path, message)]))
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let (config, dir) = load_config(&args.config)?;
    let model_dir = config.model_dir(&dir);
    let manifest = load_manifest(&model_dir)?;
    let settings = config.inference(&dir).tensorrt;
    let shim = Shim::open(&settings.shim).map_err(|message| problem(&settings.shim, message))?;
    let (engine, key) =
        engine_path(&model_dir, &manifest, &shim, &settings).map_err(|e| problem(&model_dir, e.to_string()))?;
    let model = engine_source(&model_dir, &manifest, key.precision).map_err(|e| problem(&model_dir, e.to_string()))?;
    let quantised = quantised_export(&manifest, key.precision).is_some();
    if engine.is_file() && !args.force {
        println!("{}: up to date ({})", engine.display(), key.describe());
        return Ok(());
    }
    if key.precision == Precision::Int8 && key.device.contains("Tegra X1") {
        return Err(problem(
            &args.config,
            "model.tensorrt.precision: int8: the Jetson Nano (Tegra X1, Maxwell) has no fast INT8; use \"fp16\"",
        ));
    }
    let trtexec = find_trtexec(args.trtexec.as_deref())?;
    std::fs::create_dir_all(&settings.engines_dir)
        .map_err(|e| problem(&settings.engines_dir, format!("cannot create: {e}")))?;
    let partial = engine.with_extension("engine.part");
    let log = engine.with_extension("log");
    let command = trtexec_command(
        &trtexec,
        &model,
        &model_dir,
        &partial,
        &settings.engines_dir,
        &key,
        quantised,
    )?;
    eprintln!(
        "building {} for {} with {} (log: {})",
        engine.display(),
        key.describe(),
        trtexec.display(),
        log.display()
    );
    let started = Instant::now();
    build(command, &log, &trtexec)?;
    // Only an engine the shim loads, with the manifest's IO, takes the name.
    let bytes = std::fs::read(&partial).map_err(|e| problem(&partial, format!("trtexec wrote no engine: {e}")))?;
    if let Err(err) = TensorRtBackend::from_engine(&shim, &partial, &bytes, &manifest, String::new()) {
        let _ = std::fs::remove_file(&partial);
        return Err(problem(&partial, format!("the new engine was refused: {err}")));
    }
    std::fs::rename(&partial, &engine).map_err(|e| problem(&engine, format!("cannot rename into place: {e}")))?;
    write_description(&engine, &key, &model, started.elapsed())?;
    println!(
        "{}: built in {:.0} s ({})",
        engine.display(),
        started.elapsed().as_secs_f64(),
        key.describe()
    );
    Ok(())
}

fn find_trtexec(named: Option<&Path>) -> Result<PathBuf, Failure> {
    if let Some(path) = named {
        return Ok(path.to_owned());
    }
    on_path("trtexec")
        .or_else(|| Some(PathBuf::from(JETPACK_TRTEXEC)).filter(|p| p.is_file()))
        .ok_or_else(|| {
            problem(
                Path::new("trtexec"),
                format!(
                    "not found on PATH nor at {JETPACK_TRTEXEC}: install TensorRT's trtexec, or name it with --trtexec"
                ),
            )
        })
}

/// trtexec's arguments for this key. INT8 builds from the quantised export
/// when the manifest names one (`int8_file`: the scales are in the model),
/// else from a calibration cache shipped with the model
/// (`calibration.cache`); FP16 is also allowed, for the layers INT8 cannot run.
fn trtexec_command(
    trtexec: &Path,
    model: &Path,
    model_dir: &Path,
    engine: &Path,
    engines_dir: &Path,
    key: &EngineKey,
    quantised: bool,
) -> Result<Command, Failure> {
    let mut command = Command::new(trtexec);
    command
        .arg(format!("--onnx={}", model.display()))
        .arg(format!("--saveEngine={}", engine.display()))
        // Layer timings survive between builds: a rebuild after a model
        // change is much faster.
        .arg(format!(
            "--timingCacheFile={}",
            engines_dir.join("timing.cache").display()
        ));
    // 8.6 renamed --buildOnly to --skipInference.
    command.arg(if key.tensorrt >= 80600 {
        "--skipInference"
    } else {
        "--buildOnly"
    });
    match key.precision {
        Precision::Fp32 => {}
        Precision::Fp16 => {
            command.arg("--fp16");
        }
        Precision::Int8 if quantised => {
            command.args(["--int8", "--fp16"]);
        }
        Precision::Int8 => {
            let cache = model_dir.join("calibration.cache");
            if !cache.is_file() {
                return Err(problem(
                    &cache,
                    "precision int8 needs a quantised export named by the manifest's `int8_file`, \
                     or a calibration cache here (docs/GPU.md); or use \"fp16\"",
                ));
            }
            command
                .args(["--int8", "--fp16"])
                .arg(format!("--calib={}", cache.display()));
        }
    }
    Ok(command)
}

/// Runs trtexec with its output in `log`, and a spinner with its last line
/// on a terminal (a line every 30 s otherwise, for the journal).
fn build(mut command: Command, log: &Path, trtexec: &Path) -> Result<(), Failure> {
    let mut file = std::fs::File::create(log).map_err(|e| problem(log, format!("cannot create: {e}")))?;
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| problem(trtexec, format!("cannot run: {e}")))?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} building engine [{elapsed_precise}] {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    let started = Instant::now();
    let mut said = Instant::now();
    let mut tail: Vec<String> = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = writeln!(file, "{line}");
            match &bar {
                Some(bar) => bar.set_message(line.clone()),
                None if said.elapsed() >= HEARTBEAT => {
                    eprintln!("still building ({:.0} s): {line}", started.elapsed().as_secs_f64());
                    said = Instant::now();
                }
                None => {}
            }
            tail.push(line);
            if tail.len() > 20 {
                tail.remove(0);
            }
        }
    }
    let status = child.wait().map_err(|e| problem(trtexec, e.to_string()))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if !status.success() {
        return Err(problem(
            trtexec,
            format!("failed ({status}); the end of {}:\n{}", log.display(), tail.join("\n")),
        ));
    }
    Ok(())
}

/// `<engine>.json`: what the engine was built from, for people and exports.
fn write_description(engine: &Path, key: &EngineKey, model: &Path, took: Duration) -> Result<(), Failure> {
    let path = engine.with_extension("json");
    let text = serde_json::json!({
        "engine": engine.file_name().map(|n| n.to_string_lossy().into_owned()),
        "model": model.display().to_string(),
        "model_sha256": key.model_sha256,
        "tensorrt": version_text(key.tensorrt),
        "device": key.device,
        "precision": key.precision.name(),
        "build_seconds": took.as_secs_f64(),
        "actrec": env!("CARGO_PKG_VERSION"),
    });
    std::fs::write(&path, format!("{text:#}\n")).map_err(|e| problem(&path, format!("cannot write: {e}")))
}
