use leptos::prelude::*;

use crate::{
    error::AppError,
    ids::StreamId,
    pages::streams::settings::{OtpForm, WebhookForm, WhatsAppForm},
    streams::{
        Stream, StreamInput, StreamKind, StreamStatus,
        settings::{OtpSettings, WebhookInput, WhatsAppSettings},
        settings_api::{get_otp_settings, get_webhook, get_whatsapp},
    },
};

/// The type-specific settings a stream has stored (the defaults for a new one).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct StoredSettings {
    pub otp: OtpSettings,
    pub webhook: WebhookInput,
    pub whatsapp: WhatsAppSettings,
}

impl StoredSettings {
    /// Fetches the settings the wizard's steps for `kind` edit.
    pub async fn load(kind: StreamKind, id: Option<StreamId>) -> Result<Self, AppError> {
        let mut settings = Self::default();
        let Some(id) = id else { return Ok(settings) };
        for (key, _) in steps(kind) {
            match key {
                "otp" => settings.otp = get_otp_settings(id.clone()).await?,
                "whatsapp" => settings.whatsapp = get_whatsapp(id.clone()).await?,
                "webhook" => {
                    if let Some(webhook) = get_webhook(id.clone()).await? {
                        settings.webhook = webhook.input;
                    }
                }
                _ => {}
            }
        }
        Ok(settings)
    }
}

/// How the default sender is chosen in the Details step.
pub const CUSTOMIZED: &str = "__customized__";
pub const NEW_SENDER: &str = "__new__";

/// Everything the wizard edits, as signals shared by its steps.
#[derive(Debug, Clone, Copy)]
pub struct WizardState {
    pub kind: StreamKind,
    /// Set once the stream exists (after the first save).
    pub id: RwSignal<Option<StreamId>>,
    /// Editing a finished stream rather than creating one.
    pub finished: bool,
    pub name: RwSignal<String>,
    pub description: RwSignal<String>,
    pub demo: RwSignal<bool>,
    pub demo_predictable: RwSignal<bool>,
    pub ip_acl_enabled: RwSignal<bool>,
    pub allowed_ips: RwSignal<Vec<String>>,
    pub tags: RwSignal<Vec<String>>,
    /// [`CUSTOMIZED`], [`NEW_SENDER`] or an existing sender ID.
    pub sender_choice: RwSignal<String>,
    pub new_sender: RwSignal<String>,
    /// The throughput limit as typed; empty is no limit.
    pub max_rate: RwSignal<String>,
    /// Destination calling codes as typed, separated by commas or spaces; empty is every country.
    pub countries: RwSignal<String>,
    pub otp: OtpForm,
    pub webhook: WebhookForm,
    pub whatsapp: WhatsAppForm,
    pub error: RwSignal<Option<AppError>>,
    pub busy: RwSignal<bool>,
}

impl WizardState {
    pub fn new(kind: StreamKind, existing: Option<Stream>, settings: StoredSettings) -> Self {
        let stream = existing.clone();
        let max_rate = existing
            .as_ref()
            .and_then(|s| s.max_rate)
            .map(|rate| rate.to_string())
            .unwrap_or_default();
        let field = |get: fn(&Stream) -> String| {
            RwSignal::new(stream.as_ref().map(get).unwrap_or_default())
        };
        Self {
            kind,
            id: RwSignal::new(existing.as_ref().map(|s| s.id.clone())),
            finished: existing
                .as_ref()
                .is_some_and(|s| s.status != StreamStatus::Draft),
            name: field(|s| s.name.clone()),
            description: field(|s| s.description.clone()),
            demo: RwSignal::new(existing.as_ref().is_some_and(|s| s.demo)),
            demo_predictable: RwSignal::new(existing.as_ref().is_some_and(|s| s.demo_predictable)),
            ip_acl_enabled: RwSignal::new(existing.as_ref().is_some_and(|s| s.ip_acl_enabled)),
            allowed_ips: RwSignal::new(
                existing
                    .as_ref()
                    .map(|s| s.allowed_ips.clone())
                    .unwrap_or_default(),
            ),
            tags: RwSignal::new(
                existing
                    .as_ref()
                    .map(|s| s.tags.clone())
                    .unwrap_or_default(),
            ),
            sender_choice: RwSignal::new(
                existing
                    .and_then(|s| s.default_sender)
                    .unwrap_or_else(|| CUSTOMIZED.to_string()),
            ),
            new_sender: RwSignal::new(String::new()),
            max_rate: RwSignal::new(max_rate),
            countries: field(|s| s.allowed_countries.join(", ")),
            otp: OtpForm::new(settings.otp),
            webhook: WebhookForm::new(settings.webhook),
            whatsapp: WhatsAppForm::new(&settings.whatsapp),
            error: RwSignal::new(None),
            busy: RwSignal::new(false),
        }
    }

    pub fn default_sender(&self) -> Option<String> {
        match self.sender_choice.get_untracked().as_str() {
            CUSTOMIZED => None,
            NEW_SENDER => Some(self.new_sender.get_untracked()),
            existing => Some(existing.to_string()),
        }
    }

    pub fn input(&self) -> StreamInput {
        StreamInput {
            name: self.name.get_untracked(),
            description: self.description.get_untracked(),
            demo: self.demo.get_untracked(),
            demo_predictable: self.demo_predictable.get_untracked(),
            ip_acl_enabled: self.ip_acl_enabled.get_untracked(),
            allowed_ips: if self.ip_acl_enabled.get_untracked() {
                self.allowed_ips.get_untracked()
            } else {
                Vec::new()
            },
            tags: self.tags.get_untracked(),
            default_sender: self.default_sender(),
            // Text that is not a number becomes 0, which the server refuses with its message.
            max_rate: self.max_rate.with_untracked(|text| {
                let text = text.trim();
                (!text.is_empty()).then(|| text.parse().unwrap_or(0))
            }),
            allowed_countries: self.countries.with_untracked(|text| {
                text.split([',', ' '])
                    .filter(|country| !country.trim().is_empty())
                    .map(str::to_string)
                    .collect()
            }),
        }
    }
}

/// The wizard's steps for a type: (key, label).
pub fn steps(kind: StreamKind) -> Vec<(&'static str, &'static str)> {
    const DETAILS: (&str, &str) = ("details", "Stream API details");
    const OTP: (&str, &str) = ("otp", "OTP settings");
    const WHATSAPP: (&str, &str) = ("whatsapp", "WhatsApp settings");
    const WEBHOOK: (&str, &str) = ("webhook", "Incoming Messages Webhook");
    const SUMMARY: (&str, &str) = ("summary", "Summary");
    match kind {
        StreamKind::SmsMarketing | StreamKind::SmsTransactional => vec![DETAILS, SUMMARY],
        StreamKind::SmsOtp => vec![DETAILS, OTP, SUMMARY],
        StreamKind::SmsTwoWay => vec![DETAILS, WEBHOOK, SUMMARY],
        StreamKind::Whatsapp => vec![DETAILS, WHATSAPP, WEBHOOK, SUMMARY],
    }
}
