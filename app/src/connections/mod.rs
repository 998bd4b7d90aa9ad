//! Upstream connections: how an account's non-demo SMS streams reach the phone network. An
//! `http` connection calls an SMS provider's HTTP API; its delivery reports and replies come back
//! to `/inbound/sms/{stream}`.

pub mod api;
#[cfg(feature = "ssr")]
pub mod store;

use reactive_stores::Store;
use serde::{Deserialize, Serialize};

use crate::{
    egress,
    streams::{FieldError, settings::WebhookMethod},
};

/// How a send request's body is encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyFormat {
    #[default]
    Json,
    Form,
}

impl BodyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Form => "form",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "json" => Some(Self::Json),
            "form" => Some(Self::Form),
            _ => None,
        }
    }
}

/// Which request fields carry what, in the provider's delivery reports and inbound messages
/// (JSON body, form body or query parameters alike).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Store)]
#[serde(default)]
pub struct InboundFields {
    /// The provider's id of the message a report is about.
    pub report_id: String,
    /// The report's status.
    pub report_status: String,
    /// Status values meaning delivered, comma-separated, any case.
    pub delivered_values: String,
    /// Status values meaning undelivered, comma-separated, any case.
    pub undelivered_values: String,
    /// The number an inbound message came from.
    pub from: String,
    /// The number it was sent to.
    pub to: String,
    /// Its text.
    pub text: String,
    /// The provider's id of an inbound message, so a repeated callback is stored once.
    pub message_id: String,
    /// For one part of a long inbound message: the reference its parts share, how many parts
    /// there are and which one this is (from 1).
    pub part_reference: String,
    pub part_total: String,
    pub part_number: String,
}

impl Default for InboundFields {
    fn default() -> Self {
        Self {
            report_id: "id".into(),
            report_status: "status".into(),
            delivered_values: "delivered, DELIVRD".into(),
            undelivered_values: "undelivered, failed, rejected, expired, UNDELIV, REJECTD, EXPIRED"
                .into(),
            from: "from".into(),
            to: "to".into(),
            text: "text".into(),
            message_id: "message_id".into(),
            part_reference: "concat_ref".into(),
            part_total: "concat_total".into(),
            part_number: "concat_part".into(),
        }
    }
}

/// A delivery report's status, as [`InboundFields`] maps the provider's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportStatus {
    Delivered,
    Undelivered,
}

#[cfg(feature = "ssr")]
impl ConnectionSettings {
    /// Refuses a connection to an address this server does not call (checked again at every
    /// send, with the message's own values filled in).
    pub async fn check_egress(&self, egress: egress::Egress) -> Result<(), FieldError> {
        let refused = match self {
            Self::Http(http) => egress
                .check_saved_url(&Fill::SAMPLE.apply(&http.url, form_escape))
                .await
                .map_err(|blocked| ("url", blocked)),
            Self::Smpp(smpp) => egress
                .check_saved(&smpp.host, smpp.port)
                .await
                .map_err(|blocked| ("host", blocked)),
        };
        refused.map_err(|(field, blocked)| {
            FieldError::new(field, "address_not_allowed", format!("{blocked}."))
        })
    }
}

impl InboundFields {
    /// What the provider's status word means; `None` for an interim one (accepted, buffered…).
    pub fn report_status(&self, value: &str) -> Option<ReportStatus> {
        let listed = |values: &str| {
            values
                .split(',')
                .map(str::trim)
                .any(|v| !v.is_empty() && v.eq_ignore_ascii_case(value.trim()))
        };
        if listed(&self.delivered_values) {
            Some(ReportStatus::Delivered)
        } else if listed(&self.undelivered_values) {
            Some(ReportStatus::Undelivered)
        } else {
            None
        }
    }
}

/// An HTTP SMS provider: one request per message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Store)]
#[serde(default)]
pub struct HttpSettings {
    /// The send URL; `{to}`, `{from}`, `{text}` and `{message_id}` are replaced, URL-encoded.
    pub url: String,
    pub method: WebhookMethod,
    pub body_format: BodyFormat,
    /// The POST body with the same placeholders, JSON-escaped or form-encoded as it needs.
    pub body_template: String,
    /// The header carrying the connection's secret (such as `Authorization`); empty: none.
    pub auth_header: String,
    /// A JSON Pointer to the provider's message id in its answer, such as `/messages/0/id`.
    pub id_pointer: String,
    pub inbound: InboundFields,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            url: String::new(),
            method: WebhookMethod::Post,
            body_format: BodyFormat::Json,
            body_template:
                r#"{"to": "{to}", "from": "{from}", "text": "{text}", "reference": "{message_id}"}"#
                    .into(),
            auth_header: "Authorization".into(),
            id_pointer: "/id".into(),
            inbound: InboundFields::default(),
        }
    }
}

