//! The console session cookie: reading it on every request, guarding console pages.

use app::{
    auth::{ssr::SessionUser, store},
    state::AppState,
};
use axum::{
    Extension,
    extract::{Request, State},
    http::{HeaderMap, Method, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use cookie::{Cookie, SameSite};

/// Paths a signed-out visitor may load.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/sign-in" | "/sign-up" | "/favicon.svg" | "/favicon.ico" | "/robots.txt" | "/embed.js"
    ) || path.starts_with("/pkg/")
        // Widgets: their key is their credential.
        || path.starts_with("/embed/")
        || path.starts_with("/api/")
}

/// The session cookie's name and flags (`[http] secure_cookie`). Secure, it is
/// `__Host-sluice_session`: only sent over HTTPS (or to localhost), never set by a subdomain;
/// for plain-HTTP local use it is `sluice_session`, Secure only when the client used HTTPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCookie {
    pub secure: bool,
}

impl SessionCookie {
    pub fn name(self) -> &'static str {
        if self.secure {
            "__Host-sluice_session"
        } else {
            "sluice_session"
        }
    }

    /// The session token in the request's cookies, if any.
    pub fn token(self, headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|cookie| cookie.name() == self.name())
            .map(|cookie| cookie.value().to_string())
    }

    /// The `Set-Cookie` value that starts a session.
    pub fn start(self, token: String, https: bool) -> String {
        self.build(token, https, store::SESSION_TTL_MS)
    }

    /// The `Set-Cookie` value that ends a session in the browser.
    pub fn clear(self, https: bool) -> String {
        self.build(String::new(), https, 0)
    }

    fn build(self, value: String, https: bool, max_age_ms: i64) -> String {
        Cookie::build((self.name(), value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure || https)
            .max_age(cookie::time::Duration::milliseconds(max_age_ms))
            .build()
            .to_string()
    }
}

/// Puts the user behind the session cookie (or none) into the request's extensions.
pub async fn resolve_session(
    State(state): State<AppState>,
    Extension(cookie): Extension<SessionCookie>,
    mut request: Request,
    next: Next,
) -> Response {
    let user = match cookie.token(request.headers()) {
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
    fn the_session_cookie_is_host_only_and_secure_unless_told_otherwise() {
        let secure = SessionCookie { secure: true }.start("t0k".into(), false);
        assert!(secure.starts_with("__Host-sluice_session=t0k"), "{secure}");
        for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure"] {
            assert!(secure.contains(flag), "{secure}");
        }
        assert!(!secure.contains("Domain"), "{secure}");
        let plain = SessionCookie { secure: false };
        let local = plain.start("t0k".into(), false);
        assert!(local.starts_with("sluice_session=t0k"), "{local}");
        assert!(!local.contains("Secure"), "{local}");
        assert!(plain.start("t0k".into(), true).contains("Secure"));
        assert!(plain.clear(false).contains("Max-Age=0"));
    }

    #[test]
    fn the_token_is_found_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; __Host-sluice_session=abc; sluice_session=plain; b=2"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            SessionCookie { secure: true }.token(&headers).as_deref(),
            Some("abc")
        );
        assert_eq!(
            SessionCookie { secure: false }.token(&headers).as_deref(),
            Some("plain")
        );
        assert_eq!(
            SessionCookie { secure: true }.token(&HeaderMap::new()),
            None
        );
    }
}
