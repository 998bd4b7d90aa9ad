//! Type-specific stream settings: OTP, events, WhatsApp, the incoming-messages webhook and the
//! test recipients of a restricted stream. Each input validates itself before it is stored.

use serde::{Deserialize, Serialize};

use super::{FieldError, SenderId};
use crate::egress;

/// Where an OTP message's code comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OtpCodeSource {
    /// Sluice generates the code and checks it on `/otp/verify`.
    #[default]
    Generated,
    /// The request carries the code in `template_variables.code`.
    CustomerCode,
    /// The request carries the whole message text.
    CustomerText,
}

impl OtpCodeSource {
    pub const ALL: [Self; 3] = [Self::Generated, Self::CustomerCode, Self::CustomerText];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Generated => "generated",
            Self::CustomerCode => "customer_code",
            Self::CustomerText => "customer_text",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Generated => "Sluice generates the code",
            Self::CustomerCode => "My system provides the code",
            Self::CustomerText => "My system provides the full text",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|source| source.as_str() == text)
    }
}

/// The OTP settings of an OTP stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtpSettings {
    pub source: OtpCodeSource,
    pub code_length: u32,
    pub ttl_seconds: u32,
    pub max_failures: u32,
    pub per_phone_hour: u32,
    pub per_phone_day: u32,
    /// Codes the stream sends in an hour, to every number together.
    #[serde(default = "default_per_stream_hour")]
    pub per_stream_hour: u32,
    /// Codes to one number range (all but a number's last three digits) in ten minutes;
    /// more pause that range, as SMS pumping goes through a range's numbers.
    #[serde(default = "default_per_range_burst")]
    pub per_range_burst: u32,
    /// The message text; `[code]` marks where the code goes.
    pub template: String,
}

fn default_per_stream_hour() -> u32 {
    OtpSettings::default().per_stream_hour
}

fn default_per_range_burst() -> u32 {
    OtpSettings::default().per_range_burst
}

impl Default for OtpSettings {
    fn default() -> Self {
        Self {
            source: OtpCodeSource::Generated,
            code_length: 5,
            ttl_seconds: 300,
            max_failures: 5,
            per_phone_hour: 5,
            per_phone_day: 20,
            per_stream_hour: 1_000,
            per_range_burst: 10,
            template: "Your verification code is [code]".into(),
        }
    }
}

impl OtpSettings {
    /// Checks every field in the order the form shows them.
    pub fn validate(mut self) -> Result<Self, FieldError> {
        let within = |field: &'static str, value: u32, low: u32, high: u32, what: &str| {
            if (low..=high).contains(&value) {
                Ok(())
            } else {
                Err(FieldError::new(
                    field,
                    "out_of_range",
                    format!("{what} must be between {low} and {high}."),
                ))
            }
        };
        within("code_length", self.code_length, 4, 10, "The code length")?;
        within(
            "ttl_seconds",
            self.ttl_seconds,
            30,
            86_400,
            "The code lifetime",
        )?;
        within("max_failures", self.max_failures, 1, 20, "Maximum failures")?;
        within(
            "per_phone_hour",
            self.per_phone_hour,
            1,
            1_000,
            "Codes per hour",
        )?;
        within(
            "per_phone_day",
            self.per_phone_day,
            1,
            10_000,
            "Codes per day",
        )?;
        if self.per_phone_day < self.per_phone_hour {
            return Err(FieldError::new(
                "per_phone_day",
                "out_of_range",
                "Codes per day cannot be fewer than codes per hour.",
            ));
        }
        within(
            "per_stream_hour",
            self.per_stream_hour,
            1,
            1_000_000,
            "Codes per hour for the whole stream",
        )?;
        within(
            "per_range_burst",
            self.per_range_burst,
            1,
            10_000,
            "Codes to one number range per 10 minutes",
        )?;
        self.template = self.template.trim().to_string();
        if self.source != OtpCodeSource::CustomerText {
            if !self.template.contains("[code]") {
                return Err(FieldError::new(
                    "template",
                    "code_placeholder_missing",
                    "The message template must contain [code] where the code goes.",
                ));
            }
            if self.template.chars().count() > 640 {
                return Err(FieldError::new(
                    "template",
                    "template_too_long",
                    "Use at most 640 characters.",
                ));
            }
        }
        Ok(self)
    }
}

