//! From a run's timings to the figures `actrec bench` reports, in the
//! same shape as the baseline's JSON (tools/baseline/baseline.py), and
//! the markdown table that compares them.

use serde::{Deserialize, Serialize};

/// Stage times per second of video: the original's window of 30 frames, so
/// that a station inferring several windows a second compares with a
/// pipeline inferring one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Stages {
    pub decode: f64,
    pub preprocess: f64,
    pub inference: f64,
    pub decision: f64,
    pub overlay_encode: f64,
}

impl Stages {
    pub const NAMES: [&str; 5] = ["decode", "preprocess", "inference", "decision", "overlay + encode"];

    pub fn values(&self) -> [f64; 5] {
        [
            self.decode,
            self.preprocess,
            self.inference,
            self.decision,
            self.overlay_encode,
        ]
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
}

/// What `tegrastats` said during a run (Jetson only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tegra {
    pub samples: u32,
    /// Highest `RAM used` seen, whole system.
    pub ram_used_mb_max: u64,
    /// Mean GPU load (`GR3D_FREQ`).
    pub gpu_percent_mean: f64,
}

/// One measured run: ours or the baseline's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub name: String,
    #[serde(default)]
    pub runner: String,
    /// Read at camera speed: its fps is the camera's, not a ceiling.
    #[serde(default)]
    pub paced: bool,
    pub frames: u64,
    pub video_seconds: f64,
    /// Windows inferred.
    pub windows: u64,
    pub wall_seconds: f64,
    /// Frames in over wall time, start-up and shutdown included.
    pub fps: f64,
    pub cpu_percent: f64,
    pub peak_rss_mb: f64,
    pub stage_ms_per_video_second: Stages,
    /// From a window's last frame to its verdict (and the GPIO write, for the station).
    pub latency_ms: Latency,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tegrastats: Option<Tegra>,
}

/// One window's line in `actrec run --timings`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct WindowTimes {
    pub preprocess_ms: f64,
    pub inference_ms: f64,
    pub decision_ms: f64,
    pub latency_ms: f64,
}

/// The last line of `actrec run --timings`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Usage {
    pub model_frames: u64,
    pub display_frames: u64,
    pub peak_rss_kb: u64,
    pub cpu_seconds: f64,
}

/// A timings file, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Timings {
    pub windows: Vec<WindowTimes>,
    pub usage: Usage,
}

/// Reads `actrec run --timings` output; names the line that is wrong.
pub fn parse_timings(text: &str) -> Result<Timings, String> {
    let mut windows = Vec::new();
    let mut usage = None;
    for (n, line) in text.lines().enumerate() {
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("line {}: not JSON: {e}", n + 1))?;
        let read = |e: serde_json::Error| format!("line {}: {e}", n + 1);
        if value.get("peak_rss_kb").is_some() {
            usage = Some(serde_json::from_value(value).map_err(read)?);
        } else {
            windows.push(serde_json::from_value(value).map_err(read)?);
        }
    }
    let usage = usage.ok_or("no usage line: the engine did not finish")?;
    Ok(Timings { windows, usage })
}

