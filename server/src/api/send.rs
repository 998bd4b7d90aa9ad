//! `/simple_send/` and `/event_send/`: validate each message, queue the valid ones in one
//! transaction, answer per message.

use std::collections::HashSet;

use axum::{
    Json,
    body::Bytes,
    extract::{Extension, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{
    caller::{Caller, authenticate},
    error::{ApiError, storage},
    parse_body,
};
use crate::{
    delivery::Delivery,
    engine::{self as messages, Engine, NewMessage, Queued, Receipt, Route},
    http::ClientInfo,
};
use app::{
    messages::measure,
    state::AppState,
    streams::{
        SenderId, StreamKind, in_countries,
        settings::{parse_phone, render_template},
        settings_store,
    },
};

/// The most messages one request may carry.
pub const MAX_BATCH: usize = 1_000;
/// The longest message text, in characters (10 GSM-7 segments).
const MAX_CONTENT: usize = 1_530;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SimpleSend {
    messages: Vec<SimpleMessage>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SimpleMessage {
    internal_id: Option<String>,
    sender: Option<String>,
    recipient_phone: String,
    message_content: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EventSend {
    event: String,
    recipients: Vec<EventRecipient>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EventRecipient {
    internal_id: Option<String>,
    sender: Option<String>,
    recipient_phone: String,
    /// Values for the event template's `{{variables}}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    template_variables: Map<String, Value>,
}

/// One message as the caller wrote it, before checks.
pub struct Draft {
    pub internal_id: Option<String>,
    pub sender: Option<String>,
    pub recipient: String,
    pub content: Result<String, ApiError>,
}

/// Sends up to 1,000 SMS messages; each gets its own receipt or error.
#[utoipa::path(post, path = "/simple_send/", tag = "sms", request_body = SimpleSend,
    security(("token" = [])),
    responses(
        (status = 200, description = "At least one message was queued", body = super::openapi::SendAnswer),
        (status = 401, description = "No token, or not a stream's token", body = super::openapi::ErrorAnswer),
        (status = 403, description = "IP not allowed, stream disabled or draft, wrong type, restricted or opted-out recipient", body = super::openapi::ErrorAnswer),
        (status = 409, description = "Every message reused an internal_id for a different message", body = super::openapi::SendAnswer),
        (status = 413, description = "Body or batch too large", body = super::openapi::ErrorAnswer),
        (status = 422, description = "Nothing valid to queue", body = super::openapi::SendAnswer),
    ))]
pub async fn simple_send(
    State(state): State<AppState>,
    State(engine): State<Engine>,
    State(delivery): State<Delivery>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state.db, &headers, client).await?;
    if !sends_plain_sms(caller.stream.kind) {
        return Err(wrong_type("/simple_send/", "SMS"));
    }
    let request: SimpleSend = parse_body(body)?;
    let drafts = request
        .messages
        .into_iter()
        .map(|m| Draft {
            internal_id: m.internal_id,
            sender: m.sender,
            recipient: m.recipient_phone,
            content: Ok(m.message_content),
        })
        .collect();
    send(&state, &engine, &delivery, &caller, drafts, None).await
}

/// Sends an event's template, filled per recipient (Transactional and OTP streams).
#[utoipa::path(post, path = "/event_send/", tag = "sms", request_body = EventSend,
    security(("token" = [])),
    responses(
        (status = 200, description = "At least one message was queued", body = super::openapi::SendAnswer),
        (status = 403, description = "Not a Transactional or OTP stream, or refused", body = super::openapi::ErrorAnswer),
        (status = 404, description = "No such event", body = super::openapi::ErrorAnswer),
        (status = 422, description = "Inactive event or nothing valid to queue", body = super::openapi::ErrorAnswer),
    ))]
