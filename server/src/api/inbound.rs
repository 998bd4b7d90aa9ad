//! Callbacks from upstreams: `/inbound/sms/{stream}` takes an SMS provider's delivery reports
//! and inbound messages (JSON, form or query parameters, read with the fields the stream's
//! connection names); `/inbound/whatsapp/{stream}` answers Meta's `hub.challenge` handshake and
//! takes its signed status and message notifications.

use std::collections::HashMap;

use axum::{
    Json,
    body::Bytes,
    extract::{Path, RawQuery, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
};
use serde_json::Value;

use super::{
    answers::{InboundAnswer, WhatsAppNotifyAnswer},
    error::{ApiError, storage},
};
use crate::engine::{
    self as messages, Channel, Engine, Inbound, Outcome, Part,
    reports::{self, Reported, Scope},
};
use app::{
    connections::{ReportStatus, api::ssr as keys, store as connections},
    crypto::{constant_time_eq, hmac_sha256},
    ids::{AccountId, StreamId},
    messages::MessageStatus,
    phone::PhoneNumber,
    state::AppState,
    streams::{Stream, StreamKind, StreamStatus, settings_store, store as streams},
};

fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "stream_not_found",
        "No stream has this id.",
    )
}

fn bad_key() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_key",
        "Pass the stream's inbound key as ?key= or in X-Sluice-Key, as the console shows it.",
    )
}

async fn stream(state: &AppState, id: &str) -> Result<(AccountId, Stream), ApiError> {
    let found = streams::find_by_id(&state.db, &StreamId::from(id))
        .await
        .map_err(storage)?
        .ok_or_else(not_found)?;
    if found.1.status == StreamStatus::Draft {
        return Err(not_found());
    }
    Ok(found)
}

fn ok(answer: impl serde::Serialize) -> Response {
    Json(answer).into_response()
}

/// The answer to a delivery report: whether it moved its message.
fn recorded(moved: bool) -> InboundAnswer {
    InboundAnswer {
        status: true,
        recorded: Some(moved),
        ..InboundAnswer::default()
    }
}

/// The query parameters.
fn query_fields(query: Option<&str>) -> HashMap<String, String> {
    query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

/// The request's fields: query parameters, then a JSON object's or a form body's.
fn fields(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> HashMap<String, String> {
    let mut fields = query_fields(query);
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if json {
        if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) {
            for (name, value) in object {
                let text = match value {
                    Value::String(text) => text,
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => continue,
                };
                fields.insert(name, text);
            }
        }
    } else {
        fields.extend(url::form_urlencoded::parse(body).into_owned());
    }
    fields
}

/// `POST` or `GET /inbound/sms/{stream}`.
#[utoipa::path(post, path = "/inbound/sms/{stream}", tag = "inbound",
    description = "For the stream's HTTP SMS provider: a delivery report or an inbound message, as JSON, a form or query parameters, with the field names set on its connection. GET works alike.",
    params(
        ("stream" = String, Path, description = "The stream's id"),
        ("key" = Option<String>, Query, description = "The stream's inbound key (or the X-Sluice-Key header), as its Info tab shows"),
    ),
    responses(
        (status = 200, description = "Recorded", body = super::answers::InboundAnswer),
        (status = 202, description = "A report of a message whose send is not recorded yet: kept for an hour and applied once it is", body = super::answers::InboundAnswer),
        (status = 401, description = "Wrong or missing key", body = super::answers::ErrorAnswer),
        (status = 404, description = "No such stream", body = super::answers::ErrorAnswer),
        (status = 409, description = "A WhatsApp stream: Meta's callbacks go to /inbound/whatsapp/{stream}", body = super::answers::ErrorAnswer),
        (status = 422, description = "Neither a report nor a message", body = super::answers::ErrorAnswer),
    ))]
