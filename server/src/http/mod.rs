//! The HTTP surface: console pages and server functions, sign-in forms, health.

mod auth;
mod browser;
mod client;
mod embed;
mod health;
mod live;
pub mod metrics;
mod realtime;
mod serve;
mod session;

use std::{sync::Arc, time::Duration};

use app::{App, shell, state::AppState};
use axum::{
    Extension, Router,
    http::{HeaderName, Request},
    middleware,
};
use ipnet::IpNet;
use leptos_axum::{LeptosRoutes, file_and_error_handler, generate_route_list};
use serde::{Deserialize, Serialize};
use tower::ServiceBuilder;
use tower_http::{
    compression::CompressionLayer,
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    services::ServeDir,
    set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

pub use self::health::Ready;
pub use self::{client::ClientInfo, serve::serve};
use self::{live::Live, metrics::Scrape, session::SessionCookie};
use crate::{
    api::{ApiLimiter, ApiState},
    config::LimitsConfig,
    delivery::Delivery,
    engine::Engine,
};

/// How the console and API are served (`[http]` in `sluice.toml`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpConfig {
    /// The session cookie is `__Host-sluice_session` and Secure. Turn off only to use the
    /// console over plain HTTP on another host than localhost (`make run` turns it off).
    pub secure_cookie: bool,
    /// How long a client has to send a request's headers, in milliseconds.
    pub header_timeout_ms: u64,
    /// How long a request may take to be answered, its body included, in milliseconds (live
    /// feeds stream for longer once answered).
    pub request_timeout_ms: u64,
    /// Live feeds (Realtime pages) one console session may keep open at once.
    pub live_feeds_per_session: usize,
    /// Open widgets' live feeds one embed key may keep at once.
    pub live_feeds_per_embed_key: usize,
    /// Where other sites reach this server, for embed snippets, such as
    /// `https://sluice.example.com` [default: http:// and the listen address].
    pub public_url: Option<String>,
    /// On SIGTERM, how long to keep serving while `/readyz` answers 503, so that a load
    /// balancer stops sending new requests first, in milliseconds.
    pub drain_ms: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            secure_cookie: true,
            header_timeout_ms: 10_000,
            request_timeout_ms: 30_000,
            live_feeds_per_session: 8,
            live_feeds_per_embed_key: 50,
            public_url: None,
            drain_ms: 0,
        }
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The largest body a console form or server function may send.
const CONSOLE_MAX_BODY: usize = 1024 * 1024;

/// How long browsers keep the site's build output: a year when its names carry their content's
/// hash (a new build has new names), else they ask again each time (a dev build).
fn site_cache_control(hashed: bool) -> axum::http::HeaderValue {
    axum::http::HeaderValue::from_static(match hashed {
        true => "public, max-age=31536000, immutable",
        false => "no-cache",
    })
}

/// The site's build output (`/pkg`: wasm, JavaScript, CSS), each file served as its brotli or
/// gzip copy made at build time when the browser accepts one.
fn site_files(options: &leptos::config::LeptosOptions) -> Router {
    let folder =
        std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    Router::new()
        .fallback_service(
            ServeDir::new(folder)
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(SetResponseHeaderLayer::overriding(
            axum::http::header::CACHE_CONTROL,
            site_cache_control(options.hash_files),
        ))
}

/// What the operator's side of the server needs: `/metrics` and `/readyz`.
#[derive(Debug, Clone)]
pub struct Operations {
    pub scrape: Scrape,
    pub ready: Ready,
}

/// Every route of the server, with its middleware.
pub fn router(
    state: AppState,
    trusted_proxies: Arc<[IpNet]>,
    engine: Engine,
    delivery: Delivery,
    operations: Operations,
    config: &HttpConfig,
    limits: &LimitsConfig,
) -> Router {
    let metrics_of_requests = engine.metrics().clone();
    let console = Router::new()
        .leptos_routes(&state, generate_route_list(App), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(session::require_console_session))
        // Pages and server functions' answers, compressed when the browser takes it (the
        // Streams API's answers are small and its callers seldom ask).
        .layer(CompressionLayer::new().br(true).gzip(true));
    // What browsers post to: the sign-in forms and the console's server functions.
    let browser = auth::router()
        .layer(Extension(auth::SignUpLimit(limits.sign_ups_per_hour)))
        .merge(console)
        .layer(middleware::from_fn(browser::same_origin_only))
        .layer(RequestBodyLimitLayer::new(CONSOLE_MAX_BODY));

    Router::new()
        .nest_service(
            &format!("/{}", state.leptos_options.site_pkg_dir),
            site_files(&state.leptos_options),
        )
        .route("/healthz", axum::routing::get(health::healthz))
        .merge(operations_routes(operations))
        .route(
            "/api/realtime/events",
            axum::routing::get(realtime::events).layer(
                ServiceBuilder::new()
                    .layer(Extension(realtime::Viewers::new(
                        config.live_feeds_per_session,
                    )))
                    .layer(Extension(Live::<realtime::Account>::new(
                        state.db.clone(),
                        engine.metrics().clone(),
                    ))),
            ),
        )
        .route(
            "/api/embed/events",
            axum::routing::get(embed::events).layer(
                ServiceBuilder::new()
                    .layer(Extension(embed::WidgetViewers(realtime::Viewers::new(
                        config.live_feeds_per_embed_key,
                    ))))
                    .layer(Extension(Live::<embed::Widget>::new(
                        state.db.clone(),
                        engine.metrics().clone(),
                    ))),
            ),
        )
        .merge(crate::api::router(
            ApiState {
                app: state.clone(),
                engine,
                delivery,
            },
            ApiLimiter::new(limits),
            Duration::from_millis(config.request_timeout_ms.max(1)),
            Duration::from_secs(limits.inbox_wait_secs.min(30)),
        ))
        .merge(browser)
        .route_layer(middleware::from_fn_with_state(
            metrics_of_requests,
            metrics::durations,
        ))
        .layer(middleware::from_fn_with_state(
            state.db.clone(),
            embed::framing,
        ))
        .layer(middleware::from_fn(browser::security_headers))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::resolve_session,
        ))
        .layer(Extension(SessionCookie {
            secure: config.secure_cookie,
        }))
        .layer(middleware::from_fn_with_state(
            trusted_proxies,
            client::identify_client,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(request_span))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(TimeoutLayer::with_status_code(
                    axum::http::StatusCode::REQUEST_TIMEOUT,
                    Duration::from_millis(config.request_timeout_ms.max(1)),
                )),
        )
        .with_state(state)
}

