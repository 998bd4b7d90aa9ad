//! The add/edit form's state: a store over the connection's settings (both kinds kept while the
//! form switches between them), loaded from a connection and read back as the
//! `ConnectionInput` the server checks.

use leptos::prelude::*;
use reactive_stores::Store;

use crate::connections::{
    Connection, ConnectionInput, ConnectionSettings, HttpSettings, SmppSettings,
};

/// What the form edits.
#[derive(Debug, Clone, Default, Store)]
pub(super) struct Draft {
    pub name: String,
    /// Whether the SMPP fields are the ones shown and saved.
    pub smpp: bool,
    pub http_settings: HttpSettings,
    pub smpp_settings: SmppSettings,
    /// A new secret; empty keeps the stored one.
    pub secret: String,
    pub is_default: bool,
}

/// The connection being added or edited.
#[derive(Debug, Clone, Copy)]
pub(super) struct ConnectionForm {
    /// `None` while adding.
    pub(super) editing: RwSignal<Option<String>>,
    pub(super) has_secret: RwSignal<bool>,
    pub(super) draft: Store<Draft>,
    /// The port and throughput limit as typed: text until the server reads them as numbers.
    pub(super) port: RwSignal<String>,
    pub(super) max_rate: RwSignal<String>,
}

impl ConnectionForm {
    pub(super) fn new() -> Self {
        let form = Self {
            editing: RwSignal::new(None),
            has_secret: RwSignal::new(false),
            draft: Store::new(Draft::default()),
            port: RwSignal::default(),
            max_rate: RwSignal::default(),
        };
        form.load(
            None,
            String::new(),
            ConnectionSettings::default(),
            false,
            false,
        );
        form
    }

    pub(super) fn load(
        &self,
        id: Option<String>,
        name: String,
        settings: ConnectionSettings,
        is_default: bool,
        has_secret: bool,
    ) {
        self.editing.set(id);
        self.has_secret.set(has_secret);
        let (smpp, http_settings, smpp_settings) = match settings {
            ConnectionSettings::Http(http) => (false, *http, SmppSettings::default()),
            ConnectionSettings::Smpp(smpp) => (true, HttpSettings::default(), smpp),
        };
        self.port.set(smpp_settings.port.to_string());
        self.max_rate.set(smpp_settings.max_rate.to_string());
        self.draft.set(Draft {
            name,
            smpp,
            http_settings,
            smpp_settings,
            secret: String::new(),
            is_default,
        });
    }

    pub(super) fn edit(&self, connection: &Connection) {
        self.load(
            Some(connection.id.clone()),
            connection.name.clone(),
            connection.settings.clone(),
            connection.is_default,
            connection.has_secret,
        );
    }

    pub(super) fn input(&self) -> ConnectionInput {
        let draft = self.draft.get_untracked();
        let settings = if draft.smpp {
            ConnectionSettings::Smpp(SmppSettings {
                // Not a number: refused by the server's check with the field's own message.
                port: self.port.with_untracked(|p| p.trim().parse().unwrap_or(0)),
                max_rate: self
                    .max_rate
                    .with_untracked(|r| {
                        if r.trim().is_empty() {
                            Ok(0)
                        } else {
                            r.trim().parse()
                        }
                    })
                    .unwrap_or(u32::MAX),
                ..draft.smpp_settings
            })
        } else {
            ConnectionSettings::Http(Box::new(draft.http_settings))
        };
        ConnectionInput {
            name: draft.name,
            settings,
            secret: (!draft.secret.trim().is_empty()).then_some(draft.secret),
            is_default: draft.is_default,
        }
    }
}
