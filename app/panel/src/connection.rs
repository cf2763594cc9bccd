//! The panel's link to the engine: one thread connects, reads and
//! reconnects; another writes commands; the UI thread only queues commands
//! and takes what arrived, so it never waits on the socket.
//!
//! The link is a state machine, and each change reaches the UI:
//!
//! ```text
//! Waiting ──connected──▶ Connected ──read failed or engine silent──▶ Lost ──retry──▶ Waiting …
//!    ▲  └──engine speaks another protocol──▶ Refused(message) ──retry──┘
//!    └── retry every RETRY while there is no engine at the socket
//! ```
//!
//! Refused is retried too, more slowly: the engine may be updated under a
//! running panel. The engine publishes its status every second, so one that
//! says nothing for SILENCE is taken as lost. Replies come in the order
//! commands were sent: the writer notes each command's kind before sending
//! it, the reader pairs each reply with the oldest note, and commands still
//! unanswered when the link drops are answered here with an error.

use std::collections::VecDeque;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use actrec_ipc::{Client, IpcError, Status, ToClient, ToEngine};
use crossbeam_channel::{Receiver, Sender, unbounded};

/// Between attempts to reach an engine that is not there (yet).
pub const RETRY: Duration = Duration::from_millis(500);
/// Between attempts to reach an engine that refused this panel's protocol:
/// rarely, as each attempt is a warning in the engine's log.
pub const REFUSED_RETRY: Duration = Duration::from_secs(10);
/// An engine that sends nothing for this long is taken as hung.
pub const SILENCE: Duration = Duration::from_secs(5);

/// Where the link stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// No engine at the socket; `reason` is the last attempt's error.
    Waiting {
        reason: String,
    },
    /// `engine` is its hello: role and software version.
    Connected {
        engine: String,
    },
    Lost {
        reason: String,
    },
    /// The engine speaks another protocol version; the message says which.
    Refused {
        message: String,
    },
}

/// Which command a reply answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    SwitchSource,
    Acknowledge,
    Export,
    SelectSequence,
    Sync,
}

impl CommandKind {
    pub fn of(command: &ToEngine) -> Self {
        match command {
            ToEngine::SwitchSource { .. } => Self::SwitchSource,
            ToEngine::Acknowledge { .. } => Self::Acknowledge,
            ToEngine::Export { .. } => Self::Export,
            ToEngine::SelectSequence { .. } => Self::SelectSequence,
            ToEngine::Sync => Self::Sync,
        }
    }
}

/// What the link hands to the UI thread.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Link(Link),
    Status(Box<Status>),
    Event(serde_json::Value),
    /// The engine's answer to a command, or the link's when it could not be sent or answered.
    Reply {
        command: CommandKind,
        ok: bool,
        error: Option<String>,
    },
    /// Messages the engine dropped because this panel did not keep up.
    Dropped(u64),
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("cannot start the engine link's threads: {0}")]
    Spawn(#[from] std::io::Error),
}

type Pending = Arc<Mutex<VecDeque<CommandKind>>>;

enum Outgoing {
    Command(ToEngine),
    /// A new connection: its sending half and its replies-to-come.
    Attach {
        sender: actrec_ipc::Sender,
        pending: Pending,
    },
    Detach,
    Stop,
}

/// Hands messages to the UI thread and wakes it.
#[derive(Clone)]
struct Sink {
    tx: Sender<Incoming>,
    notify: Arc<dyn Fn() + Send + Sync>,
}

impl Sink {
    fn send(&self, message: Incoming) {
        // The receiver goes only with the Connection, which stops the threads first.
        if self.tx.send(message).is_ok() {
            (self.notify)();
        }
    }

    fn fail(&self, command: CommandKind, error: &str) {
        self.send(Incoming::Reply {
            command,
            ok: false,
            error: Some(error.to_owned()),
        });
    }
}

struct Shared {
    stop: AtomicBool,
    /// A handle on the live connection, to wake its reader when stopping.
    current: Mutex<Option<actrec_ipc::Sender>>,
}

impl Shared {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }
}