/// The placeholders a send URL and body may use.
pub const PLACEHOLDERS: [&str; 4] = ["{to}", "{from}", "{text}", "{message_id}"];

/// Values for the placeholders of one message.
#[derive(Debug, Clone, Copy)]
pub struct Fill<'a> {
    pub to: &'a str,
    pub from: &'a str,
    pub text: &'a str,
    pub message_id: &'a str,
}

impl Fill<'_> {
    /// `template` with each placeholder replaced by `escape(value)`.
    pub fn apply(&self, template: &str, escape: impl Fn(&str) -> String) -> String {
        let values = [self.to, self.from, self.text, self.message_id];
        let mut out = String::with_capacity(template.len() + self.text.len());
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let tail = &rest[start..];
            match PLACEHOLDERS.iter().position(|p| tail.starts_with(p)) {
                Some(n) => {
                    out.push_str(&escape(values[n]));
                    rest = &tail[PLACEHOLDERS[n].len()..];
                }
                None => {
                    out.push('{');
                    rest = &tail[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// Sample values, to check templates when they are saved.
    pub const SAMPLE: Fill<'static> = Fill {
        to: "+447700900123",
        from: "Sluice",
        text: "Quotes \" and \\ and\nnew lines",
        message_id: "5f0c2b1e-0000-4000-8000-000000000000",
    };
}

/// `text` escaped for the inside of a JSON string.
pub fn json_escape(text: &str) -> String {
    let quoted = serde_json::Value::String(text.into()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

/// `text` percent-encoded for a URL query or form value.
pub fn form_escape(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

impl HttpSettings {
    /// Checks every field in the order the form shows them.
    pub fn validate(self) -> Result<Self, FieldError> {
        let url = self.url.trim().to_string();
        let sample = Fill::SAMPLE.apply(&url, form_escape);
        let parsed = url::Url::parse(&sample).ok().filter(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some()
                && u.username().is_empty()
                && u.password().is_none()
        });
        if parsed.is_none() || url.len() > 2_000 {
            return Err(FieldError::new(
                "url",
                "invalid_url",
                "Enter the provider's full send URL, such as https://api.example.com/sms; put credentials in the auth header, not the URL.",
            ));
        }
        let body_template = self.body_template.trim().to_string();
        if self.method == WebhookMethod::Post {
            if body_template.len() > 10_000 {
                return Err(FieldError::new(
                    "body_template",
                    "invalid_body_template",
                    "Use at most 10,000 characters.",
                ));
            }
            if self.body_format == BodyFormat::Json
                && serde_json::from_str::<serde_json::Value>(
                    &Fill::SAMPLE.apply(&body_template, json_escape),
                )
                .is_err()
            {
                return Err(FieldError::new(
                    "body_template",
                    "invalid_body_template",
                    "The body must be JSON once the placeholders are filled: put each one inside quotes, as in {\"to\": \"{to}\"}.",
                ));
            }
            if !PLACEHOLDERS[..3]
                .iter()
                .all(|p| body_template.contains(p) || url.contains(p))
            {
                return Err(FieldError::new(
                    "body_template",
                    "missing_placeholder",
                    "The request must carry {to}, {from} and {text}, in the URL or the body.",
                ));
            }
        } else if !PLACEHOLDERS[..3].iter().all(|p| url.contains(p)) {
            return Err(FieldError::new(
                "url",
                "missing_placeholder",
                "A GET request carries the message in its URL: use {to}, {from} and {text} there.",
            ));
        }
        let auth_header = self.auth_header.trim().to_string();
        if !(auth_header.is_empty() || egress::is_header_name(&auth_header)) {
            return Err(FieldError::new(
                "auth_header",
                "invalid_header_name",
                format!("`{auth_header}` is not a valid header name."),
            ));
        }
        if egress::is_framing_header(&auth_header) {
            return Err(FieldError::new(
                "auth_header",
                "reserved_header",
                format!("{auth_header} frames the request and cannot carry the secret."),
            ));
        }
        let id_pointer = self.id_pointer.trim().to_string();
        if !(id_pointer.is_empty() || id_pointer.starts_with('/')) || id_pointer.len() > 200 {
            return Err(FieldError::new(
                "id_pointer",
                "invalid_pointer",
                "Write the path to the id as a JSON Pointer, such as /id or /messages/0/id.",
            ));
        }
        let inbound = self.inbound.validate()?;
        Ok(Self {
            url,
            method: self.method,
            body_format: self.body_format,
            body_template,
            auth_header,
            id_pointer,
            inbound,
        })
    }
}

impl InboundFields {
    fn validate(self) -> Result<Self, FieldError> {
        let fields = [
            ("report_id", &self.report_id),
            ("report_status", &self.report_status),
            ("from", &self.from),
            ("text", &self.text),
        ];
        for (field, value) in fields {
            if value.trim().is_empty() || value.len() > 100 {
                return Err(FieldError::new(
                    field,
                    "field_name_required",
                    "Name the provider's field (at most 100 characters).",
                ));
            }
        }
        let trim = |v: String| v.trim().to_string();
        Ok(Self {
            report_id: trim(self.report_id),
            report_status: trim(self.report_status),
            delivered_values: trim(self.delivered_values),
            undelivered_values: trim(self.undelivered_values),
            from: trim(self.from),
            to: trim(self.to),
            text: trim(self.text),
            message_id: trim(self.message_id),
            part_reference: trim(self.part_reference),
            part_total: trim(self.part_total),
            part_number: trim(self.part_number),
        })
    }
}

/// How an SMPP session binds: one session both ways, or sending only (receipts and replies then
/// need the provider's HTTP callbacks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BindMode {
    #[default]
    Transceiver,
    Transmitter,
}

impl BindMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transceiver => "transceiver",
            Self::Transmitter => "transmitter",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "transceiver" => Some(Self::Transceiver),
            "transmitter" => Some(Self::Transmitter),
            _ => None,
        }
    }
}

