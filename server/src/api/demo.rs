//! The demo phone a test suite drives: `GET /demo/messages` reads what a demo stream "sent"
//! (the whole text, the code it carries), waiting for the next one when asked; `POST
//! /demo/inbound` makes "the customer" answer — stored, forwarded to the stream's webhook and
//! read for STOP and START exactly as a reply from a real phone. Only demo streams: nothing
//! here ever reaches a real number, and no real message's text is shown.

use std::time::Duration;

use axum::{
    Json,
    body::Bytes,
    extract::{Extension, RawQuery, State, rejection::BytesRejection},
    http::HeaderMap,
};
use serde::{Deserialize, Serialize};

use super::{
    caller::{Caller, authenticate},
    error::{ApiError, storage},
    parse_body,
};
use crate::{
    engine::{
        self, Channel, Engine, Inbound,
        accept::{MAX_CONTENT, Rejection},
    },
    http::ClientInfo,
};
use app::{
    messages::inbox::{InboxFilter, Received, inbox},
    phone::PhoneNumber,
    state::AppState,
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct InjectedReply {
    /// Who writes: the customer's number, as `recipient_phone` is read.
    #[schema(example = "+447700900123")]
    from: String,
    /// What they write; `STOP` or `START` opt them out of the stream or back in.
    #[schema(example = "Yes, please book me in.")]
    text: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InjectedAnswer {
    pub status: bool,
    /// The stored inbound message.
    pub message_uuid: String,
}

/// The longest a look may ask to wait for a message, in seconds.
const MAX_WAIT: u64 = 30;

/// The longest this server holds a look (`[limits] inbox_wait_secs`); longer waits are
/// shortened to it.
#[derive(Debug, Clone, Copy)]
pub struct InboxWait(pub Duration);

/// What a look at the test inbox asks for.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// Only messages to this number, read as `recipient_phone` is.
    #[param(example = "+447700900123")]
    recipient: Option<String>,
    /// Only messages queued at or after this time (RFC 3339).
    #[param(example = "2026-11-29T09:30:00Z")]
    since: Option<String>,
    /// Seconds (up to 30, and at most the server's `[limits] inbox_wait_secs`) to wait for a
    /// message when none matches yet; the answer comes as soon as one is queued.
    #[param(maximum = 30, minimum = 0)]
    wait: Option<u64>,
}

/// One message as the recipient's phone shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InboxMessage {
    pub message_uuid: String,
    pub internal_id: Option<String>,
    pub recipient_phone: String,
    pub sender: Option<String>,
    /// The whole text (an OTP message's code included).
    pub content: String,
    /// The one-time code the message carries: an OTP stream's code, or the digits of a text
    /// that speaks of a code, OTP or PIN.
    pub code: Option<String>,
    pub status: String,
    /// RFC 3339, UTC.
    pub created_at: String,
}