pub async fn sms(
    State(state): State<AppState>,
    State(engine): State<Engine>,
    Path(stream_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.unwrap_or_default();
    let fields = fields(query.as_deref(), &headers, &body);
    let (account_id, stream) = stream(&state, &stream_id).await?;
    let expected = app::streams::store::inbound_key(&state.db, &state.secret_key, &stream.id)
        .await
        .map_err(storage)?
        .unwrap_or_default();
    let given = fields
        .get("key")
        .map(String::as_str)
        .or_else(|| headers.get("x-sluice-key").and_then(|v| v.to_str().ok()))
        .unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        return Err(bad_key());
    }
    if stream.kind == StreamKind::Whatsapp {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "wrong_stream_type",
            "WhatsApp streams take Meta's callbacks at /inbound/whatsapp/{stream}.",
        ));
    }
    let settings =
        connections::inbound_settings(&state.db, &account_id, stream.connection_id.as_deref())
            .await
            .map_err(storage)?
            .inbound;
    let field = |name: &str| {
        fields
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty() && !name.is_empty())
    };
    if let Some(status) = field(&settings.report_status) {
        let provider_id = field(&settings.report_id).ok_or_else(|| {
            ApiError::unprocessable(
                "missing_field",
                format!(
                    "A delivery report needs the message id in `{}`.",
                    settings.report_id
                ),
            )
        })?;
        let outcome = match settings.report_status(status) {
            Some(ReportStatus::Delivered) => Outcome::report(MessageStatus::Delivered, None),
            Some(ReportStatus::Undelivered) => Outcome::report(
                MessageStatus::Undelivered,
                Some(format!("The provider reported the message {status}.")),
            ),
            None => return Ok(ok(recorded(false))),
        };
        let reported = reports::report(&engine, Scope::Stream(&stream.id), provider_id, outcome)
            .await
            .map_err(storage)?;
        return Ok(match reported {
            Reported::Applied { moved } => {
                state.webhook_wake.notify_waiters();
                ok(recorded(moved))
            }
            // Before its send was recorded (or not ours): kept for an hour, applied once it is.
            Reported::Held => (
                StatusCode::ACCEPTED,
                Json(InboundAnswer {
                    held: Some(true),
                    ..recorded(false)
                }),
            )
                .into_response(),
        });
    }
    let (Some(from), Some(text)) = (field(&settings.from), fields.get(&settings.text)) else {
        return Err(ApiError::unprocessable(
            "unrecognised_callback",
            format!(
                "Expected a delivery report (`{}`, `{}`) or an inbound message (`{}`, `{}`).",
                settings.report_id, settings.report_status, settings.from, settings.text
            ),
        ));
    };
    // Upstreams often write numbers without their `+`.
    let from = PhoneNumber::parse(from)
        .map_err(|error| ApiError::unprocessable("invalid_phone", error.to_string()))?;
    let inbound = Inbound {
        account_id: &account_id,
        stream_id: &stream.id,
        channel: Channel::Http,
        from: from.as_str(),
        to: field(&settings.to),
        content: text,
        provider_id: field(&settings.message_id),
    };
    let part = match (
        field(&settings.part_reference),
        field(&settings.part_total).and_then(|t| t.parse::<i64>().ok()),
        field(&settings.part_number).and_then(|n| n.parse::<i64>().ok()),
    ) {
        (Some(reference), Some(total @ 2..=255), Some(number)) if (1..=total).contains(&number) => {
            Some(Part {
                reference,
                total,
                number,
            })
        }
        _ => None,
    };
    let stored = match part {
        Some(part) => messages::receive_part(&state.db, inbound, part).await,
        None => messages::receive(&state.db, inbound).await.map(Some),
    }
    .map_err(storage)?;
    state.webhook_wake.notify_waiters();
    Ok(ok(InboundAnswer {
        status: true,
        complete: Some(stored.is_some()),
        message_uuid: stored,
        ..InboundAnswer::default()
    }))
}

/// `GET /inbound/whatsapp/{stream}`: Meta's subscription handshake.
#[utoipa::path(get, path = "/inbound/whatsapp/{stream}", tag = "inbound",
    description = "Meta's webhook verification: answers hub.challenge when hub.verify_token is the stream's.",
    params(
        ("stream" = String, Path, description = "The stream's id"),
        ("hub.mode" = String, Query, description = "subscribe"),
        ("hub.verify_token" = String, Query, description = "The verify token the WhatsApp tab shows"),
        ("hub.challenge" = String, Query, description = "Echoed back"),
    ),
    responses(
        (status = 200, description = "The challenge, as text", body = String),
        (status = 403, description = "Wrong mode or token", body = super::answers::ErrorAnswer),
        (status = 404, description = "No such stream", body = super::answers::ErrorAnswer),
    ))]
pub async fn whatsapp_verify(
    State(state): State<AppState>,
    Path(stream_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (_, stream) = stream(&state, &stream_id).await?;
    let fields = query_fields(query.as_deref());
    let expected = keys::verify_token(&state.secret_key, &stream.id);
    let given = fields.get("hub.verify_token").cloned().unwrap_or_default();
    if fields.get("hub.mode").map(String::as_str) != Some("subscribe")
        || !constant_time_eq(given.as_bytes(), expected.as_bytes())
    {
        return Err(ApiError::forbidden(
            "invalid_verify_token",
            "hub.mode must be subscribe and hub.verify_token the one the WhatsApp tab shows.",
        ));
    }
    Ok(fields
        .get("hub.challenge")
        .cloned()
        .unwrap_or_default()
        .into_response())
}

/// `POST /inbound/whatsapp/{stream}`: status changes of sent messages and customers' messages,
/// signed by Meta with the app secret (`X-Hub-Signature-256`).
#[utoipa::path(post, path = "/inbound/whatsapp/{stream}", tag = "inbound",
    description = "Meta's WhatsApp notifications (statuses and messages), checked against X-Hub-Signature-256 with the stream's app secret.",
    params(("stream" = String, Path, description = "The stream's id")),
    request_body(content = serde_json::Value, description = "Meta's notification, as Meta sends it"),
    responses(
        (status = 200, description = "How many statuses moved a message and how many messages were taken", body = super::answers::WhatsAppNotifyAnswer),
        (status = 401, description = "The signature does not match", body = super::answers::ErrorAnswer),
        (status = 403, description = "The stream has no app secret", body = super::answers::ErrorAnswer),
        (status = 404, description = "No such stream", body = super::answers::ErrorAnswer),
        (status = 422, description = "The body is not JSON", body = super::answers::ErrorAnswer),
    ))]