/// An SMSC reached over SMPP 3.4; the password is the connection's secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Store)]
#[serde(default)]
pub struct SmppSettings {
    pub host: String,
    pub port: u16,
    pub system_id: String,
    pub system_type: String,
    pub bind_mode: BindMode,
    /// At most this many submit_sm a second; 0 is no limit.
    pub max_rate: u32,
    pub tls: bool,
}

impl Default for SmppSettings {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 2775,
            system_id: String::new(),
            system_type: String::new(),
            bind_mode: BindMode::Transceiver,
            max_rate: 0,
            tls: false,
        }
    }
}

impl SmppSettings {
    pub fn validate(self) -> Result<Self, FieldError> {
        let host = self.host.trim().to_string();
        let host_ok = !host.is_empty()
            && host.len() <= 253
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
        if !host_ok {
            return Err(FieldError::new(
                "host",
                "invalid_host",
                "Enter the SMSC's host name or IP address, such as smsc.example.com.",
            ));
        }
        if self.port == 0 {
            return Err(FieldError::new(
                "port",
                "invalid_port",
                "Enter a port from 1 to 65535 (SMPP usually listens on 2775).",
            ));
        }
        let system_id = self.system_id.trim().to_string();
        if system_id.is_empty() || system_id.len() > 15 || !system_id.is_ascii() {
            return Err(FieldError::new(
                "system_id",
                "invalid_system_id",
                "The system_id is 1 to 15 ASCII characters, as your SMSC gave it.",
            ));
        }
        let system_type = self.system_type.trim().to_string();
        if system_type.len() > 12 || !system_type.is_ascii() {
            return Err(FieldError::new(
                "system_type",
                "invalid_system_type",
                "The system_type is at most 12 ASCII characters (usually empty).",
            ));
        }
        if self.max_rate > crate::streams::MAX_RATE {
            return Err(FieldError::new(
                "max_rate",
                "invalid_max_rate",
                format!(
                    "Enter at most {} messages per second, or 0 for no limit.",
                    crate::streams::MAX_RATE
                ),
            ));
        }
        Ok(Self {
            host,
            system_id,
            system_type,
            ..self
        })
    }
}

/// A connection's kind and settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ConnectionSettings {
    Http(Box<HttpSettings>),
    Smpp(SmppSettings),
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self::Http(Box::default())
    }
}

impl ConnectionSettings {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Http(_) => "http",
            Self::Smpp(_) => "smpp",
        }
    }

    /// One line saying where it goes.
    pub fn summary(&self) -> String {
        match self {
            Self::Http(http) => format!("{} {}", http.method.as_str(), http.url),
            Self::Smpp(smpp) => format!(
                "SMPP {}{}:{} as {} ({})",
                if smpp.tls { "TLS " } else { "" },
                smpp.host,
                smpp.port,
                smpp.system_id,
                smpp.bind_mode.as_str()
            ),
        }
    }

    pub fn validate(self) -> Result<Self, FieldError> {
        Ok(match self {
            Self::Http(http) => Self::Http(Box::new(http.validate()?)),
            Self::Smpp(smpp) => Self::Smpp(smpp.validate()?),
        })
    }
}

/// What the console shows of a connection's health: what its last calls saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// Nothing sent yet.
    #[default]
    Unknown,
    Up,
    Down,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Up => "up",
            Self::Down => "down",
        }
    }

    pub fn parse(text: &str) -> Self {
        match text {
            "up" => Self::Up,
            "down" => Self::Down,
            _ => Self::Unknown,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Unknown => "Not used yet",
            Self::Up => "Working",
            Self::Down => "Failing",
        }
    }
}

