//! The add/edit form's state: one signal per field, loaded from a connection and read back
//! as the `ConnectionInput` the server checks.

use leptos::prelude::*;

use crate::{
    connections::{
        BindMode, BodyFormat, Connection, ConnectionInput, ConnectionSettings, HttpSettings,
        InboundFields, SmppSettings,
    },
    streams::settings::WebhookMethod,
};

/// The connection being added or edited.
#[derive(Debug, Clone, Copy)]
pub(super) struct ConnectionForm {
    /// `None` while adding.
    pub(super) editing: RwSignal<Option<String>>,
    pub(super) has_secret: RwSignal<bool>,
    pub(super) name: RwSignal<String>,
    /// "http" or "smpp".
    pub(super) kind: RwSignal<&'static str>,
    pub(super) host: RwSignal<String>,
    pub(super) port: RwSignal<String>,
    pub(super) system_id: RwSignal<String>,
    pub(super) system_type: RwSignal<String>,
    pub(super) bind_mode: RwSignal<BindMode>,
    pub(super) max_rate: RwSignal<String>,
    pub(super) tls: RwSignal<bool>,
    pub(super) url: RwSignal<String>,
    pub(super) method: RwSignal<WebhookMethod>,
    pub(super) body_format: RwSignal<BodyFormat>,
    pub(super) body_template: RwSignal<String>,
    pub(super) auth_header: RwSignal<String>,
    pub(super) secret: RwSignal<String>,
    pub(super) id_pointer: RwSignal<String>,
    pub(super) is_default: RwSignal<bool>,
    pub(super) report_id: RwSignal<String>,
    pub(super) report_status: RwSignal<String>,
    pub(super) delivered_values: RwSignal<String>,
    pub(super) undelivered_values: RwSignal<String>,
    pub(super) from: RwSignal<String>,
    pub(super) to: RwSignal<String>,
    pub(super) text: RwSignal<String>,
    pub(super) message_id: RwSignal<String>,
    pub(super) part_reference: RwSignal<String>,
    pub(super) part_total: RwSignal<String>,
    pub(super) part_number: RwSignal<String>,
}

impl ConnectionForm {
    pub(super) fn new() -> Self {
        let form = Self {
            editing: RwSignal::new(None),
            has_secret: RwSignal::new(false),
            name: RwSignal::default(),
            kind: RwSignal::new("http"),
            host: RwSignal::default(),
            port: RwSignal::default(),
            system_id: RwSignal::default(),
            system_type: RwSignal::default(),
            bind_mode: RwSignal::new(BindMode::Transceiver),
            max_rate: RwSignal::default(),
            tls: RwSignal::new(false),
            url: RwSignal::default(),
            method: RwSignal::new(WebhookMethod::Post),
            body_format: RwSignal::new(BodyFormat::Json),
            body_template: RwSignal::default(),
            auth_header: RwSignal::default(),
            secret: RwSignal::default(),
            id_pointer: RwSignal::default(),
            is_default: RwSignal::new(false),
            report_id: RwSignal::default(),
            report_status: RwSignal::default(),
            delivered_values: RwSignal::default(),
            undelivered_values: RwSignal::default(),
            from: RwSignal::default(),
            to: RwSignal::default(),
            text: RwSignal::default(),
            message_id: RwSignal::default(),
            part_reference: RwSignal::default(),
            part_total: RwSignal::default(),
            part_number: RwSignal::default(),
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
        self.name.set(name);
        self.kind.set(settings.kind());
        let (settings, smpp) = match settings {
            ConnectionSettings::Http(http) => (*http, SmppSettings::default()),
            ConnectionSettings::Smpp(smpp) => (HttpSettings::default(), smpp),
        };
        self.host.set(smpp.host);
        self.port.set(smpp.port.to_string());
        self.system_id.set(smpp.system_id);
        self.system_type.set(smpp.system_type);
        self.bind_mode.set(smpp.bind_mode);
        self.max_rate.set(smpp.max_rate.to_string());
        self.tls.set(smpp.tls);
        self.url.set(settings.url);
        self.method.set(settings.method);
        self.body_format.set(settings.body_format);
        self.body_template.set(settings.body_template);
        self.auth_header.set(settings.auth_header);
        self.secret.set(String::new());
        self.id_pointer.set(settings.id_pointer);
        self.is_default.set(is_default);
        let inbound = settings.inbound;
        self.report_id.set(inbound.report_id);
        self.report_status.set(inbound.report_status);
        self.delivered_values.set(inbound.delivered_values);
        self.undelivered_values.set(inbound.undelivered_values);
        self.from.set(inbound.from);
        self.to.set(inbound.to);
        self.text.set(inbound.text);
        self.message_id.set(inbound.message_id);
        self.part_reference.set(inbound.part_reference);
        self.part_total.set(inbound.part_total);
        self.part_number.set(inbound.part_number);
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
        let secret = self.secret.get_untracked();
        let settings = if self.kind.get_untracked() == "smpp" {
            ConnectionSettings::Smpp(SmppSettings {
                host: self.host.get_untracked(),
                // Not a number: refused by the server's check with the field's own message.
                port: self.port.with_untracked(|p| p.trim().parse().unwrap_or(0)),
                system_id: self.system_id.get_untracked(),
                system_type: self.system_type.get_untracked(),
                bind_mode: self.bind_mode.get_untracked(),
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
                tls: self.tls.get_untracked(),
            })
        } else {
            ConnectionSettings::Http(Box::new(self.http()))
        };
        ConnectionInput {
            name: self.name.get_untracked(),
            settings,
            secret: (!secret.trim().is_empty()).then_some(secret),
            is_default: self.is_default.get_untracked(),
        }
    }

    fn http(&self) -> HttpSettings {
        HttpSettings {
            url: self.url.get_untracked(),
            method: self.method.get_untracked(),
            body_format: self.body_format.get_untracked(),
            body_template: self.body_template.get_untracked(),
            auth_header: self.auth_header.get_untracked(),
            id_pointer: self.id_pointer.get_untracked(),
            inbound: InboundFields {
                report_id: self.report_id.get_untracked(),
                report_status: self.report_status.get_untracked(),
                delivered_values: self.delivered_values.get_untracked(),
                undelivered_values: self.undelivered_values.get_untracked(),
                from: self.from.get_untracked(),
                to: self.to.get_untracked(),
                text: self.text.get_untracked(),
                message_id: self.message_id.get_untracked(),
                part_reference: self.part_reference.get_untracked(),
                part_total: self.part_total.get_untracked(),
                part_number: self.part_number.get_untracked(),
            },
        }
    }
}
