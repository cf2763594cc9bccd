//! Frames on the socket, and the client's side of a connection.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Hello, IpcError, ToClient, ToEngine};

/// The largest frame either side accepts: events are small, and a peer
/// that sends more is broken or hostile.
pub const MAX_FRAME: usize = 1 << 20;

pub fn write_frame(out: &mut impl Write, message: &impl Serialize) -> Result<(), IpcError> {
    let body = serde_json::to_vec(message).map_err(|e| IpcError::Malformed(e.to_string()))?;
    if body.len() > MAX_FRAME {
        return Err(IpcError::TooLarge(body.len()));
    }
    let length = u32::try_from(body.len()).map_err(|_| IpcError::TooLarge(body.len()))?;
    out.write_all(&length.to_be_bytes())?;
    out.write_all(&body)?;
    out.flush()?;
    Ok(())
}

pub fn read_frame<T: DeserializeOwned>(input: &mut impl Read) -> Result<T, IpcError> {
    let mut length = [0u8; 4];
    match input.read_exact(&mut length) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Err(IpcError::Closed),
        Err(e) => return Err(e.into()),
    }
    let length = u32::from_be_bytes(length) as usize;
    if length > MAX_FRAME {
        return Err(IpcError::TooLarge(length));
    }
    let mut body = vec![0u8; length];
    input.read_exact(&mut body).map_err(|e| match e.kind() {
        ErrorKind::UnexpectedEof => IpcError::Closed,
        _ => e.into(),
    })?;
    serde_json::from_slice(&body).map_err(|e| IpcError::Malformed(e.to_string()))
}

/// Checks a peer's hello against the protocol this side speaks.
pub(crate) fn check_hello(hello: &Hello, ours: u32) -> Result<(), IpcError> {
    if hello.protocol == ours {
        Ok(())
    } else {
        Err(IpcError::Version {
            peer: hello.role.clone(),
            ours,
            theirs: hello.protocol,
            software: hello.software.clone(),
        })
    }
}

/// A client's connection to the engine.
pub struct Client {
    stream: UnixStream,
    /// The engine's hello.
    pub engine: Hello,
}

impl Client {
    /// Connects, introduces itself as `role` and checks the engine's protocol.
    pub fn connect(path: &Path, role: &str) -> Result<Self, IpcError> {
        Self::connect_as(path, Hello::new(role))
    }

    /// Connects with a given hello (tests use it to speak another version).
    pub fn connect_as(path: &Path, hello: Hello) -> Result<Self, IpcError> {
        let mut stream = UnixStream::connect(path)?;
        write_frame(&mut stream, &hello)?;
        let engine: Hello = read_frame(&mut stream)?;
        check_hello(&engine, hello.protocol)?;
        Ok(Self { stream, engine })
    }

    pub fn send(&mut self, command: &ToEngine) -> Result<(), IpcError> {
        write_frame(&mut self.stream, command)
    }

    /// The next message; a refusal becomes an error.
    pub fn recv(&mut self) -> Result<ToClient, IpcError> {
        match read_frame(&mut self.stream)? {
            ToClient::Refused { reason } => Err(IpcError::Refused(reason)),
            message => Ok(message),
        }
    }

    /// A second handle that only sends, for a thread other than the reader's.
    pub fn sender(&self) -> Result<Sender, IpcError> {
        Ok(Sender {
            stream: self.stream.try_clone()?,
        })
    }

    /// The underlying stream, e.g. to set a read timeout.
    pub fn stream(&self) -> &UnixStream {
        &self.stream
    }
}

/// Sends commands on a client's connection while another thread reads it.
pub struct Sender {
    stream: UnixStream,
}

impl Sender {
    pub fn send(&mut self, command: &ToEngine) -> Result<(), IpcError> {
        write_frame(&mut self.stream, command)
    }

    /// Closes the connection for both halves (wakes a blocked reader).
    pub fn shutdown(&self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}
