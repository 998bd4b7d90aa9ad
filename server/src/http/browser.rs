//! Rules for browsers: cookie-authenticated requests that change state must come from the
//! site itself, and every answer carries the headers that keep the console from being framed,
//! sniffed or leaking its addresses to other sites.

use axum::{
    Extension,
    extract::Request,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::ClientInfo;

/// Refuses a state-changing request that a browser sent from another site. Browsers say where
/// a request comes from (`Sec-Fetch-Site`, else `Origin`); clients that say neither are not
/// browsers and cannot carry a victim's cookie by accident.
pub async fn same_origin_only(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && is_cross_site(request.headers()) {
        return (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::json!({
                "code": "cross_site_request",
                "message": "This request came from another site; Sluice accepts changes only from its own pages.",
            })
            .to_string(),
        )
            .into_response();
    }
    next.run(request).await
}

fn is_cross_site(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        // `none`: the user typed the address or used a bookmark.
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = text("origin") else {
        return false;
    };
    let host = text("host").unwrap_or_default();
    match origin.parse::<url::Url>() {
        Ok(origin) if origin.has_host() => {
            let authority = match origin.port() {
                Some(port) => format!("{}:{port}", origin.host_str().unwrap_or_default()),
                None => origin.host_str().unwrap_or_default().to_string(),
            };
            !authority.eq_ignore_ascii_case(host)
        }
        // `Origin: null` (sandboxed frames, data: URLs) or garbage.
        _ => true,
    }
}

/// Headers every answer carries; HSTS when the client reached us over HTTPS.
pub async fn security_headers(
    Extension(client): Extension<ClientInfo>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed = [
        (
            header::CONTENT_SECURITY_POLICY,
            "frame-ancestors 'self'; base-uri 'self'; form-action 'self'; object-src 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    // A page that set its own framing policy (a widget) is framed by it alone; every other
    // page tells old browsers too that only the site itself may frame it.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        );
    }
    for (name, value) in fixed {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    if client.https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::tests::headers;

    #[test]
    fn only_the_site_itself_may_change_state() {
        let host = ("host", "sluice.example.com");
        for same in [
            headers(&[host]),
            headers(&[host, ("sec-fetch-site", "same-origin")]),
            headers(&[host, ("sec-fetch-site", "none")]),
            headers(&[host, ("origin", "https://sluice.example.com")]),
            headers(&[
                ("host", "127.0.0.1:3000"),
                ("origin", "http://127.0.0.1:3000"),
            ]),
        ] {
            assert!(!is_cross_site(&same), "{same:?}");
        }
        for cross in [
            headers(&[host, ("sec-fetch-site", "cross-site")]),
            headers(&[host, ("sec-fetch-site", "same-site")]),
            headers(&[host, ("origin", "https://evil.example")]),
            headers(&[host, ("origin", "https://sluice.example.com.evil.example")]),
            headers(&[host, ("origin", "null")]),
            headers(&[
                ("host", "127.0.0.1:3000"),
                ("origin", "http://127.0.0.1:4000"),
            ]),
        ] {
            assert!(is_cross_site(&cross), "{cross:?}");
        }
    }
}
