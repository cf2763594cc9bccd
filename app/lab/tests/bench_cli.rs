//! `actrec-lab bench` end to end on a short small clip: the four engine runs,
//! the report's shape, the comparison with a baseline, and `tegrastats`
//! read where there is one (a stand-in script on PATH: no Jetson here).
//! Figures are never checked against limits: speed is for `make bench`.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use actrec_testkit::{repo_root as root, synth_clip, temp_dir};

const BASELINE: &str = r#"{"name": "baseline", "frames": 120, "video_seconds": 4.0, "windows": 4,
  "wall_seconds": 8.0, "fps": 15.0, "cpu_percent": 190.0, "peak_rss_mb": 6000.0,
  "stage_ms_per_video_second": {"decode": 700.0, "preprocess": 1070.0, "inference": 17.0, "decision": 0.1, "overlay_encode": 200.0},
  "latency_ms": {"p50": 1100.0, "p99": 1200.0}, "predictions": []}"#;

#[test]
fn bench_measures_four_runs_and_compares_them_with_a_baseline() {
    let dir = temp_dir("bench");
    let clip = synth_clip(&dir.join("clip"), 9001, 320, 180);
    std::fs::write(dir.join("baseline.json"), BASELINE).expect("baseline");
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let tegrastats = bin.join("tegrastats");
    std::fs::write(
        &tegrastats,
        "#!/bin/sh\nwhile true; do echo 'RAM 1234/3964MB (lfb 4x1MB) CPU [10%@1479] GR3D_FREQ 50%@921'; sleep 0.1; done\n",
    )
    .expect("tegrastats");
    std::fs::set_permissions(&tegrastats, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());

    let out = dir.join("out");
    let bench = Command::new(env!("CARGO_BIN_EXE_actrec-lab"))
        .args(["bench", "--seconds", "4", "--config"])
        .arg(root().join("config/demo/station.toml"))
        .arg("--clip")
        .arg(&clip)
        .arg("--out")
        .arg(&out)
        .arg("--baseline")
        .arg(dir.join("baseline.json"))
        .env("PATH", path)
        .output()
        .expect("actrec-lab bench");
    let stdout = String::from_utf8_lossy(&bench.stdout);
    assert!(
        bench.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&bench.stderr)
    );

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bench.json")).expect("bench.json")).expect("JSON");
    let runs = report["runs"].as_array().expect("runs");
    let names: Vec<&str> = runs.iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "actrec, decode only",
            "actrec, decisions only",
            "actrec, annotated 1080p mp4",
            "actrec, annotated, at camera speed"
        ]
    );
    for run in runs {
        assert_eq!(run["frames"], 120, "{run}");
        assert!(run["peak_rss_mb"].as_f64().is_some_and(|mb| mb > 0.0), "{run}");
        assert!(
            run["stage_ms_per_video_second"]["decode"]
                .as_f64()
                .is_some_and(|ms| ms > 0.0)
        );
        assert!(run["tegrastats"]["samples"].as_u64().is_some_and(|n| n > 0), "{run}");
        assert_eq!(run["tegrastats"]["ram_used_mb_max"], 1234);
    }
    assert_eq!(runs[0]["windows"], 0, "decode only runs no model");
    for run in &runs[1..] {
        assert!(run["windows"].as_u64().is_some_and(|n| n > 0), "{run}");
        let latency = &run["latency_ms"];
        assert!(latency["p50"].as_f64().is_some_and(|p50| p50 > 0.0), "{run}");
        assert!(latency["p99"].as_f64() >= latency["p50"].as_f64(), "{run}");
        assert!(
            run["stage_ms_per_video_second"]["inference"]
                .as_f64()
                .is_some_and(|ms| ms > 0.0)
        );
    }
    assert_eq!(runs[3]["paced"], true);
    for kind in ["annotated", "line"] {
        let video = out.join(kind).join("data/video");
        assert!(
            std::fs::read_dir(&video).is_ok_and(|mut d| d.next().is_some()),
            "no recording in {}",
            video.display()
        );
    }
    let table = std::fs::read_to_string(out.join("bench.md")).expect("bench.md");
    assert!(table.contains("| actrec, decisions only | baseline |"), "{table}");
    assert!(
        !table.contains("| actrec, annotated, at camera speed | baseline |"),
        "{table}"
    );
    assert!(
        out.join("bench.png").is_file() || stdout.contains("chart: left out"),
        "{stdout}"
    );
}

#[test]
fn a_baseline_file_that_is_not_a_result_is_named() {
    let dir = temp_dir("bench-bad-baseline");
    let bad = dir.join("baseline.json");
    std::fs::write(&bad, "{\"name\": \"baseline\"}").expect("baseline");
    let bench = Command::new(env!("CARGO_BIN_EXE_actrec-lab"))
        .args(["bench", "--config"])
        .arg(root().join("config/demo/station.toml"))
        .arg("--out")
        .arg(dir.join("out"))
        .arg("--baseline")
        .arg(&bad)
        .output()
        .expect("actrec-lab bench");
    assert_eq!(bench.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bench.stderr);
    assert!(stderr.contains(&format!("{}", bad.display())), "{stderr}");
    assert!(stderr.contains("not a baseline result: missing field"), "{stderr}");
}