pub async fn event_send(
    State(state): State<AppState>,
    State(engine): State<Engine>,
    State(delivery): State<Delivery>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state.db, &headers, client).await?;
    if !caller.stream.kind.has_events() {
        return Err(wrong_type("/event_send/", "Transactional and OTP"));
    }
    let request: EventSend = parse_body(body)?;
    let event = settings_store::event_by_key(&state.db, &caller.stream.id, request.event.trim())
        .await
        .map_err(storage)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "event_not_found",
                format!(
                    "This stream has no event called `{}`.",
                    request.event.trim()
                ),
            )
        })?;
    if !event.input.active {
        return Err(ApiError::unprocessable(
            "event_inactive",
            format!("The event `{}` is switched off.", event.input.key),
        ));
    }
    let drafts = request
        .recipients
        .into_iter()
        .map(|r| Draft {
            internal_id: r.internal_id,
            sender: r.sender,
            recipient: r.recipient_phone,
            content: render_template(&event.input.body, &r.template_variables).map_err(|name| {
                ApiError::unprocessable(
                    "missing_variable",
                    format!("template_variables has no `{name}`, which the event uses."),
                )
            }),
        })
        .collect();
    send(
        &state,
        &engine,
        &delivery,
        &caller,
        drafts,
        event.input.sender,
    )
    .await
}

pub fn wrong_type(path: &str, types: &str) -> ApiError {
    ApiError::forbidden(
        "wrong_stream_type",
        format!("{path} is for {types} streams; this token belongs to another type."),
    )
}

/// Checks every draft, queues the valid ones together and answers per message.
async fn send(
    state: &AppState,
    engine: &Engine,
    delivery: &Delivery,
    caller: &Caller,
    drafts: Vec<Draft>,
    event_sender: Option<String>,
) -> Result<Response, ApiError> {
    if drafts.is_empty() {
        return Err(ApiError::unprocessable(
            "messages_required",
            "Send at least one message.",
        ));
    }
    if drafts.len() > MAX_BATCH {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!("Send at most {MAX_BATCH} messages per request."),
        ));
    }
    let stream = &caller.stream;
    let audience = audience(state, caller).await?;
    let default_sender = event_sender.or_else(|| stream.default_sender.clone());
    let checked: Vec<(Option<String>, Result<NewMessage, ApiError>)> = drafts
        .into_iter()
        .map(|draft| {
            let internal_id = draft.internal_id.clone();
            (
                internal_id,
                check(draft, default_sender.as_deref(), &audience),
            )
        })
        .collect();
    let valid: Vec<NewMessage> = checked
        .iter()
        .filter_map(|(_, result)| result.as_ref().ok().cloned())
        .collect();
    let channel = delivery
        .channel_for(&state.db, &caller.account_id, stream)
        .await
        .map_err(storage)?;
    let route = Route {
        account_id: &caller.account_id,
        stream_id: &stream.id,
        channel: channel.name,
        connection_id: channel.connection_id.as_deref(),
        validity_ms: delivery.validity_ms(),
    };
    let any_valid = !valid.is_empty();
    let mut queued = messages::accept(engine, route, valid)
        .await
        .map_err(storage)?
        .into_iter();
    if any_valid {
        delivery.wake();
    }

    let mut first_error: Option<StatusCode> = None;
    let mut accepted = false;
    let answers: Vec<Value> = checked
        .into_iter()
        .map(|(internal_id, result)| {
            let outcome = match result {
                Ok(message) => queued.next().map(|q| match q {
                    Queued::New(receipt) | Queued::Replay(receipt) => Ok(receipt),
                    Queued::Conflict => Err(idempotency_conflict()),
                    Queued::OptedOut => Err(opted_out(&message.recipient)),
                }),
                Err(error) => Some(Err(error)),
            };
            match outcome {
                Some(Ok(receipt)) => {
                    accepted = true;
                    receipt_json(&receipt)
                }
                Some(Err(error)) => {
                    first_error.get_or_insert(error.status);
                    json!({ "internal_id": internal_id, "error": error.body() })
                }
                None => json!({ "internal_id": internal_id, "error": ApiError::internal().body() }),
            }
        })
        .collect();
    if accepted {
        return Ok(Json(json!({ "status": true, "messages": answers })).into_response());
    }
    let status = first_error.unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    let body = json!({
        "status": false,
        "error": { "code": "no_message_accepted", "message": "No message was accepted; see each message's error." },
        "messages": answers,
    });
    Ok((status, Json(body)).into_response())
}

/// Whom a stream may send to: numbers in its destination countries and, while it is
/// restricted, only its test recipients.
#[derive(Debug, Clone)]
pub struct Audience {
    countries: Vec<String>,
    test_recipients: Option<HashSet<String>>,
}

