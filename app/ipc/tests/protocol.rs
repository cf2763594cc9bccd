//! The protocol over a real Unix socket: handshake, version mismatch on
//! both sides, events to several clients, commands to the engine, a client
//! that never reads, a client that sends garbage, and the socket's mode.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use actrec_ipc::{
    Client, Hello, IpcError, PROTOCOL, Server, ServerSettings, ToClient, ToEngine, read_frame, write_frame,
};
use actrec_testkit::eventually;

fn socket(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("actrec-ipc-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    dir.join("engine.sock")
}

fn event(n: u64) -> ToClient {
    ToClient::Event {
        event: serde_json::json!({"kind": "step", "n": n}),
    }
}

#[test]
fn events_reach_every_client_and_commands_reach_the_engine() {
    let path = socket("events");
    let server = Server::bind(&path, ServerSettings::default()).expect("bind");
    let mode = std::fs::metadata(&path).expect("socket").permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);

    let mut panel = Client::connect(&path, "panel").expect("panel connects");
    let mut tool = Client::connect(&path, "tool").expect("tool connects");
    assert_eq!(panel.engine.role, "engine");
    assert_eq!(panel.engine.protocol, PROTOCOL);
    eventually("both clients registered", || server.clients() == 2);

    server.publish(&event(1));
    for client in [&mut panel, &mut tool] {
        assert_eq!(client.recv().expect("event"), event(1));
    }

    panel.send(&ToEngine::Acknowledge { pin: "1234".into() }).expect("send");
    let command = server
        .commands
        .recv_timeout(Duration::from_secs(20))
        .expect("a command");
    assert_eq!(command.role, "panel");
    assert_eq!(command.command, ToEngine::Acknowledge { pin: "1234".into() });
    server.send_to(
        command.client,
        ToClient::Reply {
            ok: false,
            error: Some("wrong PIN".into()),
        },
    );
    assert_eq!(
        panel.recv().expect("reply"),
        ToClient::Reply {
            ok: false,
            error: Some("wrong PIN".into())
        }
    );
    drop(server);
    assert!(!path.exists(), "the socket file goes with the server");
}

#[test]
fn a_version_mismatch_is_explained_on_both_sides() {
    let path = socket("version");
    let _server = Server::bind(&path, ServerSettings::default()).expect("bind");
    let old = Hello {
        protocol: PROTOCOL + 1,
        software: "9.9.9".into(),
        role: "panel".into(),
    };
    // The client side: it sees the engine's version and refuses to go on.
    let mut stream = UnixStream::connect(&path).expect("connect");
    write_frame(&mut stream, &old).expect("hello");
    let engine: Hello = read_frame(&mut stream).expect("engine hello");
    assert_eq!(engine.protocol, PROTOCOL);
    // The engine side: it says why, then closes.
    match read_frame::<ToClient>(&mut stream).expect("refusal") {
        ToClient::Refused { reason } => {
            assert!(
                reason.contains(&format!("panel speaks protocol {}", PROTOCOL + 1)),
                "{reason}"
            );
            assert!(reason.contains("update the older one"), "{reason}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(matches!(read_frame::<ToClient>(&mut stream), Err(IpcError::Closed)));

    // Through `Client`: an engine of another version is an error naming both.
    let err = Client::connect_as(&path, old).err().expect("refused");
    assert!(matches!(err, IpcError::Version { .. }), "{err}");
    assert!(
        err.to_string().contains(&format!(
            "engine speaks protocol {PROTOCOL} (software {}), this side {}",
            env!("CARGO_PKG_VERSION"),
            PROTOCOL + 1
        )),
        "{err}"
    );
}

#[test]
fn a_client_that_never_reads_never_holds_up_the_engine() {
    let path = socket("slow");
    let server = Server::bind(
        &path,
        ServerSettings {
            queue: 16,
            ..ServerSettings::default()
        },
    )
    .expect("bind");
    let mut sleeper = Client::connect(&path, "sleeper").expect("connect");
    let mut reader = Client::connect(&path, "reader").expect("connect");
    eventually("both clients registered", || server.clients() == 2);
    // Far more than the socket buffer and the queue hold: publish must return each time.
    for n in 0..20_000 {
        server.publish(&event(n));
    }
    // The sleeper wakes up: it is told what it missed, then gets the newest events.
    sleeper
        .stream()
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut dropped = 0;
    loop {
        match sleeper.recv().expect("message") {
            ToClient::Dropped { count } => dropped += count,
            ToClient::Event { event } if event["n"].as_u64() == Some(19_999) => break,
            ToClient::Event { .. } => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(dropped > 0, "the sleeper's oldest events were dropped");
    // The other client kept up or was told of its losses too; it ends on the newest.
    let mut reader_last = None;
    while reader_last != Some(19_999) {
        if let ToClient::Event { event } = reader.recv().expect("message") {
            reader_last = event["n"].as_u64();
        }
    }
}

#[test]
fn a_client_that_sends_garbage_is_dropped_with_a_reason() {
    let path = socket("garbage");
    let server = Server::bind(&path, ServerSettings::default()).expect("bind");
    let mut good = Client::connect(&path, "panel").expect("connect");

    let mut bad = UnixStream::connect(&path).expect("connect");
    write_frame(&mut bad, &Hello::new("fuzzer")).expect("hello");
    let _engine: Hello = read_frame(&mut bad).expect("engine hello");
    // A length far beyond the limit.
    bad.write_all(&u32::MAX.to_be_bytes()).expect("write");
    match read_frame::<ToClient>(&mut bad).expect("refusal") {
        ToClient::Refused { reason } => assert!(reason.contains("larger than"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // Unknown command fields are refused too, on another connection.
    let mut odd = Client::connect(&path, "odd").expect("connect");
    let mut raw = odd.stream().try_clone().expect("clone");
    write_frame(
        &mut raw,
        &serde_json::json!({"type": "export", "to": null, "force": true}),
    )
    .expect("write");
    match odd.recv() {
        Err(IpcError::Refused(reason)) => assert!(reason.contains("malformed"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // The engine and the good client carry on.
    eventually("the bad clients are gone", || server.clients() == 1);
    server.publish(&event(7));
    assert_eq!(good.recv().expect("event"), event(7));
}

#[test]
fn a_command_logged_never_shows_the_pin() {
    let text = format!("{:?}", ToEngine::Acknowledge { pin: "4711".into() });
    assert!(!text.contains("4711"), "{text}");
    assert_eq!(
        format!("{:?}", ToEngine::SelectSequence { name: "a".into() }),
        "SelectSequence { name: \"a\" }"
    );
}