pub async fn whatsapp_notify(
    State(state): State<AppState>,
    State(engine): State<Engine>,
    Path(stream_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.unwrap_or_default();
    let (account_id, stream) = stream(&state, &stream_id).await?;
    if stream.kind != StreamKind::Whatsapp {
        return Err(not_found());
    }
    let (_, app_secret) =
        settings_store::whatsapp_secrets(&state.db, &state.secret_key, &account_id, &stream.id)
            .await
            .map_err(storage)?;
    let app_secret = app_secret.ok_or_else(|| {
        ApiError::forbidden(
            "whatsapp_not_configured",
            "The stream has no app secret to check Meta's signature with.",
        )
    })?;
    let given = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("sha256="))
        .and_then(|v| hex::decode(v).ok())
        .unwrap_or_default();
    if !constant_time_eq(&given, &hmac_sha256(app_secret.as_bytes(), &body)) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            "X-Hub-Signature-256 does not match the body signed with the stream's app secret.",
        ));
    }
    let notification: Value = serde_json::from_slice(&body)
        .map_err(|_| ApiError::unprocessable("invalid_json", "The body is not JSON."))?;
    let changes = notification["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|entry| entry["changes"].as_array().into_iter().flatten())
        .map(|change| &change["value"]);
    let (mut statuses, mut received) = (0, 0);
    for value in changes {
        for status in value["statuses"].as_array().into_iter().flatten() {
            statuses += usize::from(whatsapp_status(&engine, &stream.id, status).await?);
        }
        let to = value
            .pointer("/metadata/phone_number_id")
            .and_then(Value::as_str);
        for message in value["messages"].as_array().into_iter().flatten() {
            let (Some(from), Some(id)) = (
                message["from"]
                    .as_str()
                    .and_then(|from| PhoneNumber::parse(from).ok()),
                message["id"].as_str(),
            ) else {
                continue;
            };
            let content = message_text(message);
            messages::receive(
                &state.db,
                Inbound {
                    account_id: &account_id,
                    stream_id: &stream.id,
                    channel: Channel::Whatsapp,
                    from: from.as_str(),
                    to,
                    content: &content,
                    provider_id: Some(id),
                },
            )
            .await
            .map_err(storage)?;
            received += 1;
        }
    }
    state.webhook_wake.notify_waiters();
    Ok(ok(WhatsAppNotifyAnswer {
        status: true,
        statuses,
        messages: received,
    }))
}

/// Applies one status notification; answers whether a message moved.
async fn whatsapp_status(
    engine: &Engine,
    stream_id: &str,
    status: &Value,
) -> Result<bool, ApiError> {
    let Some(wamid) = status["id"].as_str() else {
        return Ok(false);
    };
    let outcome = match status["status"].as_str() {
        Some("sent") => Outcome::report(MessageStatus::Sent, None),
        Some("delivered" | "read") => Outcome::report(MessageStatus::Delivered, None),
        Some("failed") => {
            let error = &status["errors"][0];
            let detail = error["message"]
                .as_str()
                .or_else(|| error["title"].as_str())
                .unwrap_or("no reason given");
            Outcome::report(
                MessageStatus::Undelivered,
                Some(match error["code"].as_i64() {
                    Some(code) => {
                        format!("WhatsApp could not deliver it: {detail} (Meta error {code}).")
                    }
                    None => format!("WhatsApp could not deliver it: {detail}."),
                }),
            )
        }
        _ => return Ok(false),
    };
    // A status of a message not recorded yet is held (and answered 200: Meta would otherwise
    // retry it for days), then applied once its send is recorded.
    let reported = reports::report(engine, Scope::Stream(stream_id), wamid, outcome)
        .await
        .map_err(storage)?;
    Ok(reported == Reported::Applied { moved: true })
}

/// What an inbound WhatsApp message says, in one line of text.
fn message_text(message: &Value) -> String {
    let kind = message["type"].as_str().unwrap_or("unknown");
    let text = match kind {
        "text" => message.pointer("/text/body"),
        "button" => message.pointer("/button/text"),
        "interactive" => message
            .pointer("/interactive/button_reply/title")
            .or_else(|| message.pointer("/interactive/list_reply/title")),
        "image" | "video" | "document" | "audio" | "sticker" => message
            .pointer(&format!("/{kind}/caption"))
            .or_else(|| message.pointer(&format!("/{kind}/filename"))),
        _ => None,
    };
    match (kind, text.and_then(Value::as_str)) {
        ("text" | "button" | "interactive", Some(text)) => text.to_string(),
        (_, Some(text)) => format!("[{kind}] {text}"),
        (_, None) => format!("[{kind}]"),
    }
}
