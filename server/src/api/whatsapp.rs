//! `/whatsapp/template/`, `/whatsapp/media/` and `/whatsapp/reply/`: checked against the
//! stream's WhatsApp settings and queued with the exact Cloud API request body
//! (`POST /{phone-number-id}/messages`) the WhatsApp channel sends.

use axum::{
    Json,
    body::Bytes,
    extract::{Extension, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    answers::{MessageAnswer, SendAnswer},
    caller::{Caller, authenticate},
    error::{ApiError, storage},
    parse_body,
    send::wrong_type,
};
use crate::{
    delivery::Delivery,
    engine::{
        self as messages, Engine, NewMessage, Route,
        accept::{self, Audience, CallbackData, InternalId, Rejection, parse_internal_id},
    },
    http::ClientInfo,
};
use app::{
    db::now_ms,
    messages::measure,
    phone::PhoneNumber,
    state::AppState,
    streams::{StreamKind, settings_store},
};

/// How long after a customer's last message free-form replies are allowed.
const SERVICE_WINDOW_MS: i64 = 24 * 3_600_000;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TemplateRequest {
    #[serde(flatten)]
    to: Envelope,
    template_name: String,
    language: Option<String>,
    /// Positional parameters: an array, or an object keyed "1", "2"…
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    template_variables: Value,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MediaRequest {
    #[serde(flatten)]
    to: Envelope,
    media_type: String,
    media_url: String,
    caption: Option<String>,
    filename: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReplyRequest {
    #[serde(flatten)]
    to: Envelope,
    #[schema(example = "Your table is ready.")]
    message_content: String,
    /// The `message_uuid` of the inbound message this answers.
    reply_to: Option<String>,
}

/// The parts every WhatsApp request shares, checked.
struct Addressed {
    internal_id: Option<InternalId>,
    recipient: PhoneNumber,
    phone_number_id: String,
    callback_data: Option<CallbackData>,
}

/// What every WhatsApp request carries besides its content.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Envelope {
    internal_id: Option<String>,
    /// In international format: `+447700900123`; `447700900123` and `0044 7700 900123` are
    /// read the same, and the number is stored in E.164.
    #[schema(example = "+447700900123")]
    recipient_phone: String,
    sender: Option<String>,
    /// Your own data for this message, up to 1,000 characters: echoed in every webhook event
    /// about it and in `/status/`.
    #[schema(example = "ticket=311")]
    callback_data: Option<String>,
}

async fn whatsapp_caller(
    state: &AppState,
    headers: &HeaderMap,
    client: ClientInfo,
    path: &str,
) -> Result<Caller, ApiError> {
    let caller = authenticate(&state.db, headers, client).await?;
    if caller.stream.kind != StreamKind::Whatsapp {
        return Err(wrong_type(path, "WhatsApp"));
    }
    Ok(caller)
}

async fn address(
    state: &AppState,
    caller: &Caller,
    envelope: Envelope,
) -> Result<(Addressed, app::streams::settings::WhatsAppSettings), ApiError> {
    let Envelope {
        internal_id,
        recipient_phone: phone,
        sender,
        callback_data,
    } = envelope;
    let sender = sender.as_deref();
    let settings =
        settings_store::whatsapp_settings(&state.db, &caller.account_id, &caller.stream.id)
            .await
            .map_err(storage)?;
    let audience = Audience::of(&state.db, &caller.account_id, &caller.stream)
        .await
        .map_err(storage)?;
    let recipient = accept::recipient(&phone, &audience)?;
    let phone_number_id = match sender.map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) if settings.phone_number_ids.iter().any(|known| known == id) => id.to_string(),
        Some(id) => {
            return Err(ApiError::unprocessable(
                "unknown_sender",
                format!("{id} is not one of this stream's phone-number IDs."),
            ));
        }
        None => settings.phone_number_ids.first().cloned().ok_or_else(|| {
            ApiError::unprocessable(
                "whatsapp_not_configured",
                "Add a phone-number ID in the stream's WhatsApp settings first.",
            )
        })?,
    };
    let internal_id = parse_internal_id(internal_id)?;
    let callback_data = CallbackData::optional(callback_data)?;
    Ok((
        Addressed {
            internal_id,
            recipient,
            phone_number_id,
            callback_data,
        },
        settings,
    ))
}

/// Refuses a free-form message (text or media) to a customer who has not written to the
/// stream in the last 24 hours: only templates open a conversation.
async fn within_service_window(
    state: &AppState,
    caller: &Caller,
    recipient: &PhoneNumber,
) -> Result<(), ApiError> {
    let since = now_ms() - SERVICE_WINDOW_MS;
    let open = messages::wrote_since(&state.db, &caller.stream.id, recipient.as_str(), since)
        .await
        .map_err(storage)?;
    if !open {
        return Err(Rejection::OutsideServiceWindow(recipient.clone()).into());
    }
    Ok(())
}

