//! `/otp/auth` sends a one-time password; `/otp/verify` checks it.

use axum::{
    Json,
    body::Bytes,
    extract::{Extension, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode},
};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    answers::{MessageAnswer, OtpAuthAnswer, OtpVerifyAnswer},
    caller::{Caller, authenticate},
    error::{ApiError, storage},
    parse_body,
    send::wrong_type,
};
use crate::{
    delivery::Delivery,
    engine::{
        Engine, Route,
        accept::{Audience, Draft, Rejection, check},
        opted_out,
        otp::{self, Issued, Limit, NewOtp, OtpRef, Scope},
    },
    http::ClientInfo,
};
use app::{
    crypto::random_digits,
    phone::PhoneNumber,
    state::AppState,
    streams::{
        StreamKind,
        settings::{OtpCodeSource, OtpSettings},
        settings_store,
    },
    time::rfc3339,
};

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct OtpAuth {
    /// In international format: `+447700900123`; `447700900123` and `0044 7700 900123` are
    /// read the same, and the number is stored in E.164.
    #[schema(example = "+447700900123")]
    recipient_phone: String,
    sender: Option<String>,
    /// `code` when the stream's code comes from your system.
    #[serde(default)]
    #[schema(value_type = Object)]
    template_variables: Map<String, Value>,
    /// The whole text, for streams whose code source is "customer provides the full text".
    message_content: Option<String>,
    /// Your own data for this message, up to 1,000 characters: echoed in every webhook event
    /// about it and in `/status/`.
    #[schema(example = "login=5521")]
    callback_data: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct OtpVerify {
    otp_id: Option<String>,
    /// In international format: `+447700900123`; `447700900123` and `0044 7700 900123` are
    /// read the same, and the number is stored in E.164.
    #[schema(example = "+447700900123")]
    recipient_phone: Option<String>,
    /// The code the user typed, as a string or a number.
    #[schema(value_type = String)]
    code: Value,
}

async fn otp_caller(
    state: &AppState,
    headers: &HeaderMap,
    client: ClientInfo,
    path: &str,
) -> Result<Caller, ApiError> {
    let caller = authenticate(&state.db, headers, client).await?;
    if caller.stream.kind != StreamKind::SmsOtp {
        return Err(wrong_type(path, "OTP"));
    }
    Ok(caller)
}

/// A code given as a string or a number: 4 to 10 letters or digits.
fn given_code(value: Option<&Value>) -> Result<String, ApiError> {
    let code = match value {
        Some(Value::String(text)) => text.trim().to_string(),
        Some(Value::Number(number)) => number.to_string(),
        _ => String::new(),
    };
    if (4..=10).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(code)
    } else {
        Err(ApiError::unprocessable(
            "invalid_code",
            "The code must be 4 to 10 letters or digits.",
        ))
    }
}

/// The code and the text that carries it, as the stream's settings say.
fn code_and_text(settings: &OtpSettings, request: &OtpAuth) -> Result<(String, String), ApiError> {
    match settings.source {
        OtpCodeSource::Generated => {
            let code = random_digits(settings.code_length as usize);
            Ok((code.clone(), settings.template.replace("[code]", &code)))
        }
        OtpCodeSource::CustomerCode => {
            let code = given_code(request.template_variables.get("code"))?;
            Ok((code.clone(), settings.template.replace("[code]", &code)))
        }
        OtpCodeSource::CustomerText => {
            let code = given_code(request.template_variables.get("code"))?;
            let text = request.message_content.clone().ok_or_else(|| {
                ApiError::unprocessable(
                    "content_required",
                    "This stream sends your own text: give message_content (and the code in template_variables.code).",
                )
            })?;
            Ok((code, text))
        }
    }
}

/// Sends a one-time password (OTP streams), within the stream's per-phone limits.
#[utoipa::path(post, path = "/otp/auth", tag = "otp", request_body = OtpAuth,
    security(("token" = [])),
    responses(
        (status = 200, description = "The code's message was queued", body = super::answers::OtpAuthAnswer),
        (status = 403, description = "Not an OTP stream, or refused", body = super::answers::ErrorAnswer),
        (status = 422, description = "Invalid recipient, sender or code", body = super::answers::ErrorAnswer),
        (status = 429, description = "Per-phone limit reached; see Retry-After", body = super::answers::ErrorAnswer),
    ))]