/// A connection as the console shows it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub id: String,
    pub name: String,
    pub settings: ConnectionSettings,
    pub has_secret: bool,
    pub is_default: bool,
    pub health: Health,
    pub health_detail: Option<String>,
    pub health_at: Option<i64>,
    pub created_at: i64,
}

/// What the connection form supplies. `secret: None` keeps the stored one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionInput {
    pub name: String,
    pub settings: ConnectionSettings,
    pub secret: Option<String>,
    pub is_default: bool,
}

impl ConnectionInput {
    pub fn validate(self) -> Result<Self, FieldError> {
        let name = self.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(FieldError::new(
                "name",
                "invalid_name",
                "Name the connection (1 to 100 characters).",
            ));
        }
        let settings = self.settings.validate()?;
        let secret = self.secret.filter(|s| !s.trim().is_empty());
        if matches!(settings, ConnectionSettings::Smpp(_))
            && secret
                .as_ref()
                .is_some_and(|s| s.len() > 8 || !s.is_ascii())
        {
            return Err(FieldError::new(
                "secret",
                "invalid_password",
                "An SMPP password is at most 8 ASCII characters.",
            ));
        }
        if secret
            .as_ref()
            .is_some_and(|s| s.len() > 4_000 || s.chars().any(char::is_control))
        {
            return Err(FieldError::new(
                "secret",
                "invalid_secret",
                "The header value must be one line of at most 4,000 characters.",
            ));
        }
        Ok(Self {
            name,
            settings,
            secret,
            is_default: self.is_default,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str) -> HttpSettings {
        HttpSettings {
            url: url.into(),
            ..Default::default()
        }
    }

    #[test]
    fn placeholders_are_filled_and_escaped() {
        let fill = Fill {
            to: "+44 7700",
            from: "Acme",
            text: "a \"b\" & c",
            message_id: "m1",
        };
        assert_eq!(
            fill.apply("{\"t\":\"{text}\",\"x\":\"{unknown}\"}", json_escape),
            "{\"t\":\"a \\\"b\\\" & c\",\"x\":\"{unknown}\"}"
        );
        assert_eq!(
            fill.apply(
                "https://p.example/s?to={to}&m={text}&id={message_id}",
                form_escape
            ),
            "https://p.example/s?to=%2B44+7700&m=a+%22b%22+%26+c&id=m1"
        );
    }

    #[test]
    fn the_secret_cannot_go_in_a_header_that_frames_the_request() {
        for name in [
            "Host",
            "Content-Length",
            "transfer-encoding",
            "Connection",
            "Upgrade",
        ] {
            let framing = HttpSettings {
                auth_header: name.into(),
                ..settings("https://api.example.com/sms")
            };
            let error = framing.validate().unwrap_err();
            assert_eq!(
                (error.field, error.code),
                ("auth_header", "reserved_header"),
                "{name}"
            );
        }
        let header = HttpSettings {
            auth_header: "X-Api-Key".into(),
            ..settings("https://api.example.com/sms")
        };
        assert!(header.validate().is_ok());
    }

    #[test]
    fn templates_are_checked_when_saved() {
        assert!(settings("https://api.example.com/sms").validate().is_ok());
        let error = settings("ftp://example.com").validate().unwrap_err();
        assert_eq!(error.field, "url");
        let unquoted = HttpSettings {
            body_template: "{\"to\": {to}, \"from\": \"{from}\", \"text\": \"{text}\"}".into(),
            ..settings("https://api.example.com/sms")
        };
        assert_eq!(
            unquoted.validate().unwrap_err().code,
            "invalid_body_template"
        );
        let get = HttpSettings {
            method: WebhookMethod::Get,
            ..settings("https://api.example.com/sms?to={to}")
        };
        assert_eq!(get.validate().unwrap_err().code, "missing_placeholder");
        let get = HttpSettings {
            method: WebhookMethod::Get,
            ..settings("https://api.example.com/sms?to={to}&from={from}&text={text}")
        };
        assert!(get.validate().is_ok());
        let pointer = HttpSettings {
            id_pointer: "id".into(),
            ..settings("https://api.example.com/sms")
        };
        assert_eq!(pointer.validate().unwrap_err().field, "id_pointer");
    }

    #[test]
    fn report_words_map_to_statuses() {
        let fields = InboundFields::default();
        assert_eq!(
            fields.report_status("DELIVRD"),
            Some(ReportStatus::Delivered)
        );
        assert_eq!(
            fields.report_status(" Failed "),
            Some(ReportStatus::Undelivered)
        );
        assert_eq!(fields.report_status("ENROUTE"), None);
    }
}
