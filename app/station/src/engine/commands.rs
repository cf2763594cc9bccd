//! An operator's commands from the panel or `actrec ctl`: each is logged
//! (never with its PIN), answered to its sender, and refused with a reason
//! the panel shows. Wrong PINs are audited and lock the pad for a while.

use actrec_audit::record::OperatorAction;
use actrec_core::pin::Attempt;
use actrec_ipc::{ClientId, Command, ToClient, ToEngine};

use super::Engine;
use crate::deps::source::SourceControl;

impl Engine {
    /// A command from a panel or tool; the reply goes back to its sender.
    pub fn command(&mut self, source: &dyn SourceControl, command: Command) {
        let Command { client, role, command } = command;
        let name = command_name(&command);
        // Never the command itself: it may hold a PIN.
        tracing::info!(client = client.0, role = %role, command = name, "command");
        let result = match command {
            ToEngine::SwitchSource { source: name } => source.switch_source(&name),
            ToEngine::Acknowledge { pin } => self.acknowledge(&pin),
            ToEngine::Export { to } => self.start_export(to).map(drop),
            ToEngine::SelectSequence { name } => self.select_sequence(&name),
            ToEngine::Sync => {
                self.sync(client);
                Ok(())
            }
        };
        if let Err(reason) = &result {
            self.out.refused(name, reason);
        }
        self.reply(client, result);
        self.publish_status();
    }

    pub(super) fn reply(&self, client: ClientId, result: Result<(), String>) {
        if let Some(panel) = &self.out.panel {
            panel.clients.send_to(
                client,
                ToClient::Reply {
                    ok: result.is_ok(),
                    error: result.err(),
                },
            );
        }
    }

    /// The status and the recent parts' events, for a client that just came.
    pub(super) fn sync(&mut self, client: ClientId) {
        let status = self.status();
        if let Some(panel) = &self.out.panel {
            panel.clients.send_to(
                client,
                ToClient::Status {
                    status: Box::new(status),
                },
            );
            for event in panel.recent() {
                panel.clients.send_to(client, event.clone());
            }
        }
    }

    /// A supervisor's acknowledgement, checked against the PIN's hash; wrong
    /// PINs are audited and, after a few, lock the pad for a while.
    pub(super) fn acknowledge(&mut self, pin: &str) -> Result<(), String> {
        if let Some(hash) = &self.pin {
            let now = self.clock.since(self.started).as_secs_f64();
            let attempt = self.lockout.attempt(now, || hash.verify(pin));
            if attempt != Attempt::Accepted {
                let recorded = self.audit.operator(OperatorAction::WrongPin).map(drop);
                self.audited(recorded, "wrong PIN");
            }
            match attempt {
                Attempt::Accepted => {}
                Attempt::Wrong { tries_left } => {
                    return Err(format!(
                        "wrong PIN ({tries_left} {} left before the pad locks)",
                        if tries_left == 1 { "try" } else { "tries" }
                    ));
                }
                Attempt::Locked { seconds } => {
                    return Err(format!("too many wrong PINs: try again in {:.0} s", seconds.ceil()));
                }
            }
        }
        let waiting = self.line.acknowledge();
        self.report_lights();
        let recorded = self
            .audit
            .operator(OperatorAction::Acknowledge { part: None })
            .map(drop);
        self.audited(recorded, "acknowledgement");
        self.out.acknowledged(waiting);
        if self.shown.standing == actrec_ipc::Standing::Reject {
            self.shown.detail = format!("{} (acknowledged)", self.shown.detail);
        }
        Ok(())
    }

    /// Checks parts against another configured sequence, between parts.
    pub(super) fn select_sequence(&mut self, name: &str) -> Result<(), String> {
        let Some((file, definition)) = self.sequences.iter().find(|(_, d)| d.name == name) else {
            let names: Vec<&str> = self.sequences.iter().map(|(_, d)| d.name.as_str()).collect();
            return Err(format!(
                "sequence `{name}`: not configured (configured: {})",
                names.join(", ")
            ));
        };
        if name == self.sequence {
            return Ok(());
        }
        let artifact = crate::audit_log::sequence_artifact(definition, file).map_err(|err| err.to_string())?;
        if let Some(inspector) = self.inspector.as_mut() {
            inspector
                .select_sequence(definition)
                .map_err(|open| format!("part #{open} is open: select the sequence when it closes"))?;
            self.annotation.expected_next = inspector.expected_next();
        }
        let recorded = self
            .audit
            .operator(OperatorAction::SelectSequence {
                from: self.sequence.clone(),
                to: name.to_owned(),
            })
            .map(drop);
        self.audited(recorded, "sequence selection");
        self.audit.set_sequence(artifact);
        tracing::info!(sequence = name, "sequence selected");
        self.sequence = name.to_owned();
        self.annotation.strip = self.strip(None);
        self.out.sequence_selected(name);
        self.output.annotate(&self.annotation());
        Ok(())
    }
}

fn command_name(command: &ToEngine) -> &'static str {
    match command {
        ToEngine::SwitchSource { .. } => "switch source",
        ToEngine::Acknowledge { .. } => "acknowledge",
        ToEngine::Export { .. } => "export",
        ToEngine::SelectSequence { .. } => "select sequence",
        ToEngine::Sync => "sync",
    }
}
