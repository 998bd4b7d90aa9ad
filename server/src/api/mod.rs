//! The public Streams API, TextPeak-compatible: a stream's token in `Authorization`, JSON in
//! and out, every path with or without its trailing slash.

mod answers;
mod caller;
mod demo;
pub mod embed;
mod error;
pub mod idempotency;
mod inbound;
mod openapi;
mod otp;
mod rate;
mod send;
mod status;
mod whatsapp;

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, FromRef, rejection::BytesRejection},
    http::StatusCode,
    routing::{MethodRouter, post},
};
use serde::de::DeserializeOwned;

pub use self::{error::ApiError, openapi::ApiDoc, rate::ApiLimiter};
use crate::{delivery::Delivery, engine::Engine};
use app::state::AppState;

/// The largest request body: a full batch of long messages fits.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// What the API's handlers reach: the server's state, the message engine and the delivery
/// workers' handle.
#[derive(Debug, Clone)]
pub struct ApiState {
    pub app: AppState,
    pub engine: Engine,
    pub delivery: Delivery,
}

impl FromRef<ApiState> for AppState {
    fn from_ref(state: &ApiState) -> Self {
        state.app.clone()
    }
}

impl FromRef<ApiState> for Engine {
    fn from_ref(state: &ApiState) -> Self {
        state.engine.clone()
    }
}

impl FromRef<ApiState> for Delivery {
    fn from_ref(state: &ApiState) -> Self {
        state.delivery.clone()
    }
}

/// The API's routes, their state given. Requests time out after `request_timeout`; a test
/// inbox's wait lasts at most `inbox_wait`.
pub fn router(
    state: ApiState,
    limiter: ApiLimiter,
    request_timeout: std::time::Duration,
    inbox_wait: std::time::Duration,
) -> Router<AppState> {
    // The stream's token authenticates these; their POSTs take an Idempotency-Key.
    let token_routes: [(&str, MethodRouter<ApiState>); 10] = [
        ("/simple_send", post(send::simple_send)),
        ("/event_send", post(send::event_send)),
        ("/otp/auth", post(otp::auth)),
        ("/otp/verify", post(otp::verify)),
        ("/whatsapp/template", post(whatsapp::template)),
        ("/whatsapp/media", post(whatsapp::media)),
        ("/whatsapp/reply", post(whatsapp::reply)),
        ("/demo/inbound", post(demo::inbound)),
        (
            "/demo/messages",
            axum::routing::get(demo::messages).layer(axum::Extension(demo::InboxWait(inbox_wait))),
        ),
        (
            "/status",
            axum::routing::get(status::status_get).post(status::status_post),
        ),
    ];
    // Providers and Meta call these, authenticated by the stream's inbound key or signature.
    let callback_routes: [(&str, MethodRouter<ApiState>); 2] = [
        (
            "/inbound/sms/{stream}",
            axum::routing::get(inbound::sms).post(inbound::sms),
        ),
        (
            "/inbound/whatsapp/{stream}",
            axum::routing::get(inbound::whatsapp_verify).post(inbound::whatsapp_notify),
        ),
    ];
    let with_slashes = |routes: &[(&str, MethodRouter<ApiState>)]| {
        routes.iter().fold(Router::new(), |router, (path, route)| {
            router
                .route(path, route.clone())
                .route(&format!("{path}/"), route.clone())
        })
    };
    let keys = idempotency::Keys {
        db: state.app.db.clone(),
        lock: idempotency::KeyLock::after(request_timeout),
    };
    let token = with_slashes(&token_routes).route_layer(axum::middleware::from_fn_with_state(
        keys,
        idempotency::once,
    ));
    token
        .merge(with_slashes(&callback_routes))
        .route(
            "/api/embed/send",
            post(embed::send).layer(axum::Extension(embed::EmbedSends::default())),
        )
        .route("/api/openapi.json", axum::routing::get(openapi::document))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(rate::limit))
        .layer(axum::Extension(limiter))
        .with_state(state)
}

/// Reads a JSON body into `T`, answering 413 when too large and 422 when it is not the shape.
fn parse_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "The request body is larger than {} MiB.",
                    MAX_BODY / 1024 / 1024
                ),
            )
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "unreadable_body",
                rejection.body_text(),
            )
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|error| {
        ApiError::unprocessable(
            "invalid_json",
            format!("The body is not valid here: {error}."),
        )
    })
}
