//! Runs the built `actrec` binary on the shipped config and on broken files.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn actrec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_actrec"))
        .current_dir(root())
        .args(args)
        .env_remove("ACTREC_CONFIG")
        .output()
        .expect("actrec runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    stdout(output)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

const GOOD_SEQ: &str = "config/sequences/gear-housing.toml";
const BAD_SEQ: &str = "config/sequences/gear-housing-bad.toml";
const GOOD_RUN: &str = "config/demo/good-part.windows.jsonl";
const FAULTY_RUN: &str = "config/demo/faulty-part.windows.jsonl";

#[test]
fn a_good_part_passes() {
    let out = actrec(&["check", "--sequence", GOOD_SEQ, "--windows", GOOD_RUN]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines = json_lines(&out);
    let steps: Vec<_> = lines.iter().filter(|l| l["kind"] == "step").collect();
    assert_eq!(steps.len(), 22);
    assert!(steps.iter().all(|s| s["status"] == "ok" && s.get("expected").is_none()));
    assert!(
        lines
            .iter()
            .any(|l| l["kind"] == "warning" && l["p"].as_f64().is_some_and(|p| p < 0.5))
    );
    assert_eq!(
        lines.last(),
        Some(&serde_json::json!({"kind": "part", "t": 78.0, "part": 1, "verdict": "pass", "missing": [], "errors": 0}))
    );
}

#[test]
fn a_faulty_part_is_rejected_with_its_missing_step() {
    let out = actrec(&["check", "--sequence", GOOD_SEQ, "--windows", FAULTY_RUN]);
    assert_eq!(out.status.code(), Some(0));
    let lines = json_lines(&out);
    let last = lines.last().expect("a part line");
    assert_eq!(last["verdict"], "reject");
    assert_eq!(last["missing"], serde_json::json!(["greased_disk"]));
    assert_eq!(last["errors"], 1);
    let error = lines.iter().find(|l| l["status"] == "error").expect("an error step");
    assert_eq!(error["step"], "install_lid");
    assert_eq!(error["expected"], serde_json::json!(["complete_part"]));
}

#[test]
fn the_bad_sequence_flags_the_last_spacer_and_greased_disk() {
    let out = actrec(&["check", "--sequence", BAD_SEQ, "--windows", GOOD_RUN]);
    let lines = json_lines(&out);
    let errors: Vec<_> = lines
        .iter()
        .filter(|l| l["status"] == "error")
        .map(|l| l["step"].clone())
        .collect();
    assert_eq!(errors, [serde_json::json!("spacer"), serde_json::json!("greased_disk")]);
    assert_eq!(
        lines.last().map(|l| l["missing"].clone()),
        Some(serde_json::json!(["install_lid", "press_down"]))
    );
}

#[test]
fn text_format_is_an_operators_log_without_colour_in_a_pipe() {
    let out = actrec(&[
        "check",
        "--sequence",
        GOOD_SEQ,
        "--windows",
        FAULTY_RUN,
        "--format",
        "text",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(!text.contains('\x1b'), "no colour codes when stdout is not a terminal");
    assert!(
        text.contains("install_lid      ERROR   p=0.77  expected complete_part"),
        "{text}"
    );
    assert!(
        text.contains("part 1  REJECT  missing: greased_disk  errors: 1"),
        "{text}"
    );
    assert!(
        text.lines()
            .last()
            .is_some_and(|l| l.starts_with("# 1 part(s): 0 pass, 1 reject"))
    );
}

#[test]
fn windows_can_come_from_stdin() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_actrec"))
        .current_dir(root())
        .args(["check", "--sequence", GOOD_SEQ, "--windows", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("actrec runs");
    let input = std::fs::read(root().join(GOOD_RUN)).expect("demo windows");
    child.stdin.take().expect("stdin").write_all(&input).expect("write");
    let out = child.wait_with_output().expect("exit");
    assert_eq!(
        json_lines(&out).last().map(|l| l["verdict"].clone()),
        Some(serde_json::json!("pass"))
    );
}

#[test]
fn a_malformed_window_line_stops_with_file_and_line_keeping_what_came_before() {
    let out = actrec(&[
        "check",
        "--sequence",
        GOOD_SEQ,
        "--windows",
        "tests/fixtures/truncated.windows.jsonl",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.starts_with("tests/fixtures/truncated.windows.jsonl:3:"), "{err}");
    assert!(err.contains("EOF while parsing an object"), "{err}");
    assert_eq!(json_lines(&out).len(), 2, "the two good lines before it were reported");
}

#[test]
fn a_malformed_definition_reports_every_problem() {
    let out = actrec(&[
        "check",
        "--sequence",
        "tests/fixtures/bad-sequence.toml",
        "--windows",
        GOOD_RUN,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "tests/fixtures/bad-sequence.toml:5:14: steps[1].repeat: repeat = 0 would remove the group; delete it instead\n\
         tests/fixtures/bad-sequence.toml:6:17: steps[2].any_order: empty group: `any_order` needs at least one step\n"
    );
    assert!(stdout(&out).is_empty());
}

#[test]
fn a_model_limits_the_labels_a_sequence_may_use() {
    let dir = std::env::temp_dir().join(format!("actrec-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let sequence = dir.join("typo.toml");
    std::fs::write(
        &sequence,
        "name = \"typo\"\nfinal_step = \"complete_part\"\nsteps = [\"riveted_start\", \"spacr\", \"complete_part\"]\n",
    )
    .expect("write");
    let sequence = sequence.display().to_string();
    let out = actrec(&[
        "check",
        "--sequence",
        &sequence,
        "--windows",
        GOOD_RUN,
        "--model",
        "config/models/demo",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with(&format!(
        "{sequence}:3:27: steps[1]: step `spacr` is not a label of the model"
    )));
    // Without a model, the same definition is fine: `spacr` is just never seen.
    let out = actrec(&["check", "--sequence", &sequence, "--windows", GOOD_RUN]);
    assert_eq!(out.status.code(), Some(0));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_arguments_and_missing_files_exit_2() {
    let out = actrec(&[
        "check",
        "--sequence",
        GOOD_SEQ,
        "--windows",
        GOOD_RUN,
        "--min-confidence",
        "1.5",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "command line: --min-confidence: min_confidence = 1.5 must be greater than 0 and at most 1\n"
    );

    let out = actrec(&["check", "--sequence", GOOD_SEQ, "--windows", "no/such.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("no/such.jsonl: cannot read:"),
        "{}",
        stderr(&out)
    );

    let out = actrec(&["check", "--sequence", GOOD_SEQ]);
    assert_eq!(out.status.code(), Some(2), "clap usage errors exit 2 too");
}

#[test]
fn the_shipped_station_config_is_valid() {
    let out = actrec(&["check-config", "config/station.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let manifest = std::fs::read_to_string(root().join("config/models/demo/manifest.toml")).expect("manifest");
    let version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("the manifest's version");
    let expected = format!("ok (station demo-station, model actrec-demo {version}, sequence gear-housing");
    assert!(stdout(&out).contains(&expected), "{}", stdout(&out));
}

#[test]
fn check_config_prints_every_problem() {
    let out = actrec(&["check-config", "tests/fixtures/bad-station.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    let file = "tests/fixtures/bad-station.toml";
    assert_eq!(lines.len(), 7, "{err}");
    assert_eq!(
        lines[0],
        format!("{file}:10:1: sources.demo.file: unexpected keys in table: lop, available keys: path, loop, pace")
    );
    assert_eq!(
        lines[1],
        format!("{file}:4:6: station.id: id `line 3` must be 1 to 64 letters, digits, `-` or `_`")
    );
    assert_eq!(
        lines[2],
        format!("{file}:16:18: decoder.min_confidence: min_confidence = 0 must be greater than 0 and at most 1")
    );
    for (line, name) in lines[3..].iter().zip(["green", "amber", "red", "reject"]) {
        assert!(
            line.starts_with(&format!("{file}:21:1: gpio.lines: the `{name}` line is required")),
            "{err}"
        );
    }
}

#[test]
fn check_config_follows_the_model_and_sequence_it_names() {
    let dir = std::env::temp_dir().join(format!("actrec-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = std::fs::read_to_string(root().join("config/station.toml"))
        .expect("station.toml")
        .replace(
            "dir = \"models/demo\"",
            &format!("dir = \"{}\"", root().join("config/models/demo").display()),
        )
        .replace("idle_labels = [\"idle\"]", "idle_labels = [\"idle\", \"background\"]")
        .replace("file = \"sequences/gear-housing.toml\"", "file = \"missing.toml\"");
    let path = dir.join("station.toml");
    std::fs::write(&path, config).expect("write");
    let out = actrec(&["check-config", &path.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("decoder.idle_labels[1]: idle label `background` is not a label of the model"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}: cannot read:", dir.join("missing.toml").display())),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
