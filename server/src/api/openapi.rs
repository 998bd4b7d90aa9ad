//! The OpenAPI 3.1 document of the public API, generated from the handlers and their request
//! types, served at `/api/openapi.json`.

use axum::{Json, response::IntoResponse};
use utoipa::{
    Modify, OpenApi, ToSchema,
    openapi::security::{ApiKey, ApiKeyValue, SecurityScheme},
};

/// One message's receipt, or its error.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MessageAnswer {
    internal_id: Option<String>,
    message_uuid: Option<String>,
    /// `queued` when accepted; statuses then move to sent, delivered, undelivered, expired…
    status: Option<String>,
    /// `GSM-7` or `UCS-2`.
    encoding: Option<String>,
    segments: Option<i64>,
    error: Option<ErrorBody>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    /// Stable and machine-readable, such as `invalid_recipient`.
    code: String,
    message: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SendAnswer {
    status: bool,
    messages: Vec<MessageAnswer>,
    error: Option<ErrorBody>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorAnswer {
    status: bool,
    error: ErrorBody,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct HistoryStep {
    status: String,
    /// RFC 3339, UTC.
    at: String,
    detail: Option<String>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TrackedMessage {
    internal_id: Option<String>,
    message_uuid: String,
    recipient_phone: String,
    status: String,
    encoding: String,
    segments: i64,
    error: Option<ErrorBody>,
    history: Vec<HistoryStep>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct StatusAnswer {
    status: bool,
    messages: Vec<TrackedMessage>,
    not_found: Vec<String>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct OtpAuthAnswer {
    status: bool,
    otp_id: String,
    expires_at: String,
    message: MessageAnswer,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct OtpVerifyAnswer {
    /// True only when verified.
    status: bool,
    /// `verified`, `invalid`, `expired` or `max_attempts_reached`.
    result: String,
    otp_id: String,
    attempts_left: Option<i64>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct InboundAnswer {
    status: bool,
    /// A delivery report: whether it moved the message (false for interim words, or a
    /// status the message already passed).
    recorded: Option<bool>,
    /// An inbound message: its uuid, once complete.
    message_uuid: Option<String>,
    /// False while parts of a long message are still missing.
    complete: Option<bool>,
}

/// The stream token goes in `Authorization`, with or without `Bearer `.
struct TokenAuth;

impl Modify for TokenAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "The stream's API token, raw or as `Bearer <token>`.",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sluice Streams API",
        description = "Send SMS, events, one-time passwords and WhatsApp messages through a stream. Every path also works without its trailing slash."
    ),
    paths(
        super::send::simple_send,
        super::send::event_send,
        super::otp::auth,
        super::otp::verify,
        super::status::status_get,
        super::status::status_post,
        super::whatsapp::template,
        super::whatsapp::media,
        super::whatsapp::reply,
        super::inbound::sms,
        super::inbound::whatsapp_verify,
        super::inbound::whatsapp_notify,
    ),
    modifiers(&TokenAuth),
)]
pub struct ApiDoc;

pub async fn document() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}
