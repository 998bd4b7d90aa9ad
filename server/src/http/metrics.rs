//! The HTTP side of [`crate::metrics`]: `/metrics` for Prometheus, on the main address to a
//! scraper that carries `[metrics] token`, on `[metrics] addr` to whoever reaches it; and
//! every routed request's duration, by its route's pattern (never the raw path, which a
//! client chooses).

use std::{sync::Arc, time::Instant};

use app::{crypto::constant_time_eq, state::AppState};
use axum::{
    Extension,
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{delivery::Delivery, metrics::Metrics};

/// What `/metrics` answers with, and to whom.
#[derive(Debug, Clone)]
pub struct Scrape {
    pub metrics: Metrics,
    pub delivery: Delivery,
    pub access: Access,
}

/// Who may read `/metrics` where it is served.
#[derive(Debug, Clone)]
pub enum Access {
    /// A scraper that sends `Authorization: Bearer <token>`.
    Token(Arc<str>),
    /// Anyone who reaches the address (the metrics listener of its own).
    Open,
    /// Nobody: no token is configured for the main address.
    Closed,
}

impl Access {
    fn allows(&self, headers: &HeaderMap) -> bool {
        match self {
            Self::Open => true,
            Self::Closed => false,
            Self::Token(token) => headers
                .get(header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("Bearer "))
                .is_some_and(|given| constant_time_eq(given.as_bytes(), token.as_bytes())),
        }
    }
}

/// `GET /metrics`: every metric as OpenMetrics text.
pub async fn metrics(
    State(state): State<AppState>,
    Extension(scrape): Extension<Scrape>,
    headers: HeaderMap,
) -> Response {
    match &scrape.access {
        Access::Closed => return StatusCode::NOT_FOUND.into_response(),
        access if !access.allows(&headers) => {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "Send the metrics token as a Bearer token.",
            )
                .into_response();
        }
        _ => {}
    }
    let (bound, unbound) = scrape.delivery.smpp_sessions();
    scrape.metrics.smpp_sessions(bound, unbound);
    match scrape.metrics.scrape(&state.db).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(error) => {
            tracing::warn!(%error, "reading the queue's gauges failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Times each routed request into `sluice_http_request_duration_seconds` (until its answer
/// starts: a live feed counts until its first byte).
pub async fn durations(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    if let Some(route) = route {
        metrics.request(&route, method.as_str(), started.elapsed().as_secs_f64());
    }
    response
}