/// An event: a named message template sent by `/event_send/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamEvent {
    pub id: String,
    pub input: EventInput,
}

/// What the Events tab edits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventInput {
    /// The `event` key of requests, such as `login_otp`.
    pub key: String,
    /// The text with `{{variables}}`.
    pub body: String,
    /// None: the stream's default sender.
    pub sender: Option<String>,
    pub active: bool,
}

impl EventInput {
    pub fn validate(self) -> Result<Self, FieldError> {
        let key = self.key.trim().to_string();
        let key_ok = (1..=64).contains(&key.len())
            && key.starts_with(|c: char| c.is_ascii_lowercase())
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            return Err(FieldError::new(
                "key",
                "invalid_event_key",
                "Use 1 to 64 lowercase letters, digits and underscores, starting with a letter (for example login_otp).",
            ));
        }
        let body = self.body.trim().to_string();
        if body.is_empty() {
            return Err(FieldError::new(
                "body",
                "body_required",
                "Enter the message text.",
            ));
        }
        if body.chars().count() > 1_600 {
            return Err(FieldError::new(
                "body",
                "template_too_long",
                "Use at most 1,600 characters.",
            ));
        }
        template_variables(&body)?;
        let sender = self
            .sender
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| SenderId::parse(s).map(|s| s.as_str().to_string()))
            .transpose()?;
        Ok(Self {
            key,
            body,
            sender,
            active: self.active,
        })
    }
}

/// The names of the `{{variables}}` in a template, in order of first use.
pub fn template_variables(body: &str) -> Result<Vec<String>, FieldError> {
    let invalid = |message: String| FieldError::new("body", "invalid_template", message);
    let mut names: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| invalid("A `{{` is never closed with `}}`.".into()))?;
        let name = after[..end].trim();
        let valid = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(invalid(format!(
                "`{{{{{name}}}}}` is not a variable: use letters, digits and underscores."
            )));
        }
        if !names.iter().any(|known| known == name) {
            names.push(name.to_string());
        }
        rest = &after[end + 2..];
    }
    if rest.contains("}}") {
        return Err(invalid("A `}}` has no opening `{{`.".into()));
    }
    Ok(names)
}

/// Fills a template's `{{variables}}` from `values`; a missing one is named in the error.
/// Strings go in as they are, other JSON values as their JSON text.
pub fn render_template(
    body: &str,
    values: &serde_json::Map<String, serde_json::Value>,
) -> Result<String, String> {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        let Some(end) = rest[start + 2..].find("}}") else {
            break;
        };
        let name = rest[start + 2..start + 2 + end].trim();
        let value = values.get(name).ok_or_else(|| name.to_string())?;
        out.push_str(&rest[..start]);
        match value {
            serde_json::Value::String(text) => out.push_str(text),
            other => out.push_str(&other.to_string()),
        }
        rest = &rest[start + 2 + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// How the incoming-messages webhook is called.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum WebhookMethod {
    Get,
    #[default]
    Post,
}

impl WebhookMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "GET" => Some(Self::Get),
            "POST" => Some(Self::Post),
            _ => None,
        }
    }
}

/// One custom header sent with every webhook call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookHeader {
    pub name: String,
    pub value: String,
}

/// What the Incoming Messages Webhook step and the Webhooks tab edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookInput {
    pub method: WebhookMethod,
    pub url: String,
    pub headers: Vec<WebhookHeader>,
    pub enabled: bool,
}

impl Default for WebhookInput {
    fn default() -> Self {
        Self {
            method: WebhookMethod::Post,
            url: String::new(),
            headers: Vec::new(),
            enabled: true,
        }
    }
}