impl From<Received> for InboxMessage {
    fn from(message: Received) -> Self {
        Self {
            message_uuid: message.message_uuid,
            internal_id: message.internal_id,
            recipient_phone: message.recipient,
            sender: message.sender,
            content: message.content,
            code: message.code,
            status: message.status,
            created_at: app::time::rfc3339(message.created_at),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InboxAnswer {
    pub status: bool,
    /// Newest first, at most 100.
    pub messages: Vec<InboxMessage>,
}

/// A demo stream's caller; any other stream is refused.
pub async fn demo_caller(
    state: &AppState,
    headers: &HeaderMap,
    client: ClientInfo,
) -> Result<Caller, ApiError> {
    let caller = authenticate(&state.db, headers, client).await?;
    if !caller.stream.demo {
        return Err(ApiError::forbidden(
            "not_a_demo_stream",
            "Only demo streams have a test phone: this stream sends to real numbers.",
        ));
    }
    Ok(caller)
}

/// Makes the customer `from` write `text` to a demo stream, as a reply from their phone.
#[utoipa::path(post, path = "/demo/inbound", tag = "demo", request_body = InjectedReply,
    security(("token" = [])),
    responses(
        (status = 200, description = "Stored, forwarded to the stream's webhook, STOP and START applied", body = InjectedAnswer),
        (status = 403, description = "Not a demo stream", body = super::answers::ErrorAnswer),
        (status = 422, description = "Not a phone number, or no text", body = super::answers::ErrorAnswer),
    ))]
pub async fn inbound(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<InjectedAnswer>, ApiError> {
    let caller = demo_caller(&state, &headers, client).await?;
    let request: InjectedReply = parse_body(body)?;
    let from = PhoneNumber::parse(&request.from).map_err(Rejection::from)?;
    let text = request.text.trim();
    if text.is_empty() || text.chars().count() > MAX_CONTENT {
        return Err(ApiError::unprocessable(
            "invalid_text",
            format!("text is 1 to {MAX_CONTENT} characters."),
        ));
    }
    let uuid = engine::receive(
        &state.db,
        Inbound {
            account_id: &caller.account_id,
            stream_id: &caller.stream.id,
            channel: Channel::Demo,
            from: from.as_str(),
            to: caller.stream.default_sender.as_deref(),
            content: text,
            provider_id: None,
        },
    )
    .await
    .map_err(storage)?;
    state.webhook_wake.notify_waiters();
    Ok(Json(InjectedAnswer {
        status: true,
        message_uuid: uuid,
    }))
}

/// What a demo stream sent, newest first, as its recipients' phones show it; with `wait`,
/// answers as soon as a matching message is queued.
#[utoipa::path(get, path = "/demo/messages", tag = "demo", params(InboxQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "The matching messages (none when the wait ran out)", body = InboxAnswer),
        (status = 403, description = "Not a demo stream", body = super::answers::ErrorAnswer),
        (status = 422, description = "A recipient that is not a phone number, a time that is not RFC 3339, or a wait over 30 seconds", body = super::answers::ErrorAnswer),
    ))]
pub async fn messages(
    State(state): State<AppState>,
    State(engine): State<Engine>,
    Extension(client): Extension<ClientInfo>,
    Extension(InboxWait(longest)): Extension<InboxWait>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<InboxAnswer>, ApiError> {
    let caller = demo_caller(&state, &headers, client).await?;
    let query: InboxQuery = serde_urlencoded::from_str(query.as_deref().unwrap_or_default())
        .map_err(|error| {
            ApiError::unprocessable(
                "invalid_query",
                format!("The query is not valid here: {error}."),
            )
        })?;
    let wait = query.wait.unwrap_or(0);
    if wait > MAX_WAIT {
        return Err(ApiError::unprocessable(
            "invalid_wait",
            format!("wait is 0 to {MAX_WAIT} seconds."),
        ));
    }
    let filter = InboxFilter {
        recipient: query
            .recipient
            .as_deref()
            .filter(|r| !r.trim().is_empty())
            .map(PhoneNumber::parse)
            .transpose()
            .map_err(Rejection::from)?,
        since: query
            .since
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|since| {
                time::OffsetDateTime::parse(since.trim(), &time::format_description::well_known::Rfc3339)
                    .map(|at| i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0))
                    .map_err(|_| {
                        ApiError::unprocessable(
                            "invalid_since",
                            format!("since is a time in RFC 3339, such as 2026-11-29T09:30:00Z; `{since}` is not."),
                        )
                    })
            })
            .transpose()?,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait).min(longest);
    loop {
        // Listening before looking: a message queued in between still wakes this look.
        let queued = engine.queued().notified();
        tokio::pin!(queued);
        queued.as_mut().enable();
        let found = inbox(&state.db, &state.secret_key, &caller.stream.id, &filter)
            .await
            .map_err(storage)?;
        if !found.is_empty() || tokio::time::Instant::now() >= deadline {
            return Ok(Json(InboxAnswer {
                status: true,
                messages: found.into_iter().map(InboxMessage::from).collect(),
            }));
        }
        // Woken or out of time, look again: the last look answers even when empty.
        let _ = tokio::time::timeout_at(deadline, queued).await;
    }
}