pub async fn auth(
    State(state): State<AppState>,
    State(engine): State<Engine>,
    State(delivery): State<Delivery>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<OtpAuthAnswer>, ApiError> {
    let caller = otp_caller(&state, &headers, client, "/otp/auth").await?;
    let request: OtpAuth = parse_body(body)?;
    let settings = settings_store::otp_settings(&state.db, &caller.account_id, &caller.stream.id)
        .await
        .map_err(storage)?;
    let (code, text) = code_and_text(&settings, &request)?;
    let audience = Audience::of(&state.db, &caller.account_id, &caller.stream)
        .await
        .map_err(storage)?;
    let draft = Draft {
        internal_id: None,
        sender: request.sender,
        recipient: request.recipient_phone,
        content: Ok(text),
        callback_data: request.callback_data,
    };
    let message = check(draft, caller.stream.default_sender.as_deref(), &audience)?;
    // Refused before a code is made; the queueing transaction checks again, so a STOP that
    // commits in between still wins.
    if opted_out(&state.db, &caller.stream.id, message.recipient.as_str())
        .await
        .map_err(storage)?
    {
        return Err(Rejection::OptedOut(message.recipient.clone()).into());
    }
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
        validity_ms: i64::from(settings.ttl_seconds) * 1000,
    };
    let new_otp = NewOtp {
        code,
        max_failures: i64::from(settings.max_failures),
        ttl_ms: i64::from(settings.ttl_seconds) * 1000,
    };
    let limit = |scope, window_ms, limit: u32| Limit {
        scope,
        window_ms,
        limit: i64::from(limit),
    };
    let limits = [
        limit(Scope::Number, HOUR_MS, settings.per_phone_hour),
        limit(Scope::Number, 24 * HOUR_MS, settings.per_phone_day),
        limit(Scope::Range, 10 * MINUTE_MS, settings.per_range_burst),
        limit(Scope::Stream, HOUR_MS, settings.per_stream_hour),
    ];
    // A STOP that committed since the check above wins here, in the queueing transaction.
    let issued = match otp::issue(
        &engine,
        &state.secret_key,
        route,
        &message,
        &new_otp,
        &limits,
    )
    .await
    .map_err(storage)?
    {
        Issued::Sent(issued) => issued,
        Issued::OptedOut => return Err(Rejection::OptedOut(message.recipient.clone()).into()),
        Issued::Limited {
            scope,
            sent,
            limit,
            wait_ms,
        } => {
            let wait = u64::try_from(wait_ms.max(1000) / 1000).unwrap_or(1);
            return Err(match scope {
                Scope::Number => ApiError::rate_limited(
                    format!(
                        "{} already received {sent} codes in this window; the limit is {limit}.",
                        message.recipient
                    ),
                    wait,
                ),
                Scope::Range => {
                    let range = otp::number_range(message.recipient.as_str());
                    tracing::warn!(stream = %caller.stream.id, range, sent, "OTP number range paused");
                    ApiError::rate_limited(
                        format!(
                            "Codes to numbers starting {range} are paused: {sent} were asked for in 10 minutes, \
                             a pattern of SMS pumping. They resume in {} minutes.",
                            wait.div_ceil(60)
                        ),
                        wait,
                    )
                    .with_code("range_paused")
                }
                Scope::Stream => ApiError::rate_limited(
                    format!(
                        "This stream sent its {limit} codes for this hour; the limit is in its OTP settings."
                    ),
                    wait,
                )
                .with_code("stream_limit_reached"),
            });
        }
    };
    delivery.wake();
    Ok(Json(OtpAuthAnswer {
        status: true,
        otp_id: issued.otp_id,
        expires_at: rfc3339(issued.expires_at),
        message: MessageAnswer::from(&issued.receipt),
    }))
}

/// Checks a code once: verified, invalid, expired or max_attempts_reached.
#[utoipa::path(post, path = "/otp/verify", tag = "otp", request_body = OtpVerify,
    security(("token" = [])),
    responses(
        (status = 200, description = "The check's result", body = super::answers::OtpVerifyAnswer),
        (status = 404, description = "No unused code matches", body = super::answers::ErrorAnswer),
        (status = 422, description = "No otp_id or recipient_phone, or a malformed code", body = super::answers::ErrorAnswer),
    ))]
pub async fn verify(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<OtpVerifyAnswer>, ApiError> {
    let caller = otp_caller(&state, &headers, client, "/otp/verify").await?;
    let request: OtpVerify = parse_body(body)?;
    let reference = match (request.otp_id, request.recipient_phone) {
        (Some(id), _) if !id.trim().is_empty() => OtpRef::Id(id.trim().to_string()),
        (_, Some(phone)) => OtpRef::Recipient(
            PhoneNumber::parse(&phone)
                .map_err(Rejection::from)?
                .into_string(),
        ),
        _ => {
            return Err(ApiError::unprocessable(
                "otp_reference_required",
                "Give the otp_id from /otp/auth, or the recipient_phone the code went to.",
            ));
        }
    };
    let code = given_code(Some(&request.code))?;
    let (otp_id, result) = otp::verify(&state.db, &caller.stream.id, &reference, &code)
        .await
        .map_err(storage)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "otp_not_found",
                "No unused code matches: it was never sent, or it was already verified.",
            )
        })?;
    let attempts_left = match result {
        otp::Verification::Invalid { attempts_left } => Some(attempts_left),
        _ => None,
    };
    Ok(Json(OtpVerifyAnswer {
        status: result == otp::Verification::Verified,
        result: result.as_str().to_string(),
        otp_id,
        attempts_left,
    }))
}
