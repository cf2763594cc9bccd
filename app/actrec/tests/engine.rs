//! The engine as a real process: started, switched over its control socket,
//! killed with real signals.

mod common;

use actrec_testkit::Xvfb;
use common::*;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[test]
fn a_recording_cut_by_kill_9_still_plays_up_to_the_cut() {
    let dir = temp_dir("kill9");
    let config = station(&dir);
    let mut engine = Engine::start(&config, &[]);
    engine.wait_for("source_started");
    // Let a few one-second fragments reach the disk.
    std::thread::sleep(Duration::from_millis(3500));
    engine.child.kill().expect("SIGKILL");
    let _ = engine.child.wait();
    let files = recordings(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let frames = count_frames(&files[0]);
    assert!(frames >= 30, "a killed recording still plays: {frames} frames");
}

#[test]
fn sigterm_finishes_the_recording_cleanly() {
    let dir = temp_dir("sigterm");
    let config = station(&dir);
    let engine = Engine::start(&config, &[]);
    engine.wait_for("source_started");
    std::thread::sleep(Duration::from_millis(1500));
    engine.signal("TERM");
    let stopped = engine.wait_for("stopped");
    let display_frames = stopped["display_frames"].as_u64().expect("count");
    let files = recordings(&dir);
    let frames = count_frames(&files[0]) as u64;
    // Frames still queued in the encoder at the signal are written too; none are lost.
    assert!(frames > 0 && frames <= display_frames, "{frames} of {display_frames}");
}

#[test]
fn the_source_switches_through_the_control_socket() {
    let dir = temp_dir("control");
    let config = station(&dir);
    let socket = dir.join("control.sock");
    let socket_arg = socket.display().to_string();
    let engine = Engine::start(&config, &["--socket", &socket_arg, "--exit-on-end"]);
    engine.wait_for("source_started");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let ctl = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_actrec"))
            .args(["ctl", "--socket", &socket_arg])
            .args(args)
            .output()
            .expect("actrec ctl runs")
    };
    let refused = ctl(&["switch-source", "nope"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("source `nope`: not configured"));
    let status = ctl(&["status"]);
    assert!(String::from_utf8_lossy(&status.stdout).contains("\"source\":\"pattern\""));
    let switched = ctl(&["switch-source", "clip"]);
    assert!(
        switched.status.success(),
        "{}",
        String::from_utf8_lossy(&switched.stderr)
    );
    let event = engine.wait_for("source_switched");
    assert_eq!(
        (event["from"].as_str(), event["to"].as_str()),
        (Some("pattern"), Some("clip"))
    );
    engine.wait_for("source_ended");
    engine.wait_for("stopped");
}

#[test]
fn the_preview_window_opens_on_a_desktop() {
    let dir = temp_dir("preview");
    let config = station_with(&dir, "preview = true");
    let x = Xvfb::start("640x480");
    let engine = Engine::start_with_env(&config, &["--seconds", "2"], &[("DISPLAY", x.display.as_str())]);
    engine.wait_for("source_started");
    let events = engine.until_stopped(Duration::from_secs(20));
    assert!(
        events
            .last()
            .is_some_and(|e| e["kind"] == "stopped" && e["display_frames"].as_u64() > Some(30)),
        "{events:?}"
    );
    assert!(!events.iter().any(|e| e["kind"] == "output_error"), "{events:?}");
}

#[test]
fn a_preview_without_a_desktop_is_refused_not_fatal() {
    let dir = temp_dir("no-desktop");
    let config = station_with(&dir, "preview = true");
    let mut child = Command::new(env!("CARGO_BIN_EXE_actrec"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .args(["run", "--seconds", "1", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("engine starts");
    let stdout = child.stdout.take().expect("stdout");
    let events: Vec<serde_json::Value> = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect();
    assert!(child.wait().expect("exit").success());
    assert!(events.iter().any(
        |e| e["kind"] == "output_error" && e["message"].as_str().is_some_and(|m| m.contains("no desktop session"))
    ));
    assert!(events.last().is_some_and(|e| e["kind"] == "stopped"));
}

#[test]
fn replayed_decisions_reach_the_recordings_and_clips() {
    let dir = temp_dir("decisions");
    let config = station_with(
        &dir,
        "mp4 = { dir = \"video\", split = \"part\" }\nclips = { dir = \"clips\", pre_roll_seconds = 1 }",
    );
    // Part 1 is good; part 2 leaves out its third step.
    let mut faulty = seed_steps();
    faulty.remove(2);
    let steps: Vec<&str> = seed_steps().into_iter().chain(faulty).collect();
    let windows = write_windows(&dir, &steps, 0.5, 0.1);
    let clip = dir.join("long.mp4");
    let status = Command::new("gst-launch-1.0")
        .arg("-q")
        .args(
            format!(
                "videotestsrc num-buffers=180 ! video/x-raw,width=320,height=240,framerate=30/1,format=I420 ! x264enc speed-preset=ultrafast ! h264parse ! mp4mux ! filesink location={}",
                clip.display()
            )
            .split_whitespace(),
        )
        .status()
        .expect("gst-launch-1.0");
    assert!(status.success());
    let text = std::fs::read_to_string(&config)
        .expect("config")
        .replace(&dir.join("clip.mp4").display().to_string(), &clip.display().to_string());
    std::fs::write(&config, text).expect("write config");

    let windows_arg = windows.display().to_string();
    let engine = Engine::start(
        &config,
        &["--source", "clip", "--windows", &windows_arg, "--exit-on-end"],
    );
    let events = engine.until_stopped(Duration::from_secs(30));
    let parts: Vec<_> = events.iter().filter(|e| e["kind"] == "part").collect();
    assert_eq!(parts.len(), 2, "{events:#?}");
    assert_eq!(parts[0]["verdict"], "pass");
    assert_eq!(parts[1]["verdict"], "reject");
    assert_eq!(parts[1]["missing"], serde_json::json!(["greased_disk"]));
    // The rejected part's clip is finished before the engine exits, and reported.
    assert!(
        events.iter().any(|e| e["kind"] == "clip_written" && e["part"] == 2),
        "{events:#?}"
    );
    let clips: Vec<_> = std::fs::read_dir(dir.join("data/clips"))
        .expect("clips dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(clips.len(), 1, "{clips:?}");
    assert!(clips[0].display().to_string().contains("part-000002"));
    assert!(count_frames(&clips[0]) > 0);
    // One recording per part, and one for the video after the last part. A split
    // happens at the next keyframe (one a second of output time), so when a loaded
    // machine bunches the fast-paced frames, two part ends can share a keyframe
    // interval and a file.
    let files = recordings(&dir).len();
    assert!((2..=3).contains(&files), "{files} recordings");

    // No video until the file plays, and again once it has ended.
    let faults: Vec<_> = events
        .iter()
        .filter(|e| e["kind"] == "fault" && e["fault"] == "no_video")
        .map(|e| e["active"].as_bool())
        .collect();
    assert_eq!(faults, [Some(true), Some(false), Some(true)], "{events:#?}");

    // The tower as the event stream shows it to the panel, whatever the backend.
    let lights: Vec<(String, String, String)> = events
        .iter()
        .filter(|e| e["kind"] == "lights")
        .map(|e| {
            let lamp = |name: &str| e["lights"][name].as_str().unwrap_or("?").to_owned();
            (lamp("green"), lamp("amber"), lamp("red"))
        })
        .collect();
    let shown = |g: &str, a: &str, r: &str| lights.iter().any(|l| *l == (g.into(), a.into(), r.into()));
    assert!(shown("off", "off", "steady"), "no video at start: {lights:?}");
    assert!(shown("steady", "off", "off"), "green after the good part: {lights:?}");
    assert!(
        shown("off", "off", "blink"),
        "blinking red after the faulty part: {lights:?}"
    );

    // The line outputs, through the sim backend's record: safe at start (red
    // lit, relay holding the line), amber while inspecting, green after the
    // good part, the relay and blinking red after the faulty one, safe at the end.
    let records = actrec_gpio::sim::SimLines::read_records(&dir.join("data/gpio-sim.jsonl")).expect("gpio record");
    let level = |upto: usize, line: &str| {
        records[..upto]
            .iter()
            .rev()
            .find(|r| r.line.name() == line)
            .map(|r| r.state.is_on())
    };
    assert_eq!(level(6, "red"), Some(true));
    assert_eq!(level(6, "reject"), Some(true));
    let green = records
        .iter()
        .position(|r| r.line.name() == "green" && r.state.is_on())
        .expect("green after the good part");
    assert_eq!(level(green + 1, "reject"), Some(false));
    let fired = green
        + records[green..]
            .iter()
            .position(|r| r.line.name() == "reject" && r.state.is_on())
            .expect("the relay fires for the faulty part");
    assert_eq!(level(fired + 1, "green"), Some(false));
    let heartbeats = records.iter().filter(|r| r.line.name() == "heartbeat").count();
    assert!(heartbeats > 20, "the heartbeat toggles once per window: {heartbeats}");
    let end = records.len();
    for line in ["red", "reject"] {
        assert_eq!(level(end, line), Some(true), "{line} at the end");
    }
    for line in ["green", "amber", "buzzer"] {
        assert_eq!(level(end, line), Some(false), "{line} at the end");
    }

    // The audit log holds both verdicts, committed before the engine said so,
    // the faults, and an unbroken chain.
    let db = dir.join("data/audit.sqlite");
    let sql = |query: &str| sqlite(&db, query);
    assert_eq!(
        sql("SELECT part, verdict, missing FROM parts ORDER BY id"),
        "1|pass|[]\n2|reject|[\"greased_disk\"]"
    );
    let committed: Vec<String> = events
        .iter()
        .filter(|e| e["kind"] == "committed")
        .map(|e| e["row"].to_string())
        .collect();
    assert_eq!(committed.join("\n"), sql("SELECT id FROM parts ORDER BY id"));
    assert_eq!(
        sql("SELECT fault || ' ' || state FROM faults ORDER BY id"),
        "no_video raised\nno_video cleared\nno_video raised"
    );
    assert!(sql("SELECT clip FROM parts WHERE part = 2").contains("part-000002"));
    assert_chain_verifies(&db);
}

#[test]
fn the_engine_runs_the_model_on_live_frames() {
    let dir = temp_dir("live");
    let config = station(&dir);
    let clip = synth_clip(&dir.join("synth"), 9000, 640, 360);
    let text = std::fs::read_to_string(&config)
        .expect("config")
        .replace(
            &dir.join("model").display().to_string(),
            &root().join("config/models/demo").display().to_string(),
        )
        .replace(&dir.join("clip.mp4").display().to_string(), &clip.display().to_string());
    std::fs::write(&config, text).expect("config");
    let engine = Engine::start(&config, &["--source", "clip", "--exit-on-end"]);
    let events = engine.until_stopped(Duration::from_secs(60));
    // Every window the network sees becomes a step, a warning or idle; steps must come.
    let steps = events.iter().filter(|e| e["kind"] == "step").count();
    assert!(steps > 5, "{events:#?}");
    assert!(events.last().is_some_and(|e| e["kind"] == "stopped"));
}

/// The engine speaks systemd's notify protocol to whatever `NOTIFY_SOCKET`
/// names: here a real datagram socket standing in for systemd.
#[test]
fn the_engine_tells_systemd_it_is_ready_and_pets_the_watchdog() {
    use std::os::unix::net::UnixDatagram;
    let dir = temp_dir("notify");
    let config = station(&dir);
    let socket_path = dir.join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("notify socket");
    socket.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    let socket_env = socket_path.display().to_string();
    let mut engine = Engine::start_with_env(
        &config,
        &["--source", "pattern"],
        &[("NOTIFY_SOCKET", &socket_env), ("WATCHDOG_USEC", "400000")],
    );
    let mut messages = Vec::new();
    let mut buffer = [0u8; 4096];
    // Guards against a hang, not a speed check: READY, then several watchdog pings.
    while messages.iter().filter(|m: &&String| m.contains("WATCHDOG=1")).count() < 3 {
        let n = socket.recv(&mut buffer).expect("a notification within 20 s");
        messages.push(String::from_utf8_lossy(&buffer[..n]).into_owned());
    }
    let _ = Command::new("kill")
        .args(["-TERM", &engine.child.id().to_string()])
        .status();
    let ready = messages.iter().find(|m| m.contains("READY=1")).expect("READY=1");
    assert!(ready.contains("STATUS=inspecting; source pattern"), "{messages:?}");
    loop {
        match socket.recv(&mut buffer) {
            Ok(n) if String::from_utf8_lossy(&buffer[..n]).contains("STOPPING=1") => break,
            Ok(_) => {}
            Err(err) => panic!("no STOPPING=1 after SIGTERM: {err}; got {messages:?}"),
        }
    }
    assert!(engine.child.wait().expect("exit").success());
}

/// The durability test: the engine killed with SIGKILL 50 times
/// during a burst of verdicts. Every verdict it reported as committed is in
/// the audit log afterwards, the database is intact and the chain verifies.
#[test]
fn verdicts_reported_committed_survive_kill_9() {
    let dir = temp_dir("kill9-audit");
    let config = station_with(&dir, "");
    // Parts back to back, a window every 5 ms of stream time: about nine verdicts a second.
    let mut steps = Vec::new();
    for part in 0..400 {
        let mut part_steps = seed_steps();
        if part % 3 == 1 {
            part_steps.remove(4);
        }
        steps.extend(part_steps);
    }
    let windows = write_windows(&dir, &steps, 0.2, 0.005);
    let windows_arg = windows.display().to_string();
    let db = dir.join("data/audit.sqlite");
    let sql = |query: &str| sqlite(&db, query);

    let mut reported = 0usize;
    let mut seed = 12_345u64;
    for round in 0..50 {
        let mut engine = Engine::start(&config, &["--source", "pattern", "--windows", &windows_arg]);
        // Wait for the first verdict, then kill after a pseudo-random 0–700 ms.
        let first = engine.wait_for("committed");
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        std::thread::sleep(Duration::from_millis((seed >> 33) % 700));
        engine.child.kill().expect("SIGKILL");
        engine.child.wait().expect("reaped");
        let mut rows = vec![first["row"].as_i64().expect("row")];
        rows.extend(
            engine
                .lines
                .try_iter()
                .filter(|e| e["kind"] == "committed")
                .filter_map(|e| e["row"].as_i64()),
        );
        let list = rows.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let found: usize = sql(&format!("SELECT count(*) FROM parts WHERE id IN ({list})"))
            .parse()
            .expect("count");
        assert_eq!(found, rows.len(), "round {round}: committed rows missing ({list})");
        assert_eq!(sql("PRAGMA integrity_check"), "ok", "round {round}");
        reported += rows.len();
    }
    assert!(reported >= 50, "{reported} verdicts reported");
    // Every start after a kill records the outage as a fault.
    let outages = sql("SELECT count(*) FROM faults WHERE fault = 'engine_outage' AND state = 'raised'");
    assert_eq!(outages, "49");
    assert_chain_verifies(&db);
    eprintln!("{reported} verdicts reported committed over 50 kills; all found");
}

/// A USB stick mounted while the engine runs is seen, and an export onto it
/// from the control socket writes a folder that verifies, records the export
/// in the audit log and says when the stick may be pulled. The stick is a
/// tmpfs mounted in a private mount namespace (`unshare`), so the engine
/// reads it from its own /proc/self/mounts, as on the station.
#[test]
fn an_export_to_a_stick_mounted_while_running() {
    let dir = temp_dir("export");
    let roots = dir.join("media");
    let stick = roots.join("STICK");
    std::fs::create_dir_all(&stick).expect("mount point");
    let config = station_with(&dir, "");
    let text = std::fs::read_to_string(&config).expect("config").replace(
        "path = \"audit.sqlite\"",
        &format!("path = \"audit.sqlite\"\nmount_roots = [\"{}\"]", roots.display()),
    );
    std::fs::write(&config, text).expect("config");
    let windows = write_windows(&dir, &seed_steps(), 0.2, 0.05);
    let socket = dir.join("control.sock");
    // The engine starts, then the stick is mounted under it, in one namespace.
    let script = format!(
        "{exe} run --config {config} --source pattern --windows {windows} --socket {socket} & \
         engine=$!; sleep 2; mount -t tmpfs -o size=8m stick {stick}; wait $engine",
        exe = env!("CARGO_BIN_EXE_actrec"),
        config = config.display(),
        windows = windows.display(),
        socket = socket.display(),
        stick = stick.display(),
    );
    let mut child = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("unshare (util-linux) runs");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, events) = mpsc::channel::<serde_json::Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(value) = serde_json::from_str(&line) {
                let _ = tx.send(value);
            }
        }
    });
    let wait_for = |kind: &str| loop {
        match events.recv_timeout(Duration::from_secs(20)) {
            Ok(v) if v["kind"] == kind => return v,
            Ok(_) => {}
            Err(_) => panic!("no {kind} event"),
        }
    };
    wait_for("committed");
    let seen = wait_for("stick");
    assert_eq!(seen["path"].as_str(), Some(stick.display().to_string().as_str()));
    assert_eq!(seen["present"], true);

    let ctl = Command::new(env!("CARGO_BIN_EXE_actrec"))
        .args(["ctl", "--socket"])
        .arg(&socket)
        .args(["export", "--wait"])
        .output()
        .expect("actrec ctl");
    assert!(ctl.status.success(), "{}", String::from_utf8_lossy(&ctl.stderr));
    let done = wait_for("export_done");
    // `--wait` returned only once the export was done, and names its folder.
    assert_eq!(
        String::from_utf8_lossy(&ctl.stdout).trim(),
        done["folder"].as_str().expect("folder")
    );
    assert_eq!(done["safe_to_remove"], true);
    let folder = PathBuf::from(done["folder"].as_str().expect("folder"));
    assert!(folder.starts_with(&stick), "{folder:?}");
    // The folder is inside the namespace's tmpfs: verify it from there.
    let verify = Command::new("nsenter")
        .args(["--preserve-credentials", "-U", "-m", "-t"])
        .arg(child.id().to_string())
        .arg(env!("CARGO_BIN_EXE_actrec"))
        .arg("verify-export")
        .arg(&folder)
        .output()
        .expect("nsenter");
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = Command::new("pkill")
        .args(["-TERM", "-f", &socket.display().to_string()])
        .status();
    child.wait().expect("exit");
    let exports = sqlite(
        &dir.join("data/audit.sqlite"),
        "SELECT count(*) FROM chain WHERE kind = 'operator' AND body ->> '$.action' = 'export'",
    );
    assert_eq!(exports, "1");
}
