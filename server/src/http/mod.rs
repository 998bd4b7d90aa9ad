//! The HTTP surface: console pages and server functions, sign-in forms, health.

mod auth;
mod client;
mod health;
mod realtime;
mod session;

use std::sync::Arc;

use app::{App, shell, state::AppState};
use axum::{
    Extension, Router,
    http::{HeaderName, Request},
    middleware,
};
use ipnet::IpNet;
use leptos_axum::{LeptosRoutes, file_and_error_handler, generate_route_list};
use tower::ServiceBuilder;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

pub use self::client::ClientInfo;
use crate::delivery::Delivery;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Every route of the server, with its middleware.
pub fn router(state: AppState, trusted_proxies: Arc<[IpNet]>, delivery: Delivery) -> Router {
    let console = Router::new()
        .leptos_routes(&state, generate_route_list(App), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(session::require_console_session));

    Router::new()
        .route("/healthz", axum::routing::get(health::healthz))
        .route("/api/realtime/events", axum::routing::get(realtime::events))
        .merge(crate::api::router().layer(Extension(delivery)))
        .merge(auth::router())
        .merge(console)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::resolve_session,
        ))
        .layer(middleware::from_fn_with_state(
            trusted_proxies,
            client::identify_client,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(request_span))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
        )
        .with_state(state)
}

fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|id| id.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id,
    )
}