/// The most custom headers a webhook sends.
const MAX_HEADERS: usize = 20;

impl WebhookInput {
    pub fn validate(self) -> Result<Self, FieldError> {
        let url = self.url.trim().to_string();
        let parsed = url::Url::parse(&url).map_err(|_| {
            FieldError::new(
                "url",
                "invalid_url",
                "Enter a full URL such as https://example.com/sluice/inbound.",
            )
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(FieldError::new(
                "url",
                "invalid_url",
                "The webhook URL must start with https:// or http:// and name a host.",
            ));
        }
        if url.len() > 2_000 || !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(FieldError::new(
                "url",
                "invalid_url",
                "Use at most 2,000 characters and put credentials in a header, not the URL.",
            ));
        }
        if self.headers.len() > MAX_HEADERS {
            return Err(FieldError::new(
                "headers",
                "too_many_headers",
                format!("Use at most {MAX_HEADERS} custom headers."),
            ));
        }
        let mut headers: Vec<WebhookHeader> = Vec::new();
        for header in self.headers {
            let name = header.name.trim().to_string();
            let value = header.value.trim().to_string();
            if name.is_empty() && value.is_empty() {
                continue;
            }
            if !egress::is_header_name(&name) {
                return Err(FieldError::new(
                    "headers",
                    "invalid_header_name",
                    format!("`{name}` is not a valid header name."),
                ));
            }
            // The signature's headers are Sluice's own, as is the request's framing.
            if egress::is_framing_header(&name) || name.to_ascii_lowercase().starts_with("webhook-")
            {
                return Err(FieldError::new(
                    "headers",
                    "reserved_header",
                    format!("{name} is set by Sluice and cannot be overridden."),
                ));
            }
            if value.len() > 4_000 || value.chars().any(|c| c.is_control()) {
                return Err(FieldError::new(
                    "headers",
                    "invalid_header_value",
                    format!("The value of {name} must be one line of at most 4,000 characters."),
                ));
            }
            if headers.iter().any(|h| h.name.eq_ignore_ascii_case(&name)) {
                return Err(FieldError::new(
                    "headers",
                    "duplicate_header",
                    format!("{name} is listed twice."),
                ));
            }
            headers.push(WebhookHeader { name, value });
        }
        Ok(Self {
            method: self.method,
            url,
            headers,
            enabled: self.enabled,
        })
    }
}

/// A stream's webhook as the console shows it; the signing secret only on request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub input: WebhookInput,
    pub updated_at: i64,
}

/// The example body of the event a stream's webhook hears most: an inbound message for streams
/// that receive them, else a status change (POST JSON; GET as query parameters).
pub fn webhook_body_preview(kind: super::StreamKind) -> String {
    let body = if kind.receives_messages() {
        let channel = if kind == super::StreamKind::Whatsapp {
            "whatsapp"
        } else {
            "sms"
        };
        serde_json::json!({
            "type": "message.received",
            "message_uuid": "0b6f3c3e-5f0e-4d8e-9a53-1d2f9c8e7a10",
            "channel": channel,
            "sender_phone": "+447700900123",
            "recipient": "Acme",
            "message_content": "Yes, please book me in.",
            "received_at": "2026-11-23T09:30:00Z",
        })
    } else {
        serde_json::json!({
            "type": "message.status",
            "message_uuid": "0b6f3c3e-5f0e-4d8e-9a53-1d2f9c8e7a10",
            "internal_id": "order-1042",
            "recipient_phone": "+447700900123",
            "status": "delivered",
            "error": null,
            "at": "2026-11-23T09:30:00Z",
            "callback_data": "customer=8812",
        })
    };
    serde_json::to_string_pretty(&body).unwrap_or_default()
}