/// Queues one WhatsApp message and answers like `/simple_send/`.
async fn queue(
    state: &AppState,
    engine: &Engine,
    delivery: &Delivery,
    caller: &Caller,
    to: Addressed,
    content: String,
    mut payload: Value,
) -> Result<Response, ApiError> {
    payload["messaging_product"] = json!("whatsapp");
    payload["recipient_type"] = json!("individual");
    payload["to"] = json!(to.recipient.digits());
    let message = NewMessage {
        internal_id: to.internal_id,
        sender: Some(to.phone_number_id),
        recipient: to.recipient,
        size: measure(&content),
        content,
        payload: Some(payload.to_string()),
        callback_data: to.callback_data,
    };
    let via = delivery
        .channel_for(&state.db, &caller.account_id, &caller.stream)
        .await
        .map_err(storage)?;
    let route = Route {
        account_id: &caller.account_id,
        stream_id: &caller.stream.id,
        channel: via.channel,
        kind: caller.stream.kind,
        connection_id: via.connection_id.as_deref(),
        validity_ms: delivery.validity_ms(),
    };
    let recipient = message.recipient.clone();
    let queued = messages::accept(engine, route, vec![message])
        .await
        .map_err(storage)?;
    let receipt = queued
        .into_iter()
        .next()
        .ok_or_else(ApiError::internal)?
        .receipt(&recipient)?;
    delivery.wake();
    let answer = SendAnswer {
        status: true,
        messages: vec![MessageAnswer::from(&receipt)],
        error: None,
    };
    Ok(Json(answer).into_response())
}

/// Starts a conversation with an approved template (WhatsApp streams).
#[utoipa::path(post, path = "/whatsapp/template/", tag = "whatsapp", request_body = TemplateRequest,
    security(("token" = [])),
    responses(
        (status = 200, description = "Queued", body = super::answers::SendAnswer),
        (status = 404, description = "No such template on the stream", body = super::answers::ErrorAnswer),
        (status = 409, description = "The internal_id was used for a different message", body = super::answers::ErrorAnswer),
        (status = 422, description = "Parameters do not match the template", body = super::answers::ErrorAnswer),
    ))]
pub async fn template(
    State(state): State<AppState>,
    State(engine): State<Engine>,
    State(delivery): State<Delivery>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = whatsapp_caller(&state, &headers, client, "/whatsapp/template/").await?;
    let request: TemplateRequest = parse_body(body)?;
    let (to, settings) = address(&state, &caller, request.to).await?;
    let name = request.template_name.trim();
    let language = request.language.as_deref().map(str::trim);
    let template = settings
        .templates
        .iter()
        .find(|t| t.name == name && language.is_none_or(|l| t.language == l))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "template_not_found",
                format!("This stream has no template {name} in that language; add it in the WhatsApp tab."),
            )
        })?;
    let values: Vec<String> = match &request.template_variables {
        Value::Array(items) => items.iter().map(text_of).collect(),
        Value::Object(map) => (1..=map.len())
            .map(|n| map.get(&n.to_string()).map(text_of).unwrap_or_default())
            .collect(),
        Value::Null => Vec::new(),
        _ => {
            return Err(ApiError::unprocessable(
                "invalid_template_variables",
                "template_variables is a list of values, or an object keyed \"1\", \"2\"…",
            ));
        }
    };
    let wanted = template.parameter_count();
    if values.len() != wanted || values.iter().any(String::is_empty) {
        return Err(ApiError::unprocessable(
            "template_variables_mismatch",
            format!(
                "The template {name} takes {wanted} non-empty parameters; {} were given.",
                values.len()
            ),
        ));
    }
    let content = (1..=wanted).fold(template.body.clone(), |text, n| {
        text.replace(&format!("{{{{{n}}}}}"), &values[n - 1])
    });
    let parameters: Vec<Value> = values
        .iter()
        .map(|value| json!({ "type": "text", "text": value }))
        .collect();
    let mut components = Vec::new();
    if !parameters.is_empty() {
        components.push(json!({ "type": "body", "parameters": parameters }));
    }
    let payload = json!({
        "type": "template",
        "template": {
            "name": template.name,
            "language": { "code": template.language },
            "components": components,
        },
    });
    queue(&state, &engine, &delivery, &caller, to, content, payload).await
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.trim().to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Sends an image, video, document or audio file by link, within 24 hours of the customer's
/// last message (a free-form message, as a text reply is).
#[utoipa::path(post, path = "/whatsapp/media/", tag = "whatsapp", request_body = MediaRequest,
    security(("token" = [])),
    responses(
        (status = 200, description = "Queued", body = super::answers::SendAnswer),
        (status = 403, description = "Outside the 24-hour window", body = super::answers::ErrorAnswer),
        (status = 409, description = "The internal_id was used for a different message", body = super::answers::ErrorAnswer),
        (status = 422, description = "Invalid media type, link, caption or filename", body = super::answers::ErrorAnswer),
    ))]