/// `/metrics` and `/readyz`, with what they read.
fn operations_routes(operations: Operations) -> Router<AppState> {
    Router::new()
        .route("/metrics", axum::routing::get(metrics::metrics))
        .route("/readyz", axum::routing::get(health::readyz))
        .layer(Extension(operations.scrape))
        .layer(Extension(operations.ready))
}

/// The metrics listener's routes (`[metrics] addr`): `/metrics` open to whoever reaches it,
/// `/readyz` and `/healthz`.
pub fn operations_router(state: AppState, operations: Operations) -> Router {
    Router::new()
        .route("/healthz", axum::routing::get(health::healthz))
        .merge(operations_routes(operations))
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

#[cfg(test)]
pub(crate) mod tests {
    use axum::{
        body::Body,
        http::{HeaderMap, Request, StatusCode, header},
    };
    use leptos::config::LeptosOptions;
    use tower::ServiceExt;

    use super::site_files;

    /// Serves a built site's `pkg` folder holding `app.wasm` and its brotli and gzip copies.
    async fn answer(hashed: bool, accept: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
        let root = std::env::temp_dir().join(format!(
            "sluice-site-{}-{hashed}-{accept}",
            std::process::id()
        ));
        let pkg = root.join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("app.wasm"), b"plain").unwrap();
        std::fs::write(pkg.join("app.wasm.br"), b"brotli").unwrap();
        std::fs::write(pkg.join("app.wasm.gz"), b"gzip").unwrap();
        let options = LeptosOptions::builder()
            .output_name("app")
            .site_root(root.to_string_lossy().to_string())
            .site_pkg_dir("pkg")
            .hash_files(hashed)
            .build();
        let request = Request::get("/app.wasm")
            .header(header::ACCEPT_ENCODING, accept)
            .body(Body::empty())
            .unwrap();
        let response = site_files(&options).oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, 1024).await.unwrap().to_vec();
        let _ = std::fs::remove_dir_all(root);
        (parts.status, parts.headers, body)
    }

    #[tokio::test]
    async fn the_site_is_served_as_the_copy_the_browser_takes() {
        let (status, headers, body) = answer(true, "gzip, deflate, br").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, b"brotli");
        assert_eq!(headers[header::CONTENT_ENCODING], "br");
        assert_eq!(headers[header::CONTENT_TYPE], "application/wasm");
        assert_eq!(
            headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        let (_, headers, body) = answer(true, "gzip").await;
        assert_eq!(
            (body.as_slice(), &headers[header::CONTENT_ENCODING]),
            (
                &b"gzip"[..],
                &"gzip".parse::<header::HeaderValue>().unwrap()
            )
        );
        let (_, headers, body) = answer(true, "identity").await;
        assert_eq!(body, b"plain");
        assert!(headers.get(header::CONTENT_ENCODING).is_none());
    }

    #[tokio::test]
    async fn unhashed_files_are_asked_for_again_each_time() {
        let (_, headers, _) = answer(false, "br").await;
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    }

    /// Request headers from (name, value) pairs.
    pub fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.parse().unwrap(), value.parse().unwrap()))
            .collect()
    }
}