/// What the WhatsApp step and tab edit. Secrets are write-only: `None` keeps the stored one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatsAppInput {
    pub business_account_id: String,
    pub phone_number_ids: Vec<String>,
    pub access_token: Option<String>,
    pub app_secret: Option<String>,
}

/// A stream's WhatsApp settings as the console shows them: never the secrets themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatsAppSettings {
    pub business_account_id: String,
    pub phone_number_ids: Vec<String>,
    pub has_access_token: bool,
    pub has_app_secret: bool,
    pub templates: Vec<WhatsAppTemplate>,
}

/// Meta's numeric ids (Business Account, phone number): digits only.
pub fn parse_meta_id(field: &'static str, what: &str, text: &str) -> Result<String, FieldError> {
    let id = text.trim();
    if (5..=32).contains(&id.len()) && id.chars().all(|c| c.is_ascii_digit()) {
        Ok(id.to_string())
    } else {
        Err(FieldError::new(
            field,
            "invalid_meta_id",
            format!("`{id}` is not a {what}: Meta's ids are 5 to 32 digits."),
        ))
    }
}

/// The most phone numbers one WhatsApp stream sends from.
const MAX_PHONE_NUMBER_IDS: usize = 20;

impl WhatsAppInput {
    pub fn validate(self) -> Result<Self, FieldError> {
        let business_account_id = parse_meta_id(
            "business_account_id",
            "Business Account ID",
            &self.business_account_id,
        )?;
        if self.phone_number_ids.len() > MAX_PHONE_NUMBER_IDS {
            return Err(FieldError::new(
                "phone_number_ids",
                "too_many_phone_number_ids",
                format!("List at most {MAX_PHONE_NUMBER_IDS} phone-number IDs."),
            ));
        }
        let mut phone_number_ids: Vec<String> = Vec::new();
        for id in self
            .phone_number_ids
            .iter()
            .filter(|id| !id.trim().is_empty())
        {
            let id = parse_meta_id("phone_number_ids", "phone-number ID", id)?;
            if !phone_number_ids.contains(&id) {
                phone_number_ids.push(id);
            }
        }
        if phone_number_ids.is_empty() {
            return Err(FieldError::new(
                "phone_number_ids",
                "phone_number_required",
                "Add at least one phone-number ID to send from.",
            ));
        }
        let secret = |field: &'static str, value: Option<String>| {
            let value = value
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty());
            match value {
                Some(v) if v.len() > 1_024 || v.chars().any(|c| c.is_whitespace()) => {
                    Err(FieldError::new(
                        field,
                        "invalid_secret",
                        "Paste the value exactly as Meta shows it: one word of at most 1,024 characters.",
                    ))
                }
                other => Ok(other),
            }
        };
        Ok(Self {
            business_account_id,
            phone_number_ids,
            access_token: secret("access_token", self.access_token)?,
            app_secret: secret("app_secret", self.app_secret)?,
        })
    }
}

/// A WhatsApp message template registered with Meta, for the template requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatsAppTemplate {
    pub name: String,
    pub language: String,
    /// The body with Meta's positional parameters `{{1}}`, `{{2}}`…
    pub body: String,
}

impl WhatsAppTemplate {
    pub fn validate(self) -> Result<Self, FieldError> {
        let name = self.name.trim().to_string();
        if !(1..=512).contains(&name.len())
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(FieldError::new(
                "template_name",
                "invalid_template_name",
                "Template names use lowercase letters, digits and underscores, as in Meta's manager.",
            ));
        }
        let language = self.language.trim().to_string();
        let (lang, region) = language.split_once('_').unwrap_or((&language, ""));
        let language_ok = (2..=3).contains(&lang.len())
            && lang.chars().all(|c| c.is_ascii_lowercase())
            && (region.is_empty()
                || (region.len() == 2 && region.chars().all(|c| c.is_ascii_uppercase())));
        if !language_ok {
            return Err(FieldError::new(
                "template_language",
                "invalid_language",
                "Use a language code such as en or en_US.",
            ));
        }
        let body = self.body.trim().to_string();
        if body.is_empty() || body.chars().count() > 1_024 {
            return Err(FieldError::new(
                "template_body",
                "invalid_template_body",
                "Enter the template's body text, at most 1,024 characters.",
            ));
        }
        Ok(Self {
            name,
            language,
            body,
        })
    }

    /// How many positional parameters the body takes.
    pub fn parameter_count(&self) -> usize {
        template_variables(&self.body)
            .unwrap_or_default()
            .iter()
            .filter_map(|name| name.parse::<usize>().ok())
            .max()
            .unwrap_or(0)
    }
}