pub async fn media(
    State(state): State<AppState>,
    State(engine): State<Engine>,
    State(delivery): State<Delivery>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = whatsapp_caller(&state, &headers, client, "/whatsapp/media/").await?;
    let request: MediaRequest = parse_body(body)?;
    let kind = request.media_type.trim().to_ascii_lowercase();
    if !matches!(kind.as_str(), "image" | "video" | "document" | "audio") {
        return Err(ApiError::unprocessable(
            "invalid_media_type",
            "media_type is image, video, document or audio.",
        ));
    }
    let link = request.media_url.trim();
    let valid_link = url::Url::parse(link)
        .is_ok_and(|url| matches!(url.scheme(), "https" | "http") && url.host_str().is_some());
    if !valid_link {
        return Err(ApiError::unprocessable(
            "invalid_media_url",
            "media_url must be a public http(s) link to the file.",
        ));
    }
    let caption = request
        .caption
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let filename = request
        .filename
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty());
    if kind == "audio" && caption.is_some() {
        return Err(ApiError::unprocessable(
            "caption_not_allowed",
            "Audio messages cannot carry a caption.",
        ));
    }
    if kind != "document" && filename.is_some() {
        return Err(ApiError::unprocessable(
            "filename_not_allowed",
            "Only documents carry a filename.",
        ));
    }
    if caption.is_some_and(|c| c.chars().count() > 1024) {
        return Err(ApiError::unprocessable(
            "caption_too_long",
            "A caption is at most 1,024 characters.",
        ));
    }
    let (to, _) = address(&state, &caller, request.to).await?;
    within_service_window(&state, &caller, &to.recipient).await?;
    let mut object = json!({ "link": link });
    if let Some(caption) = caption {
        object["caption"] = json!(caption);
    }
    if let Some(filename) = filename {
        object["filename"] = json!(filename);
    }
    let content = match caption {
        Some(caption) => format!("[{kind}] {caption}"),
        None => format!("[{kind}] {link}"),
    };
    let mut payload = json!({ "type": kind });
    payload[kind.as_str()] = object;
    queue(&state, &engine, &delivery, &caller, to, content, payload).await
}

/// Replies with free text within 24 hours of the customer's last message.
#[utoipa::path(post, path = "/whatsapp/reply/", tag = "whatsapp", request_body = ReplyRequest,
    security(("token" = [])),
    responses(
        (status = 200, description = "Queued", body = super::answers::SendAnswer),
        (status = 403, description = "Outside the 24-hour window", body = super::answers::ErrorAnswer),
        (status = 409, description = "The internal_id was used for a different message", body = super::answers::ErrorAnswer),
        (status = 422, description = "Invalid text or reply_to", body = super::answers::ErrorAnswer),
    ))]
pub async fn reply(
    State(state): State<AppState>,
    State(engine): State<Engine>,
    State(delivery): State<Delivery>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = whatsapp_caller(&state, &headers, client, "/whatsapp/reply/").await?;
    let request: ReplyRequest = parse_body(body)?;
    let text = request.message_content.trim().to_string();
    if text.is_empty() || text.chars().count() > 4096 {
        return Err(ApiError::unprocessable(
            "invalid_content",
            "message_content is 1 to 4,096 characters.",
        ));
    }
    let (to, _) = address(&state, &caller, request.to).await?;
    within_service_window(&state, &caller, &to.recipient).await?;
    let mut payload = json!({ "type": "text", "text": { "preview_url": false, "body": text } });
    if let Some(reply_to) = request
        .reply_to
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        let from = messages::inbound_sender(&state.db, &caller.stream.id, reply_to)
            .await
            .map_err(storage)?;
        if from.as_deref() != Some(to.recipient.as_str()) {
            return Err(ApiError::unprocessable(
                "invalid_reply_to",
                "reply_to must be the message_uuid of a message this recipient sent to the stream.",
            ));
        }
        payload["context"] = json!({ "message_id": reply_to });
    }
    queue(&state, &engine, &delivery, &caller, to, text, payload).await
}
