//! `POST /api/embed/send`: the send widget's test message, through the same rules as
//! `/simple_send/` for the key's stream. Only a key with the `send` permission may, a few
//! messages a minute. Answers JSON to the hydrated widget, and a redirect back to the widget
//! to its form posted without JavaScript.

use std::{num::NonZeroU32, sync::Arc};

use axum::{
    Form, Json,
    extract::State,
    http::{HeaderMap, StatusCode, header::ACCEPT},
    response::{IntoResponse, Redirect, Response},
};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::{Deserialize, Serialize};

use super::{
    caller::Caller,
    error::{ApiError, storage},
    send::{send_drafts, sends_plain_sms},
};
use crate::{delivery::Delivery, engine::Engine, engine::accept::Draft};
use app::{embed::store, ids::EmbedKeyId, state::AppState, streams::store as streams};

/// Test messages one key may send a minute.
const PER_MINUTE: u32 = 10;

/// The send widgets' limit, per key.
#[derive(Debug, Clone)]
pub struct EmbedSends(Arc<DefaultKeyedRateLimiter<EmbedKeyId>>);

impl Default for EmbedSends {
    fn default() -> Self {
        let per_minute = NonZeroU32::new(PER_MINUTE).unwrap_or(NonZeroU32::MIN);
        Self(Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))))
    }
}

/// The send widget's form.
#[derive(Debug, Deserialize)]
pub struct TestSend {
    key: String,
    /// Empty: the stream's default sender.
    #[serde(default)]
    sender: String,
    recipient_phone: String,
    message_content: String,
    /// The widget's look, kept on the way back without JavaScript.
    #[serde(default)]
    back: String,
}

/// What the hydrated widget reads.
#[derive(Debug, Serialize)]
pub struct TestSent {
    pub status: bool,
    pub message_uuid: Option<String>,
    pub message: String,
}

pub async fn send(
    State(state): State<AppState>,
    State(engine): State<Engine>,
    State(delivery): State<Delivery>,
    axum::Extension(sends): axum::Extension<EmbedSends>,
    headers: HeaderMap,
    Form(form): Form<TestSend>,
) -> Response {
    let wants_json = headers
        .get(ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"));
    let outcome = test_send(&state, &engine, &delivery, &sends, &form).await;
    if wants_json {
        let (status, body) = match outcome {
            Ok(uuid) => (
                StatusCode::OK,
                TestSent {
                    status: true,
                    message: format!("Queued as {uuid}."),
                    message_uuid: Some(uuid),
                },
            ),
            Err(error) => (
                error.status,
                TestSent {
                    status: false,
                    message_uuid: None,
                    message: error.message,
                },
            ),
        };
        return (status, Json(body)).into_response();
    }
    let (name, value) = match outcome {
        Ok(uuid) => ("sent", uuid),
        Err(error) => ("error", error.message),
    };
    let mut query = vec![("key", form.key.as_str()), (name, value.as_str())];
    // The widget's look comes back with it; nothing else the form carried does.
    let back: Vec<(String, String)> = serde_urlencoded::from_str(&form.back).unwrap_or_default();
    for (name, value) in &back {
        if matches!(name.as_str(), "theme" | "accent" | "compact") {
            query.push((name.as_str(), value.as_str()));
        }
    }
    let query = serde_urlencoded::to_string(query).unwrap_or_default();
    Redirect::to(&format!("/embed/send?{query}")).into_response()
}

/// Queues the form's message for the key's stream; answers its uuid.
async fn test_send(
    state: &AppState,
    engine: &Engine,
    delivery: &Delivery,
    sends: &EmbedSends,
    form: &TestSend,
) -> Result<String, ApiError> {
    let access = match store::open(&state.db, form.key.trim())
        .await
        .map_err(storage)?
    {
        Ok(access) => access,
        Err(closed) => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "widget_closed",
                closed.message(),
            ));
        }
    };
    if !access.can_send {
        return Err(ApiError::forbidden(
            "send_not_allowed",
            "This widget's key may not send messages.",
        ));
    }
    if sends.0.check_key(&access.key_id).is_err() {
        return Err(ApiError::rate_limited(
            format!("A widget sends at most {PER_MINUTE} test messages a minute."),
            60,
        ));
    }
    let stream = streams::get(&state.db, &access.account_id, &access.stream_id)
        .await
        .map_err(storage)?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "widget_closed", "No such stream."))?;
    if !sends_plain_sms(stream.kind) {
        return Err(ApiError::forbidden(
            "wrong_stream_type",
            "WhatsApp streams start conversations with templates: send through the API.",
        ));
    }
    let caller = Caller::of(access.account_id, stream)?;
    let draft = Draft {
        internal_id: None,
        sender: Some(form.sender.clone()).filter(|s| !s.trim().is_empty()),
        recipient: form.recipient_phone.clone(),
        content: Ok(form.message_content.clone()),
        callback_data: None,
    };
    let (_, answer) = send_drafts(state, engine, delivery, &caller, vec![draft], None).await?;
    let message = answer
        .messages
        .into_iter()
        .next()
        .ok_or_else(ApiError::internal)?;
    match (message.message_uuid, message.error) {
        (Some(uuid), _) => Ok(uuid),
        (None, Some(error)) => Err(ApiError::unprocessable("message_refused", error.message)),
        (None, None) => Err(ApiError::internal()),
    }
}