/// A form field holding a phone number, stored in E.164 (see [`crate::phone`]).
pub fn parse_phone(field: &'static str, text: &str) -> Result<String, FieldError> {
    crate::phone::PhoneNumber::parse(text)
        .map(crate::phone::PhoneNumber::into_string)
        .map_err(|error| FieldError::new(field, "invalid_phone", error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otp_settings_are_bounded() {
        assert!(OtpSettings::default().validate().is_ok());
        let short = OtpSettings {
            code_length: 3,
            ..Default::default()
        };
        assert_eq!(short.validate().unwrap_err().field, "code_length");
        let no_code = OtpSettings {
            template: "Hello".into(),
            ..Default::default()
        };
        assert_eq!(
            no_code.validate().unwrap_err().code,
            "code_placeholder_missing"
        );
        let full_text = OtpSettings {
            source: OtpCodeSource::CustomerText,
            template: String::new(),
            ..Default::default()
        };
        assert!(full_text.validate().is_ok());
        let day_below_hour = OtpSettings {
            per_phone_hour: 10,
            per_phone_day: 5,
            ..Default::default()
        };
        assert_eq!(
            day_below_hour.validate().unwrap_err().field,
            "per_phone_day"
        );
    }

    #[test]
    fn the_pumping_guards_stay_within_their_ranges() {
        for (settings, field) in [
            (
                OtpSettings {
                    per_stream_hour: 0,
                    ..Default::default()
                },
                "per_stream_hour",
            ),
            (
                OtpSettings {
                    per_stream_hour: 1_000_001,
                    ..Default::default()
                },
                "per_stream_hour",
            ),
            (
                OtpSettings {
                    per_range_burst: 0,
                    ..Default::default()
                },
                "per_range_burst",
            ),
        ] {
            let error = settings.validate().unwrap_err();
            assert_eq!((error.field, error.code), (field, "out_of_range"));
        }
        // Settings saved before the guards existed get their defaults.
        let older: OtpSettings = serde_json::from_value(serde_json::json!({
            "source": "generated", "code_length": 5, "ttl_seconds": 300, "max_failures": 5,
            "per_phone_hour": 5, "per_phone_day": 20, "template": "Code [code]",
        }))
        .unwrap();
        assert_eq!((older.per_stream_hour, older.per_range_burst), (1_000, 10));
    }

    #[test]
    fn template_variables_are_found_once_each() {
        assert_eq!(
            template_variables("Hi {{name}}, code {{ code }} for {{name}}").unwrap(),
            vec!["name", "code"]
        );
        assert!(template_variables("no variables").unwrap().is_empty());
        for bad in ["{{name", "{{}}", "{{a b}}", "oops }}"] {
            assert_eq!(
                template_variables(bad).unwrap_err().code,
                "invalid_template",
                "{bad}"
            );
        }
    }

    #[test]
    fn templates_render_with_their_variables() {
        let values = serde_json::json!({ "name": "Ann", "order": 1001 });
        let values = values.as_object().unwrap();
        assert_eq!(
            render_template("Hi {{name}}, order {{ order }} shipped.", values).unwrap(),
            "Hi Ann, order 1001 shipped."
        );
        assert_eq!(
            render_template("Code {{code}}", values).unwrap_err(),
            "code"
        );
        assert_eq!(
            render_template("no variables", values).unwrap(),
            "no variables"
        );
    }

    #[test]
    fn events_need_a_key_and_a_body() {
        let event = EventInput {
            key: " login_otp ".into(),
            body: "Code {{code}}".into(),
            sender: Some(" ".into()),
            active: true,
        }
        .validate()
        .unwrap();
        assert_eq!((event.key.as_str(), event.sender), ("login_otp", None));
        for key in ["", "Login", "1st", "with space"] {
            let event = EventInput {
                key: key.into(),
                body: "x".into(),
                ..Default::default()
            };
            assert_eq!(event.validate().unwrap_err().code, "invalid_event_key");
        }
    }

    #[test]
    fn webhooks_need_a_web_url_and_plain_headers() {
        let input = |url: &str, headers: Vec<(&str, &str)>| WebhookInput {
            url: url.into(),
            headers: headers
                .into_iter()
                .map(|(name, value)| WebhookHeader {
                    name: name.into(),
                    value: value.into(),
                })
                .collect(),
            ..Default::default()
        };
        let valid = input(
            " https://example.com/in ",
            vec![("X-Api-Key", " k "), ("", "")],
        )
        .validate()
        .unwrap();
        assert_eq!(valid.url, "https://example.com/in");
        assert_eq!(valid.headers.len(), 1);
        for url in [
            "",
            "example.com",
            "ftp://example.com",
            "https://u:p@example.com",
        ] {
            assert_eq!(
                input(url, vec![]).validate().unwrap_err().field,
                "url",
                "{url}"
            );
        }
        let code = |headers| input("https://e.com", headers).validate().unwrap_err().code;
        assert_eq!(code(vec![("Bad Name", "v")]), "invalid_header_name");
        assert_eq!(code(vec![("Content-Type", "v")]), "reserved_header");
        assert_eq!(code(vec![("X-A", "a\nb")]), "invalid_header_value");
        assert_eq!(code(vec![("X-A", "1"), ("x-a", "2")]), "duplicate_header");
    }

    #[test]
    fn whatsapp_settings_need_meta_ids() {
        let input = WhatsAppInput {
            business_account_id: "102290129340398".into(),
            phone_number_ids: vec!["106540352242922".into(), "106540352242922".into()],
            access_token: Some(" EAAG123 ".into()),
            app_secret: None,
        }
        .validate()
        .unwrap();
        assert_eq!(input.phone_number_ids.len(), 1);
        assert_eq!(input.access_token.as_deref(), Some("EAAG123"));
        let no_phone = WhatsAppInput {
            business_account_id: "102290129340398".into(),
            ..Default::default()
        };
        assert_eq!(
            no_phone.validate().unwrap_err().code,
            "phone_number_required"
        );
        let bad_id = WhatsAppInput {
            business_account_id: "acme".into(),
            ..Default::default()
        };
        assert_eq!(bad_id.validate().unwrap_err().field, "business_account_id");
    }

    #[test]
    fn whatsapp_templates_follow_meta_naming() {
        let template = WhatsAppTemplate {
            name: "order_update".into(),
            language: "en_US".into(),
            body: "Order {{1}} ships {{2}}".into(),
        }
        .validate()
        .unwrap();
        assert_eq!(template.parameter_count(), 2);
        for (name, language) in [("Order", "en"), ("order", "english"), ("order", "en_us")] {
            let template = WhatsAppTemplate {
                name: name.into(),
                language: language.into(),
                body: "x".into(),
            };
            assert!(template.validate().is_err(), "{name} {language}");
        }
    }

    #[test]
    fn phones_are_e164() {
        assert_eq!(
            parse_phone("phone", " +44 7700 900-123 ").unwrap(),
            "+447700900123"
        );
        for bad in [
            "+0447700900123",
            "+4477",
            "+44770090012345678",
            "+44abc00000",
        ] {
            assert_eq!(
                parse_phone("phone", bad).unwrap_err().code,
                "invalid_phone",
                "{bad}"
            );
        }
    }
}
