//! The engine's operator socket, as the panel and `actrec ctl` use it: a
//! real engine process, a real Unix socket, and the audit log afterwards.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use actrec_ipc::{Client, Standing, Status, ToClient, ToEngine};
use common::*;

const PIN: &str = "4711";

/// A station with an operator socket, a supervisor PIN and an alternative
/// sequence; returns the config and the socket.
fn operator_station(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let config = station_with(dir, "");
    let mut hash_pin = Command::new(env!("CARGO_BIN_EXE_actrec"))
        .arg("hash-pin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("actrec hash-pin");
    std::io::Write::write_all(
        &mut hash_pin.stdin.take().expect("stdin"),
        format!("{PIN}\n").as_bytes(),
    )
    .expect("PIN written");
    let hashed = hash_pin.wait_with_output().expect("hash");
    assert!(hashed.status.success());
    let hash = String::from_utf8(hashed.stdout).expect("utf-8");
    let socket = dir.join("engine.sock");
    let short = root().join("config/sequences/gear-housing-short.toml");
    let text = std::fs::read_to_string(&config).expect("config").replace(
        "config/sequences/gear-housing.toml\"",
        &format!(
            "config/sequences/gear-housing.toml\"\nalternatives = [\"{}\"]",
            short.display()
        ),
    );
    let text = format!(
        "{text}\n[operator]\nsocket = \"{}\"\nsupervisor_pin = \"{}\"\n",
        socket.display(),
        hash.trim()
    );
    std::fs::write(&config, text).expect("config");
    (config, socket)
}

fn connect(socket: &Path) -> Client {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match Client::connect(socket, "test-panel") {
            Ok(client) => {
                let _ = client.stream().set_read_timeout(Some(Duration::from_secs(20)));
                return client;
            }
            Err(err) if Instant::now() > deadline => panic!("cannot connect: {err}"),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Sends a command and returns its reply, keeping the last status seen.
fn call(client: &mut Client, command: ToEngine, last: &mut Option<Status>) -> Result<(), String> {
    client.send(&command).expect("send");
    loop {
        match client.recv().expect("an answer") {
            ToClient::Reply { ok: true, .. } => return Ok(()),
            ToClient::Reply { error, .. } => return Err(error.unwrap_or_default()),
            ToClient::Status { status } => *last = Some(*status),
            _ => {}
        }
    }
}

fn wait_status(client: &mut Client, what: &str, mut ok: impl FnMut(&Status) -> bool) -> Status {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let ToClient::Status { status } = client.recv().expect("a message")
            && ok(&status)
        {
            return *status;
        }
    }
    panic!("no status with {what}");
}

#[test]
fn a_reject_is_acknowledged_only_with_the_supervisor_pin_and_wrong_pins_are_audited() {
    let dir = temp_dir("operator");
    let (config, socket) = operator_station(&dir);
    // A faulty part: the spacer washer is missing.
    let steps: Vec<&str> = seed_steps().into_iter().filter(|s| *s != "spacer_washer").collect();
    let windows = write_windows(&dir, &steps, 0.2, 0.05);
    let windows_arg = windows.display().to_string();
    let engine = Engine::start(&config, &["--windows", &windows_arg]);

    let mut client = connect(&socket);
    let mut last = None;
    call(&mut client, ToEngine::Sync, &mut last).expect("sync");
    let first = last.clone().expect("sync sends the status first");
    assert_eq!(first.station, "test-station");
    assert_eq!(first.sources, ["clip", "pattern"]);
    assert_eq!(first.sequences, ["gear-housing", "gear-housing-short"]);
    assert_eq!(first.sequence, "gear-housing");

    let rejected = wait_status(&mut client, "the reject waiting", |s| s.reject_waiting);
    assert_eq!(rejected.standing, Standing::Reject);
    assert!(rejected.detail.contains("spacer_washer"), "{}", rejected.detail);
    engine.wait_for("committed");

    let wrong = call(&mut client, ToEngine::Acknowledge { pin: "0000".into() }, &mut last);
    assert!(wrong.as_ref().is_err_and(|e| e.starts_with("wrong PIN")), "{wrong:?}");
    call(&mut client, ToEngine::Acknowledge { pin: PIN.into() }, &mut last).expect("the right PIN");
    wait_status(&mut client, "the reject acknowledged", |s| !s.reject_waiting);

    // A second panel joining late gets the part's steps and verdict.
    let mut late = connect(&socket);
    late.send(&ToEngine::Sync).expect("sync");
    let mut kinds = Vec::new();
    loop {
        match late.recv().expect("a message") {
            ToClient::Event { event } => kinds.push(event["kind"].as_str().unwrap_or_default().to_owned()),
            ToClient::Reply { ok, .. } => {
                assert!(ok);
                break;
            }
            _ => {}
        }
    }
    assert_eq!(kinds.iter().filter(|k| *k == "step").count(), steps.len());
    assert_eq!(kinds.last().map(String::as_str), Some("part"));

    // Sequences change between parts only, to configured ones.
    let unknown = call(&mut client, ToEngine::SelectSequence { name: "nope".into() }, &mut last);
    assert!(unknown.is_err_and(|e| e.contains("not configured")));
    call(
        &mut client,
        ToEngine::SelectSequence {
            name: "gear-housing-short".into(),
        },
        &mut last,
    )
    .expect("select");
    wait_status(&mut client, "the new sequence", |s| s.sequence == "gear-housing-short");

    // `actrec ctl` speaks the same protocol.
    let ctl = Command::new(env!("CARGO_BIN_EXE_actrec"))
        .args(["ctl", "--socket"])
        .arg(&socket)
        .args(["acknowledge", "--pin", "9999"])
        .output()
        .expect("actrec ctl");
    assert_eq!(ctl.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&ctl.stderr).contains("wrong PIN"));

    drop(client);
    drop(late);
    engine.stop();
    let db = dir.join("data/audit.sqlite");
    let count = |action: &str| {
        sqlite(
            &db,
            &format!("SELECT count(*) FROM chain WHERE kind = 'operator' AND body ->> '$.action' = '{action}'"),
        )
    };
    assert_eq!(count("wrong_pin"), "2");
    assert_eq!(count("acknowledge"), "1");
    assert_eq!(count("select_sequence"), "1");
    let judged = sqlite(
        &db,
        "SELECT body ->> '$.judged_with.sequence.name' FROM chain WHERE kind = 'part'",
    );
    assert_eq!(judged, "gear-housing");
    assert_chain_verifies(&db);
}
