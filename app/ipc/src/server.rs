//! The engine's side: a listening socket, one reader and one writer thread
//! per client, and a bounded queue per client that drops its oldest
//! messages rather than make the engine wait.

use std::collections::VecDeque;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, unbounded};

use crate::wire::{check_hello, read_frame, write_frame};
use crate::{Hello, IpcError, ToClient, ToEngine};

#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Messages kept per client before the oldest are dropped.
    pub queue: usize,
    /// File mode of the socket.
    pub mode: u32,
    /// Group that may connect, if it exists on this system.
    pub group: Option<String>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            queue: 256,
            mode: 0o660,
            group: Some("actrec".into()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientId(pub u64);

/// A command from a client, for the engine's main loop.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub client: ClientId,
    pub role: String,
    pub command: ToEngine,
}

struct Queue {
    items: Mutex<VecDeque<ToClient>>,
    ready: Condvar,
    capacity: usize,
    dropped: AtomicU64,
    closed: AtomicBool,
}

impl Queue {
    fn push(&self, message: ToClient) {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        if items.len() >= self.capacity {
            items.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        items.push_back(message);
        self.ready.notify_one();
    }

    /// The next message; `None` once the queue is closed and drained.
    fn pop(&self) -> Option<ToClient> {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let dropped = self.dropped.swap(0, Ordering::Relaxed);
            if dropped > 0 {
                return Some(ToClient::Dropped { count: dropped });
            }
            if let Some(message) = items.pop_front() {
                return Some(message);
            }
            if self.closed.load(Ordering::Acquire) {
                return None;
            }
            items = self.ready.wait(items).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// No more messages; the writer sends what is queued, then stops.
    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.ready.notify_all();
    }
}

type Clients = Arc<Mutex<Vec<(ClientId, Arc<Queue>)>>>;

/// The engine's socket. Dropping it stops accepting and removes the file.
pub struct Server {
    path: PathBuf,
    clients: Clients,
    stopping: Arc<AtomicBool>,
    /// Commands from every client, in arrival order.
    pub commands: Receiver<Command>,
}

impl Server {
    pub fn bind(path: &Path, settings: ServerSettings) -> Result<Self, IpcError> {
        let located =
            |err: std::io::Error| IpcError::Io(std::io::Error::new(err.kind(), format!("{}: {err}", path.display())));
        // A socket left by a killed engine would block the bind; a live one must not be taken over.
        if path.exists() && UnixStream::connect(path).is_err() {
            let _ = std::fs::remove_file(path);
        }
        let listener = UnixListener::bind(path).map_err(located)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(settings.mode)).map_err(located)?;
        if let Some(gid) = settings.group.as_deref().and_then(group_id) {
            // Under systemd the socket is born in the group already (the
            // runtime directory's), and the unit's seccomp filter forbids chown.
            let current = std::fs::metadata(path).map_err(located)?.gid();
            if current != gid {
                std::os::unix::fs::chown(path, None, Some(gid)).map_err(located)?;
            }
        }
        let clients: Clients = Arc::default();
        let stopping = Arc::new(AtomicBool::new(false));
        let (commands_tx, commands) = unbounded();
        let accept = {
            let clients = Arc::clone(&clients);
            let stopping = Arc::clone(&stopping);
            move || accept_loop(&listener, &clients, &stopping, &commands_tx, settings.queue)
        };
        std::thread::Builder::new().name("ipc-accept".into()).spawn(accept)?;
        Ok(Self {
            path: path.to_owned(),
            clients,
            stopping,
            commands,
        })
    }

    /// Queues a message for every client; never waits for one.
    pub fn publish(&self, message: &ToClient) {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        clients.retain(|(_, queue)| !queue.closed.load(Ordering::Acquire));
        for (_, queue) in clients.iter() {
            queue.push(message.clone());
        }
    }

