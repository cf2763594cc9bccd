//! `actrec-lab synth` and `eval` end to end: a synthetic clip holds its
//! planned frames and verdicts, and eval runs the whole station in-process
//! on generated clips.

use std::path::Path;
use std::process::{Command, Output};

use actrec_core::decode::DecoderSettings;
use actrec_core::inspect::Inspector;
use actrec_core::sequence::Definition;
use actrec_ipc::EngineEvent;
use actrec_station::load::read_windows;
use actrec_testkit::repo_root;

fn lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_actrec-lab"))
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("actrec-lab runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The station's events for a file of windows, checked against the gear
/// housing sequence with `idle` as the idle label, as `actrec check` does.
fn check(windows: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(repo_root().join("config/sequences/gear-housing.toml")).expect("sequence");
    let definition = Definition::parse("gear-housing.toml", &text, None).expect("valid");
    let decoder = DecoderSettings {
        idle_labels: vec!["idle".into()],
        ..DecoderSettings::default()
    };
    let windows = read_windows(windows).expect("window lines");
    let events = Inspector::new(decoder, &definition).judge(&windows);
    events
        .iter()
        .map(|e| serde_json::to_value(EngineEvent::from(e)).expect("json"))
        .collect()
}

#[test]
fn a_synthetic_clip_has_its_frames_and_a_perfect_model_reproduces_its_verdicts() {
    let dir = std::env::temp_dir().join(format!("actrec-synth-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out_arg = dir.display().to_string();
    let out = lab(&[
        "synth", "--seed", "11", "--parts", "3", "--width", "320", "--height", "180", "--out", &out_arg,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).expect("truth")).expect("json");
    let frames = truth["frames"].as_u64().expect("frames");
    let labelled: u64 = truth["frame_labels"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| r[1].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(labelled, frames);
    // The video holds every planned frame.
    let decoded = Command::new("gst-launch-1.0")
        .args([
            "-v",
            "filesrc",
            &format!("location={}", dir.join("clip.mp4").display()),
            "!",
            "qtdemux",
            "!",
        ])
        .args([
            "h264parse",
            "!",
            "avdec_h264",
            "!",
            "identity",
            "silent=false",
            "!",
            "fakesink",
        ])
        .output()
        .expect("gst-launch-1.0");
    let count = String::from_utf8_lossy(&decoded.stdout)
        .lines()
        .filter(|l| l.contains("identity0: last-message = chain"))
        .count();
    assert_eq!(count as u64, frames);
    // A perfect model's windows, checked by the station's decoder and
    // checker (what `actrec check` runs), give the planned verdicts.
    let verdicts: Vec<_> = check(&dir.join("truth.windows.jsonl"))
        .into_iter()
        .filter(|l| l["kind"] == "part")
        .map(|l| l["verdict"].clone())
        .collect();
    let expected: Vec<_> = truth["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .map(|p| p["expected"]["verdict"].clone())
        .collect();
    assert_eq!(verdicts, expected);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn eval_runs_the_station_on_generated_clips_and_reports() {
    let dir = std::env::temp_dir().join(format!("actrec-eval-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out_arg = dir.display().to_string();
    let out = lab(&[
        "eval",
        "--clips",
        "1",
        "--parts-per-clip",
        "1",
        "--width",
        "320",
        "--height",
        "180",
        "--out",
        &out_arg,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).expect("report")).expect("json");
    assert!(report["windows"].as_u64().is_some_and(|w| w > 20), "{report}");
    assert_eq!(report["parts"]["total"], 1);
    assert_eq!(report["confusion"].as_array().map(Vec::len), Some(9));
    assert!(stdout(&out).contains("| windows | accuracy | macro-F1 |"));
    // The engine's predictions were recorded as window lines that `actrec check` reads.
    check(&dir.join("seed-20000/predictions.jsonl"));

    // Every frame of the file reached the model, up to the last whole window:
    // windows of 30 frames every 4 frames (the demo model's manifest), each
    // complete once the frame after it arrives.
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("seed-20000/truth.json")).expect("truth"))
            .expect("json");
    let frames = truth["frames"].as_u64().expect("frames");
    assert_eq!(report["windows"].as_u64(), Some((frames - 31) / 4 + 1), "{report}");

    // Deciding again from the recorded predictions gives the same report.
    let again = lab(&[
        "eval",
        "--clips",
        "1",
        "--parts-per-clip",
        "1",
        "--rescore",
        "--out",
        &out_arg,
    ]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let rescored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).expect("report")).expect("json");
    assert_eq!(rescored, report);
    std::fs::remove_dir_all(&dir).ok();
}
