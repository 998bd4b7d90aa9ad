//! The widgets' framing rules and live feed. A widget page (`/embed/{widget}?key=…`) may be
//! framed only by its key's origins (`frame-ancestors`), and a browser that says it frames it
//! from another site gets nothing. `GET /api/embed/events?key=…` pushes the key's snapshot
//! every second while the key holds; revoked or expired, it says so and ends.

use std::{convert::Infallible, time::Duration};

use app::{
    db::Db,
    embed::{Closed, store},
    state::AppState,
};
use axum::{
    Extension,
    extract::{Query, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use futures_util::stream;
use serde::Deserialize;

use super::realtime::Viewers;

const EVERY: Duration = Duration::from_secs(1);

/// The open widgets' live feeds, capped per key.
#[derive(Debug, Clone)]
pub struct WidgetViewers(pub Viewers);

#[derive(Debug, Deserialize)]
pub struct KeyQuery {
    #[serde(default)]
    key: String,
}

/// Sets a widget page's framing policy from its key; refuses a page a browser frames from a
/// site the key does not list.
pub async fn framing(State(db): State<Db>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if !path.starts_with("/embed/") {
        return next.run(request).await;
    }
    let key = request
        .uri()
        .query()
        .and_then(|query| serde_urlencoded::from_str::<KeyQuery>(query).ok())
        .map(|query| query.key)
        .unwrap_or_default();
    let origins = match store::framing_origins(&db, key.trim()).await {
        Ok(origins) => origins.unwrap_or_default(),
        Err(error) => {
            tracing::warn!(%error, "reading an embed key's origins failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    if framed_elsewhere(request.headers(), &origins) {
        let mut refused = (
            StatusCode::FORBIDDEN,
            "This widget is not allowed on this site.",
        )
            .into_response();
        refused.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
        return refused;
    }
    let mut response = next.run(request).await;
    let ancestors = if origins.is_empty() {
        "'none'".to_string()
    } else {
        origins.join(" ")
    };
    let policy = format!(
        "frame-ancestors {ancestors}; base-uri 'self'; form-action 'self'; object-src 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// A browser loading the page into a frame tells where the framing page is (`Referer`, its
/// origin at least under the default policy); one that names a site the key does not list is
/// refused. `frame-ancestors` is the rule every browser enforces; this keeps the page's data
/// from being sent at all.
fn framed_elsewhere(headers: &HeaderMap, origins: &[String]) -> bool {
    let text = |name| headers.get(name).and_then(|value| value.to_str().ok());
    if !matches!(text("sec-fetch-dest"), Some("iframe" | "frame")) {
        return false;
    }
    let Some(referer) = text("referer").and_then(|r| url::Url::parse(r).ok()) else {
        return false;
    };
    let from = referer.origin().ascii_serialization();
    !origins.contains(&from)
}

/// What a feed carries from one snapshot to the next.
struct Feed {
    db: Db,
    key: String,
    sent: u32,
    closed: bool,
    _seat: super::realtime::Seat,
}

pub async fn events(
    State(state): State<AppState>,
    Extension(WidgetViewers(viewers)): Extension<WidgetViewers>,
    Query(KeyQuery { key }): Query<KeyQuery>,
) -> Response {
    let key = key.trim().to_string();
    let access = match store::open(&state.db, &key).await {
        Ok(Ok(access)) => access,
        Ok(Err(closed)) => {
            let status = match closed {
                Closed::NotFound => StatusCode::NOT_FOUND,
                Closed::Revoked | Closed::Expired => StatusCode::GONE,
            };
            return (status, closed.message()).into_response();
        }
        Err(error) => {
            tracing::warn!(%error, "opening an embed key failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let Some(seat) = viewers.enter(access.key_id.as_str()) else {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many widgets with this key are open at once.",
        )
            .into_response();
    };
    let feed = Feed {
        db: state.db.clone(),
        key,
        sent: 0,
        closed: false,
        _seat: seat,
    };
    let events = stream::unfold(feed, |mut feed| async move {
        if feed.closed {
            return None;
        }
        if feed.sent > 0 {
            tokio::time::sleep(EVERY).await;
        }
        feed.sent = feed.sent.wrapping_add(1);
        // The key is looked at every time: a revoked key's widgets close within a second.
        let event = match store::open(&feed.db, &feed.key).await {
            Ok(Ok(access)) => match store::snapshot(&feed.db, &access).await {
                Ok(snapshot) => Event::default()
                    .event("snapshot")
                    .json_data(&snapshot)
                    .unwrap_or_default(),
                Err(error) => {
                    tracing::warn!(%error, "a widget's snapshot failed");
                    Event::default().event("error").data("snapshot failed")
                }
            },
            Ok(Err(closed)) => {
                feed.closed = true;
                Event::default()
                    .event("closed")
                    .json_data(closed)
                    .unwrap_or_default()
            }
            Err(error) => {
                tracing::warn!(%error, "opening an embed key failed");
                Event::default().event("error").data("key check failed")
            }
        };
        Some((Ok::<_, Infallible>(event), feed))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::tests::headers;

    #[test]
    fn a_frame_on_a_site_the_key_does_not_list_is_refused() {
        let origins = vec!["https://tools.acme.io".to_string()];
        let framed = |referer: &'static str| {
            headers(&[
                ("host", "sluice.acme.io"),
                ("sec-fetch-dest", "iframe"),
                ("referer", referer),
            ])
        };
        assert!(!framed_elsewhere(
            &framed("https://tools.acme.io/dashboard"),
            &origins
        ));
        assert!(framed_elsewhere(&framed("https://evil.example/"), &origins));
        assert!(framed_elsewhere(
            &framed("https://tools.acme.io.evil.example/"),
            &origins
        ));
        // Opened directly, or by a client that says nothing: the key alone decides.
        assert!(!framed_elsewhere(
            &headers(&[("sec-fetch-dest", "document")]),
            &origins
        ));
    }
}
