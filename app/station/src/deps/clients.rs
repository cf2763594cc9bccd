//! The network seam: the panel and `actrec ctl`, connected to the engine's
//! Unix socket. The real one is actrec-ipc's [`Server`]; the fake keeps
//! what was sent. Commands come the other way, on the channel in
//! [`crate::Deps::commands`].

use std::sync::{Arc, Mutex};

use actrec_core::sync::lock;
use actrec_ipc::{ClientId, Server, ToClient};

pub trait Clients {
    /// To every client connected.
    fn publish(&self, message: &ToClient);
    /// To one client (a reply, the status on its sync).
    fn send_to(&self, client: ClientId, message: ToClient);
}

impl Clients for Server {
    fn publish(&self, message: &ToClient) {
        Server::publish(self, message);
    }
    fn send_to(&self, client: ClientId, message: ToClient) {
        Server::send_to(self, client, message);
    }
}

/// A message and its client (`None`: published to all).
pub type Sent = (Option<ClientId>, ToClient);

/// Every message sent, in order.
#[derive(Debug, Clone, Default)]
pub struct FakeClients(pub Arc<Mutex<Vec<Sent>>>);

impl FakeClients {
    pub fn sent(&self) -> Vec<Sent> {
        lock(&self.0).clone()
    }
}

impl Clients for FakeClients {
    fn publish(&self, message: &ToClient) {
        lock(&self.0).push((None, message.clone()));
    }
    fn send_to(&self, client: ClientId, message: ToClient) {
        lock(&self.0).push((Some(client), message));
    }
}