/// Queues commands for the engine; never waits. Each gets an
/// [`Incoming::Reply`], from the engine or, when it cannot be sent, from the link.
#[derive(Clone)]
pub struct Commands {
    tx: Sender<Outgoing>,
}

impl Commands {
    pub fn send(&self, command: ToEngine) {
        tracing::debug!(?command, "panel: command queued");
        if self.tx.send(Outgoing::Command(command)).is_err() {
            tracing::warn!("panel: the engine link is stopped; command not sent");
        }
    }
}

/// The link to the engine at one socket, reconnecting for as long as it lives.
pub struct Connection {
    socket: PathBuf,
    incoming: Receiver<Incoming>,
    commands: Commands,
    shared: Arc<Shared>,
}

impl Connection {
    /// Starts the link; `notify` is called (on the link's threads) after each
    /// message queued for [`Connection::try_recv`].
    pub fn start(socket: PathBuf, notify: impl Fn() + Send + Sync + 'static) -> Result<Self, ConnectionError> {
        let (tx, incoming) = unbounded();
        let sink = Sink {
            tx,
            notify: Arc::new(notify),
        };
        let (out_tx, out_rx) = unbounded();
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            current: Mutex::new(None),
        });
        {
            let sink = sink.clone();
            std::thread::Builder::new()
                .name("panel-writer".into())
                .spawn(move || write_loop(&out_rx, &sink))?;
        }
        let mut reader = Reader {
            socket: socket.clone(),
            sink,
            writer: out_tx.clone(),
            shared: Arc::clone(&shared),
            announced: None,
        };
        let spawned = std::thread::Builder::new()
            .name("panel-link".into())
            .spawn(move || reader.run());
        if let Err(err) = spawned {
            let _ = out_tx.send(Outgoing::Stop);
            return Err(err.into());
        }
        Ok(Self {
            socket,
            incoming,
            commands: Commands { tx: out_tx },
            shared,
        })
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    pub fn commands(&self) -> Commands {
        self.commands.clone()
    }

    /// The next message from the link, if one is waiting.
    pub fn try_recv(&self) -> Option<Incoming> {
        self.incoming.try_recv().ok()
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(current) = lock(&self.shared.current).take() {
            current.shutdown();
        }
        let _ = self.commands.tx.send(Outgoing::Stop);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How a connection ended.
enum End {
    Lost(String),
    Refused(String),
    Stopped,
}

struct Reader {
    socket: PathBuf,
    sink: Sink,
    writer: Sender<Outgoing>,
    shared: Arc<Shared>,
    announced: Option<Link>,
}

impl Reader {
    fn run(&mut self) {
        while !self.shared.stopped() {
            let wait = match Client::connect(&self.socket, "panel") {
                Ok(client) => match self.session(client) {
                    End::Stopped => break,
                    End::Lost(reason) => {
                        self.announce(Link::Lost { reason });
                        RETRY
                    }
                    End::Refused(message) => {
                        self.announce(Link::Refused { message });
                        REFUSED_RETRY
                    }
                },
                Err(err @ (IpcError::Version { .. } | IpcError::Refused(_))) => {
                    self.announce(Link::Refused {
                        message: err.to_string(),
                    });
                    REFUSED_RETRY
                }
                Err(err) => {
                    self.announce(Link::Waiting {
                        reason: err.to_string(),
                    });
                    RETRY
                }
            };
            self.sleep(wait);
        }
        tracing::debug!("panel: engine link stopped");
    }

    fn announce(&mut self, link: Link) {
        if self.announced.as_ref() == Some(&link) {
            return;
        }
        match &link {
            Link::Waiting { reason } => {
                tracing::info!(socket = %self.socket.display(), %reason, "panel: waiting for the engine");
            }
            Link::Connected { engine } => {
                tracing::info!(socket = %self.socket.display(), %engine, "panel: connected to the engine");
            }
            Link::Lost { reason } => tracing::warn!(%reason, "panel: lost the engine"),
            Link::Refused { message } => tracing::error!(%message, "panel: the engine refused this panel"),
        }
        self.sink.send(Incoming::Link(link.clone()));
        self.announced = Some(link);
    }

    fn sleep(&self, wait: Duration) {
        let until = Instant::now() + wait;
        while !self.shared.stopped() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
    }

    fn session(&mut self, mut client: Client) -> End {
        let (sender, waker) = match (client.sender(), client.sender()) {
            (Ok(sender), Ok(waker)) => (sender, waker),
            (Err(err), _) | (_, Err(err)) => return End::Lost(err.to_string()),
        };
        *lock(&self.shared.current) = Some(waker);
        // Checked after storing the waker: a stop from now on shuts the socket and wakes the read below.
        if self.shared.stopped() {
            return End::Stopped;
        }
        if let Err(err) = client.stream().set_read_timeout(Some(SILENCE)) {
            tracing::warn!(%err, "panel: cannot set a read timeout; a hung engine will not be noticed");
        }
        let pending = Pending::default();
        let attached = self.writer.send(Outgoing::Attach {
            sender,
            pending: Arc::clone(&pending),
        });
        if attached.is_err() {
            return End::Stopped;
        }
        self.announce(Link::Connected {
            engine: format!("{} {}", client.engine.role, client.engine.software),
        });
        // The status and recent events, then a reply: the panel is whole again.
        let _ = self.writer.send(Outgoing::Command(ToEngine::Sync));
        let end = self.read(&mut client, &pending);
        lock(&self.shared.current).take();
        let _ = self.writer.send(Outgoing::Detach);
        if self.shared.stopped() { End::Stopped } else { end }
    }

    fn read(&self, client: &mut Client, pending: &Pending) -> End {
        loop {
            let message = match client.recv() {
                Ok(message) => message,
                Err(IpcError::Io(err)) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return End::Lost(format!("the engine sent nothing for {} s", SILENCE.as_secs()));
                }
                Err(IpcError::Closed) => return End::Lost("the engine closed the connection".to_owned()),
                Err(IpcError::Refused(reason)) => return End::Refused(reason),
                Err(err) => return End::Lost(err.to_string()),
            };
            match message {
                ToClient::Status { status } => self.sink.send(Incoming::Status(status)),
                ToClient::Event { event } => self.sink.send(Incoming::Event(event)),
                ToClient::Reply { ok, error } => match lock(pending).pop_front() {
                    Some(command) => self.sink.send(Incoming::Reply { command, ok, error }),
                    None => tracing::warn!(ok, ?error, "panel: a reply to no command"),
                },
                ToClient::Dropped { count } => {
                    tracing::warn!(count, "panel: the engine dropped messages for this panel");
                    self.sink.send(Incoming::Dropped(count));
                }
                ToClient::Refused { reason } => return End::Refused(reason),
            }
        }
    }
}

