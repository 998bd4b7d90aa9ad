//! The console session cookie: reading it on every request, guarding console pages.

use app::{
    auth::{ssr::SessionUser, store},
    state::AppState,
};
use axum::{
    extract::{Request, State},
    http::{HeaderMap, Method, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use cookie::{Cookie, SameSite};

pub const COOKIE_NAME: &str = "sluice_session";

/// Paths a signed-out visitor may load.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/sign-in" | "/sign-up" | "/favicon.svg" | "/favicon.ico" | "/robots.txt"
    ) || path.starts_with("/pkg/")
        || path.starts_with("/api/")
}

/// The session token in the request's cookies, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == COOKIE_NAME)
        .map(|cookie| cookie.value().to_string())
}

/// The `Set-Cookie` value that starts a session.
pub fn session_cookie(token: String, https: bool) -> String {
    Cookie::build((COOKIE_NAME, token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(https)
        .max_age(cookie::time::Duration::milliseconds(store::SESSION_TTL_MS))
        .build()
        .to_string()
}

/// The `Set-Cookie` value that ends a session in the browser.
pub fn cleared_cookie(https: bool) -> String {
    Cookie::build((COOKIE_NAME, ""))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(https)
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}

/// Puts the user behind the session cookie (or none) into the request's extensions.
pub async fn resolve_session(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let user = match session_token(request.headers()) {
        Some(token) => match store::resolve_session(&state.db, &token).await {
            Ok(user) => user,
            Err(error) => {
                tracing::error!(%error, "session lookup failed");
                return (
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "Sluice cannot reach its database right now.",
                )
                    .into_response();
            }
        },
        None => None,
    };
    request.extensions_mut().insert(SessionUser(user));
    next.run(request).await
}

/// Sends signed-out visitors of console pages to sign in, and signed-in ones away from it.
pub async fn require_console_session(request: Request, next: Next) -> Response {
    let signed_in = request
        .extensions()
        .get::<SessionUser>()
        .is_some_and(|session| session.0.is_some());
    let path = request.uri().path();
    let is_page_load = matches!(*request.method(), Method::GET | Method::HEAD);

    if is_page_load && signed_in && matches!(path, "/sign-in" | "/sign-up") {
        return Redirect::to("/streams").into_response();
    }
    if is_page_load && !signed_in && !is_public(path) {
        let wanted = request
            .uri()
            .path_and_query()
            .map_or("/", |target| target.as_str());
        let query = serde_urlencoded::to_string([("next", wanted)]).unwrap_or_default();
        return Redirect::to(&format!("/sign-in?{query}")).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_http_only_and_lax_and_secure_over_tls() {
        let plain = session_cookie("t0k".into(), false);
        assert!(plain.starts_with("sluice_session=t0k"));
        assert!(plain.contains("HttpOnly"));
        assert!(plain.contains("SameSite=Lax"));
        assert!(plain.contains("Path=/"));
        assert!(!plain.contains("Secure"));
        assert!(session_cookie("t0k".into(), true).contains("Secure"));
    }

    #[test]
    fn the_token_is_found_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; sluice_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(session_token(&headers).as_deref(), Some("abc"));
        assert_eq!(session_token(&HeaderMap::new()), None);
    }
}
