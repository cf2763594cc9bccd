//! The info page: the station's particulars from the last status, the
//! panel's own version and the link, as label/value rows.

use actrec_ipc::Status;
use slint::{ComponentHandle, SharedString};

use super::model;
use crate::ui::{AppWindow, InfoAdapter, InfoRow};

pub struct InfoController {
    socket: String,
    rows: Vec<(String, String)>,
}

impl InfoController {
    pub fn new(socket: String) -> Self {
        Self {
            socket,
            rows: Vec::new(),
        }
    }

    /// Shows the rows, if they changed (the status comes every second).
    pub fn show(&mut self, app: &AppWindow, status: Option<&Status>, link: &str) {
        let rows = crate::model::info_rows(status, env!("CARGO_PKG_VERSION"), &self.socket, link);
        if rows == self.rows {
            return;
        }
        let items = rows
            .iter()
            .map(|(label, value)| InfoRow {
                label: SharedString::from(label.as_str()),
                value: SharedString::from(value.as_str()),
            })
            .collect();
        app.global::<InfoAdapter>().set_rows(model(items));
        self.rows = rows;
    }
}
