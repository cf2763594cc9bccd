//! The control socket: one JSON request per line, one JSON reply per line.
//! The requests reach the engine's main loop, which answers each.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, bounded};
use serde::{Deserialize, Serialize};

use super::StartError;

/// A command on the control socket, one JSON object per line.
#[derive(Debug, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case", deny_unknown_fields)]
pub enum ControlRequest {
    SwitchSource {
        source: String,
    },
    /// A supervisor acknowledges a rejected part: the latched relay releases.
    Acknowledge,
    /// Export the audit log to a USB stick: `to`, or the one mounted.
    Export {
        #[serde(default)]
        to: Option<PathBuf>,
    },
    Status,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ControlReply {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frames: Option<u64>,
}

pub type ControlCall = (ControlRequest, Sender<ControlReply>);

/// The control socket: one JSON request per line, one JSON reply per line.
pub struct ControlSocket {
    path: PathBuf,
}

impl ControlSocket {
    pub fn bind(path: &Path, calls: Sender<ControlCall>) -> Result<Self, StartError> {
        // A socket left by a killed engine would block the bind.
        if path.exists() && UnixStream::connect(path).is_err() {
            let _ = std::fs::remove_file(path);
        }
        let listener = UnixListener::bind(path).map_err(|err| StartError::Path {
            path: path.to_owned(),
            message: format!("cannot listen: {err}"),
        })?;
        std::thread::Builder::new()
            .name("control".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let calls = calls.clone();
                    std::thread::spawn(move || serve_control(stream, &calls));
                }
            })
            .map_err(|err| StartError::Path {
                path: path.to_owned(),
                message: err.to_string(),
            })?;
        Ok(Self { path: path.to_owned() })
    }
}

impl Drop for ControlSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn serve_control(stream: UnixStream, calls: &Sender<ControlCall>) {
    let Ok(mut writer) = stream.try_clone() else { return };
    for line in BufReader::new(stream).lines().map_while(Result::ok) {
        let reply = match serde_json::from_str::<ControlRequest>(&line) {
            Ok(request) => {
                let (tx, rx): (Sender<ControlReply>, Receiver<ControlReply>) = bounded(1);
                if calls.send((request, tx)).is_err() {
                    return;
                }
                rx.recv_timeout(Duration::from_secs(5)).unwrap_or(ControlReply {
                    ok: false,
                    error: Some("the engine did not answer".into()),
                    source: None,
                    frames: None,
                })
            }
            Err(err) => ControlReply {
                ok: false,
                error: Some(format!("bad request: {err}")),
                source: None,
                frames: None,
            },
        };
        let Ok(text) = serde_json::to_string(&reply) else {
            return;
        };
        if writeln!(writer, "{text}").is_err() {
            return;
        }
    }
}
