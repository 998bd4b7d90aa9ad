//! The demo phone a test suite drives: `POST /demo/inbound` makes "the customer" answer a demo
//! stream — stored, forwarded to the stream's webhook and read for STOP and START exactly as
//! a reply from a real phone. Only demo streams: nothing here ever reaches a real number.

use axum::{
    Json,
    body::Bytes,
    extract::{Extension, State, rejection::BytesRejection},
    http::HeaderMap,
};
use serde::{Deserialize, Serialize};

use super::{
    caller::{Caller, authenticate},
    error::{ApiError, storage},
    parse_body,
};
use crate::{
    engine::{self, Channel, Inbound, accept::MAX_CONTENT},
    http::ClientInfo,
};
use app::{phone::PhoneNumber, state::AppState};

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
    let from = PhoneNumber::parse(&request.from)
        .map_err(|error| ApiError::unprocessable("invalid_phone", error.to_string()))?;
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