pub fn percentile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (q / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// The model-branch and decision stages of a run, per second of video, and
/// its decision latency.
pub fn window_stages(windows: &[WindowTimes], video_seconds: f64) -> (Stages, Latency) {
    let per_second = |f: fn(&WindowTimes) -> f64| windows.iter().map(f).sum::<f64>() / video_seconds.max(1e-9);
    let latencies: Vec<f64> = windows.iter().map(|w| w.latency_ms).collect();
    (
        Stages {
            preprocess: per_second(|w| w.preprocess_ms),
            inference: per_second(|w| w.inference_ms),
            decision: per_second(|w| w.decision_ms),
            ..Stages::default()
        },
        Latency {
            p50: percentile(&latencies, 50.0),
            p99: percentile(&latencies, 99.0),
        },
    )
}

fn row(run: &RunSummary) -> String {
    let s = run.stage_ms_per_video_second.values();
    format!(
        "| {} | {:.1} | {:.2} | {:.1} | {:.1} | {:.1} | {:.2} | {:.1} | {:.1} / {:.1} | {:.0} | {:.0} |",
        run.name,
        run.fps,
        run.fps / 30.0,
        s[0],
        s[1],
        s[2],
        s[3],
        s[4],
        run.latency_ms.p50,
        run.latency_ms.p99,
        run.cpu_percent,
        run.peak_rss_mb
    )
}

/// The comparison table, then each run's fps and memory against each baseline.
pub fn markdown(runs: &[RunSummary], baselines: &[RunSummary]) -> String {
    let mut out = String::from(
        "Stage times in ms per second of video (30 frames, the original's window).\n\n\
         | run | fps | × real time | decode | preprocess | inference | decision | overlay + encode | latency p50 / p99 ms | CPU % | peak RSS MB |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for run in baselines.iter().chain(runs) {
        out.push_str(&row(run));
        out.push('\n');
    }
    if !baselines.is_empty() {
        out.push_str("\n| run | against | fps ratio | peak RSS ratio (theirs / ours) |\n|---|---|---:|---:|\n");
        for run in runs.iter().filter(|r| r.windows > 0 && !r.paced) {
            for base in baselines {
                out.push_str(&format!(
                    "| {} | {} | {:.1}× | {:.1}× |\n",
                    run.name,
                    base.name,
                    run.fps / base.fps.max(1e-9),
                    base.peak_rss_mb / run.peak_rss_mb.max(1e-9)
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timings_give_windows_and_usage_and_name_a_bad_line() {
        let text = "{\"t\":1.0,\"preprocess_ms\":1.5,\"inference_ms\":9.0,\"decision_ms\":0.1,\"latency_ms\":11.0}\n\
                    {\"model_frames\":60,\"display_frames\":0,\"peak_rss_kb\":90000,\"cpu_seconds\":2.5}\n";
        let timings = parse_timings(text).expect("valid");
        assert_eq!(timings.windows.len(), 1);
        assert_eq!(timings.usage.peak_rss_kb, 90000);
        let err = parse_timings("{\"t\":1.0}\n").expect_err("fields missing");
        assert!(err.starts_with("line 1: missing field"), "{err}");
        assert_eq!(
            parse_timings("").expect_err("no usage"),
            "no usage line: the engine did not finish"
        );
    }

    #[test]
    fn stages_are_per_second_of_video_and_latency_is_by_rank() {
        let windows: Vec<WindowTimes> = (1..=100)
            .map(|k| WindowTimes {
                preprocess_ms: 1.0,
                inference_ms: 10.0,
                decision_ms: 0.5,
                latency_ms: f64::from(k),
            })
            .collect();
        let (stages, latency) = window_stages(&windows, 10.0);
        assert_eq!(stages.preprocess, 10.0);
        assert_eq!(stages.inference, 100.0);
        assert_eq!(stages.decision, 5.0);
        assert_eq!((latency.p50, latency.p99), (51.0, 99.0));
        assert_eq!(percentile(&[], 99.0), 0.0);
    }

    #[test]
    fn the_table_compares_each_run_with_each_baseline() {
        let run = |name: &str, fps: f64, rss: f64| RunSummary {
            name: name.into(),
            runner: String::new(),
            paced: false,
            frames: 1800,
            video_seconds: 60.0,
            windows: 60,
            wall_seconds: 1800.0 / fps,
            fps,
            cpu_percent: 100.0,
            peak_rss_mb: rss,
            stage_ms_per_video_second: Stages::default(),
            latency_ms: Latency::default(),
            tegrastats: None,
        };
        let table = markdown(&[run("actrec", 300.0, 100.0)], &[run("baseline", 15.0, 6000.0)]);
        assert!(table.contains("| actrec | baseline | 20.0× | 60.0× |"), "{table}");
        assert!(table.contains("| baseline | 15.0 | 0.50 |"), "{table}");
    }
}