impl Audience {
    /// Refuses a recipient the stream may not send to.
    pub fn admit(&self, recipient: &str) -> Result<(), ApiError> {
        if !in_countries(&self.countries, recipient) {
            return Err(ApiError::forbidden(
                "country_not_allowed",
                format!(
                    "This stream sends only to {}; {recipient} is in none of them. Its destination countries are in its details.",
                    self.countries.join(", ")
                ),
            ));
        }
        match &self.test_recipients {
            Some(allowed) if !allowed.contains(recipient) => Err(ApiError::forbidden(
                "recipient_not_allowed",
                format!(
                    "This stream is restricted and {recipient} is not one of its test recipients."
                ),
            )),
            _ => Ok(()),
        }
    }
}

pub async fn audience(state: &AppState, caller: &Caller) -> Result<Audience, ApiError> {
    let test_recipients = if caller.stream.restricted {
        let recipients =
            settings_store::test_recipients(&state.db, &caller.account_id, &caller.stream.id)
                .await
                .map_err(storage)?;
        Some(recipients.into_iter().collect())
    } else {
        None
    };
    Ok(Audience {
        countries: caller.stream.allowed_countries.clone(),
        test_recipients,
    })
}

/// The caller's id for a message: 1 to 100 characters once trimmed, or none.
pub fn parse_internal_id(internal_id: Option<String>) -> Result<Option<String>, ApiError> {
    match internal_id.map(|id| id.trim().to_string()) {
        Some(id) if id.is_empty() || id.len() > 100 => Err(ApiError::unprocessable(
            "invalid_internal_id",
            "internal_id must be 1 to 100 characters.",
        )),
        other => Ok(other),
    }
}

/// Refuses a recipient who replied STOP to the stream (until they reply START).
pub async fn ensure_subscribed(
    state: &AppState,
    stream_id: &str,
    recipient: &str,
) -> Result<(), ApiError> {
    match messages::opted_out(&state.db, stream_id, recipient)
        .await
        .map_err(storage)?
    {
        false => Ok(()),
        true => Err(opted_out(recipient)),
    }
}

pub fn opted_out(recipient: &str) -> ApiError {
    ApiError::forbidden(
        "recipient_opted_out",
        format!(
            "{recipient} replied STOP to this stream; it can send to them again after they reply START."
        ),
    )
}

pub fn idempotency_conflict() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "idempotency_conflict",
        "This internal_id was already used for a different message.",
    )
}

/// How every answer shows a queued message.
pub fn receipt_json(receipt: &Receipt) -> Value {
    json!({
        "internal_id": receipt.internal_id,
        "message_uuid": receipt.message_uuid,
        "status": receipt.status.as_str(),
        "encoding": receipt.encoding,
        "segments": receipt.segments,
    })
}

/// One message's checks, in the order a caller would fix them.
pub fn check(
    draft: Draft,
    default_sender: Option<&str>,
    audience: &Audience,
) -> Result<NewMessage, ApiError> {
    let internal_id = parse_internal_id(draft.internal_id)?;
    let recipient = parse_phone("recipient_phone", &draft.recipient)
        .map_err(|error| ApiError::unprocessable("invalid_recipient", error.message))?;
    audience.admit(&recipient)?;
    let sender = match draft
        .sender
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(sender) => SenderId::parse(sender)
            .map_err(|error| ApiError::unprocessable("invalid_sender", error.message))?
            .as_str()
            .to_string(),
        None => default_sender.map(str::to_string).ok_or_else(|| {
            ApiError::unprocessable(
                "sender_required",
                "This stream's sender is Customized: give each message a sender.",
            )
        })?,
    };
    let content = draft.content?;
    if content.trim().is_empty() {
        return Err(ApiError::unprocessable(
            "content_required",
            "message_content is empty.",
        ));
    }
    if content.chars().count() > MAX_CONTENT {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "content_too_long",
            format!("A message is at most {MAX_CONTENT} characters."),
        ));
    }
    Ok(NewMessage {
        internal_id,
        sender: Some(sender),
        recipient,
        size: measure(&content),
        content,
        payload: None,
    })
}

/// Streams of this type may use `/simple_send/`.
pub fn sends_plain_sms(kind: StreamKind) -> bool {
    !matches!(kind, StreamKind::Whatsapp)
}