    /// Queues a message for one client.
    pub fn send_to(&self, client: ClientId, message: ToClient) {
        let clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, queue)) = clients.iter().find(|(id, _)| *id == client) {
            queue.push(message);
        }
    }

    /// Clients connected now.
    pub fn clients(&self) -> usize {
        let clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        clients
            .iter()
            .filter(|(_, q)| !q.closed.load(Ordering::Acquire))
            .count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Release);
        // Wakes the accept loop so that it sees the flag.
        let _ = UnixStream::connect(&self.path);
        for (_, queue) in self.clients.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            queue.close();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

fn accept_loop(
    listener: &UnixListener,
    clients: &Clients,
    stopping: &AtomicBool,
    commands: &Sender<Command>,
    capacity: usize,
) {
    let mut next = 0u64;
    for stream in listener.incoming() {
        if stopping.load(Ordering::Acquire) {
            return;
        }
        let Ok(stream) = stream else { continue };
        next += 1;
        let id = ClientId(next);
        let clients = Arc::clone(clients);
        let commands = commands.clone();
        let spawned = std::thread::Builder::new()
            .name("ipc-client".into())
            .spawn(move || serve(stream, id, &clients, &commands, capacity));
        if let Err(err) = spawned {
            tracing::error!(%err, "ipc: cannot serve a client");
        }
    }
}

/// One client: the handshake, then a writer thread for its queue while this
/// thread reads its commands.
fn serve(mut stream: UnixStream, id: ClientId, clients: &Clients, commands: &Sender<Command>, capacity: usize) {
    // A client that connects and says nothing must not hold a thread for ever.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let hello: Hello = match read_frame(&mut stream) {
        Ok(hello) => hello,
        Err(err) => {
            tracing::warn!(client = id.0, %err, "ipc: no hello from a client");
            return;
        }
    };
    if write_frame(&mut stream, &Hello::new("engine")).is_err() {
        return;
    }
    if let Err(err) = check_hello(&hello, crate::PROTOCOL) {
        tracing::warn!(client = id.0, role = %hello.role, %err, "ipc: client refused");
        let _ = write_frame(
            &mut stream,
            &ToClient::Refused {
                reason: err.to_string(),
            },
        );
        return;
    }
    let _ = stream.set_read_timeout(None);
    let queue = Arc::new(Queue {
        items: Mutex::new(VecDeque::new()),
        ready: Condvar::new(),
        capacity: capacity.max(1),
        dropped: AtomicU64::new(0),
        closed: AtomicBool::new(false),
    });
    clients
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push((id, Arc::clone(&queue)));
    tracing::info!(client = id.0, role = %hello.role, software = %hello.software, "ipc: client connected");
    let Ok(mut writer) = stream.try_clone() else {
        queue.close();
        return;
    };
    let outbound = Arc::clone(&queue);
    let writer_thread = std::thread::Builder::new().name("ipc-writer".into()).spawn(move || {
        while let Some(message) = outbound.pop() {
            if write_frame(&mut writer, &message).is_err() {
                break;
            }
        }
        outbound.close();
        let _ = writer.shutdown(std::net::Shutdown::Both);
    });
    loop {
        match read_frame::<ToEngine>(&mut stream) {
            Ok(command) => {
                let command = Command {
                    client: id,
                    role: hello.role.clone(),
                    command,
                };
                if commands.send(command).is_err() {
                    break;
                }
            }
            Err(IpcError::Closed) => break,
            Err(err) => {
                tracing::warn!(client = id.0, %err, "ipc: dropping a client that sent a bad frame");
                queue.push(ToClient::Refused {
                    reason: err.to_string(),
                });
                break;
            }
        }
    }
    // The writer sends what is queued (a refusal, say), then stops.
    queue.close();
    if let Ok(thread) = writer_thread {
        let _ = thread.join();
    }
    tracing::info!(client = id.0, "ipc: client gone");
}

/// The numeric id of `name` in /etc/group.
fn group_id(name: &str) -> Option<u32> {
    let groups = std::fs::read_to_string("/etc/group").ok()?;
    groups.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == name).then(|| fields.nth(1)?.parse().ok())?
    })
}