fn write_loop(commands: &Receiver<Outgoing>, sink: &Sink) {
    let mut current: Option<(actrec_ipc::Sender, Pending)> = None;
    let fail_pending = |pending: &Pending| {
        for command in lock(pending).drain(..) {
            sink.fail(command, "the connection to the engine was lost");
        }
    };
    for message in commands {
        match message {
            Outgoing::Attach { sender, pending } => {
                if let Some((_, old)) = current.replace((sender, pending)) {
                    fail_pending(&old);
                }
            }
            Outgoing::Detach => {
                if let Some((_, old)) = current.take() {
                    fail_pending(&old);
                }
            }
            Outgoing::Stop => break,
            Outgoing::Command(command) => {
                let kind = CommandKind::of(&command);
                let Some((sender, pending)) = current.as_mut() else {
                    sink.fail(kind, "not connected to the engine");
                    continue;
                };
                // Noted before sending: the reply may arrive before `send` returns.
                lock(pending).push_back(kind);
                if let Err(err) = sender.send(&command) {
                    lock(pending).pop_back();
                    tracing::warn!(%err, ?kind, "panel: cannot send a command");
                    sink.fail(kind, &format!("cannot send to the engine: {err}"));
                    // The reader notices too and reconnects.
                    sender.shutdown();
                }
            }
        }
    }
}
