//! `/simple_send/` and `/event_send/`: validate each message, queue the valid ones in one
//! transaction, answer per message.

use axum::{
    Json,
    body::Bytes,
    extract::{Extension, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    answers::{ErrorBody, MessageAnswer, SendAnswer, SendRefusal},
    caller::{Caller, authenticate},
    error::{ApiError, storage},
    parse_body,
};
use crate::{
    delivery::Delivery,
    engine::{
        self as messages, Engine, NewMessage, Route,
        accept::{Audience, Draft, Rejection, check},
    },
    http::ClientInfo,
};
use app::{
    state::AppState,
    streams::{StreamKind, settings::render_template, settings_store},
};

/// The most messages one request may carry.
pub const MAX_BATCH: usize = 1_000;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SimpleSend {
    messages: Vec<SimpleMessage>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SimpleMessage {
    #[schema(example = "order-1042")]
    internal_id: Option<String>,
    #[schema(example = "AcmeShop")]
    sender: Option<String>,
    /// In international format: `+447700900123`; `447700900123` and `0044 7700 900123` are
    /// read the same, and the number is stored in E.164.
    #[schema(example = "+447700900123")]
    recipient_phone: String,
    #[schema(example = "Your order has shipped.")]
    message_content: String,
    /// Your own data for this message, up to 1,000 characters: echoed in every webhook event
    /// about it and in `/status/`.
    #[schema(example = "customer=8812")]
    callback_data: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EventSend {
    event: String,
    recipients: Vec<EventRecipient>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EventRecipient {
    #[schema(example = "order-1042")]
    internal_id: Option<String>,
    #[schema(example = "AcmeShop")]
    sender: Option<String>,
    /// In international format: `+447700900123`; `447700900123` and `0044 7700 900123` are
    /// read the same, and the number is stored in E.164.
    #[schema(example = "+447700900123")]
    recipient_phone: String,
    /// Values for the event template's `{{variables}}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    template_variables: Map<String, Value>,
    /// Your own data for this message, up to 1,000 characters: echoed in every webhook event
    /// about it and in `/status/`.
    #[schema(example = "customer=8812")]
    callback_data: Option<String>,
}

/// Sends up to 1,000 SMS messages; each gets its own receipt or error.
#[utoipa::path(post, path = "/simple_send/", tag = "sms", request_body = SimpleSend,
    security(("token" = [])),
    responses(
        (status = 200, description = "At least one message was queued", body = super::answers::SendAnswer),
        (status = 403, description = "IP not allowed, stream disabled or draft, wrong type; or every message refused, the first for its recipient (restricted, opted out, another country)", body = super::answers::SendRefusal),
        (status = 409, description = "Every message refused, the first for reusing an internal_id for a different message", body = super::answers::SendRefusal),
        (status = 413, description = "Body or batch too large, or every message refused, the first for being too long", body = super::answers::SendRefusal),
        (status = 422, description = "Unreadable JSON, no messages, or nothing valid to queue", body = super::answers::SendRefusal),
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
            callback_data: m.callback_data,
        })
        .collect();
    send(&state, &engine, &delivery, &caller, drafts, None).await
}

/// Sends an event's template, filled per recipient (Transactional and OTP streams).
#[utoipa::path(post, path = "/event_send/", tag = "sms", request_body = EventSend,
    security(("token" = [])),
    responses(
        (status = 200, description = "At least one message was queued", body = super::answers::SendAnswer),
        (status = 403, description = "Not a Transactional or OTP stream; or every message refused, the first for its recipient", body = super::answers::SendRefusal),
        (status = 404, description = "No such event", body = super::answers::ErrorAnswer),
        (status = 409, description = "Every message refused, the first for reusing an internal_id for a different message", body = super::answers::SendRefusal),
        (status = 413, description = "Body or batch too large, or every message refused, the first for being too long", body = super::answers::SendRefusal),
        (status = 422, description = "Unreadable JSON, an inactive event, or nothing valid to queue", body = super::answers::SendRefusal),
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
            content: render_template(&event.input.body, &r.template_variables)
                .map_err(Rejection::MissingVariable),
            callback_data: r.callback_data,
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
    let (status, answer) =
        send_drafts(state, engine, delivery, caller, drafts, event_sender).await?;
    if answer.status {
        return Ok(Json(answer).into_response());
    }
    Ok((status, Json(SendRefusal::Batch(answer))).into_response())
}

/// Checks every draft and queues the valid ones together: the answer per message, and the
/// HTTP status of the whole (200 when any was queued, else the first refusal's).
pub(crate) async fn send_drafts(
    state: &AppState,
    engine: &Engine,
    delivery: &Delivery,
    caller: &Caller,
    drafts: Vec<Draft>,
    event_sender: Option<String>,
) -> Result<(StatusCode, SendAnswer), ApiError> {
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
    let audience = Audience::of(&state.db, &caller.account_id, stream)
        .await
        .map_err(storage)?;
    let default_sender = event_sender.or_else(|| stream.default_sender.clone());
    let checked: Vec<(Option<String>, Result<NewMessage, Rejection>)> = drafts
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
    let via = delivery
        .channel_for(&state.db, &caller.account_id, stream)
        .await
        .map_err(storage)?;
    let route = Route {
        account_id: &caller.account_id,
        stream_id: &stream.id,
        channel: via.channel,
        kind: stream.kind,
        connection_id: via.connection_id.as_deref(),
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
    let answers: Vec<MessageAnswer> = checked
        .into_iter()
        .map(|(internal_id, result)| {
            let outcome = match result {
                Ok(message) => queued.next().map(|q| q.receipt(&message.recipient)),
                Err(error) => Some(Err(error)),
            };
            match outcome {
                Some(Ok(receipt)) => {
                    accepted = true;
                    MessageAnswer::from(&receipt)
                }
                Some(Err(rejection)) => {
                    let error = ApiError::from(rejection);
                    first_error.get_or_insert(error.status);
                    MessageAnswer::refused(internal_id, &error)
                }
                None => MessageAnswer::refused(internal_id, &ApiError::internal()),
            }
        })
        .collect();
    if accepted {
        let answer = SendAnswer {
            status: true,
            messages: answers,
            error: None,
        };
        return Ok((StatusCode::OK, answer));
    }
    let status = first_error.unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    let answer = SendAnswer {
        status: false,
        messages: answers,
        error: Some(ErrorBody {
            code: "no_message_accepted".into(),
            message: "No message was accepted; see each message's error.".into(),
        }),
    };
    Ok((status, answer))
}

/// Streams of this type may use `/simple_send/`.
pub fn sends_plain_sms(kind: StreamKind) -> bool {
    !matches!(kind, StreamKind::Whatsapp)
}
