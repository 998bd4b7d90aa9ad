//! The widgets' framing rules and live feed. A widget page (`/embed/{widget}?key=…`) may be
//! framed only by its key's origins (`frame-ancestors`), and a browser that says it frames it
//! from another site gets nothing. `GET /api/embed/events?key=…` pushes the key's snapshot
//! whenever its stream moves while the key holds; revoked or expired, it says so and ends.

use std::convert::Infallible;

use app::{
    db::Db,
    embed::{Closed, store},
    ids::AccountId,
    state::AppState,
};
use axum::{
    Extension,
    extract::{Query, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{
        IntoResponse, Response,
        sse::{KeepAlive, Sse},
    },
};
use futures_util::stream;
use serde::Deserialize;

use super::{
    live::{Feed, Frame, Live, Subject},
    realtime::Viewers,
};

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

/// A widget's subject: what an embed key opens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Widget {
    key: String,
    account: AccountId,
}

impl Subject for Widget {
    const FEED: &'static str = "widget";

    fn account(&self) -> &AccountId {
        &self.account
    }

    async fn read(&self, db: &Db) -> Frame {
        let access = match store::open(db, &self.key).await {
            Ok(Ok(access)) => access,
            Ok(Err(closed)) => {
                return Frame {
                    event: "closed",
                    data: serde_json::to_string(&closed).unwrap_or_default(),
                    streams: Vec::new(),
                    stale_at: None,
                    last: true,
                };
            }
            Err(error) => {
                tracing::warn!(%error, "opening an embed key failed");
                return Frame::failed("key check failed");
            }
        };
        match store::snapshot(db, &access).await {
            Ok(snapshot) => {
                // The last hour's counts and chart fall as the hour slides on.
                let hour = &snapshot.hour;
                let sliding = hour.sent + hour.delivered + hour.failed + hour.in_flight > 0;
                let stale_at = [sliding.then(|| snapshot.at + 1_000), access.expires_at]
                    .into_iter()
                    .flatten()
                    .min();
                Frame {
                    event: "snapshot",
                    data: serde_json::to_string(&snapshot).unwrap_or_default(),
                    streams: vec![access.stream_id],
                    stale_at,
                    last: false,
                }
            }
            Err(error) => {
                tracing::warn!(%error, "a widget's snapshot failed");
                Frame::failed("snapshot failed")
            }
        }
    }
}

/// What a widget's feed carries from one event to the next.
struct Viewer {
    feed: Feed,
    _seat: super::realtime::Seat,
}

/// `GET /api/embed/events?key=…`: a widget's live feed, a snapshot whenever its stream moves
/// (shared by every widget open with the key), until the key is revoked or expires.
pub async fn events(
    State(state): State<AppState>,
    Extension(WidgetViewers(viewers)): Extension<WidgetViewers>,
    Extension(live): Extension<Live<Widget>>,
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
    let viewer = Viewer {
        feed: live.watch(Widget {
            key,
            account: access.account_id,
        }),
        _seat: seat,
    };
    let events = stream::unfold(viewer, |mut viewer| async move {
        let frame = viewer.feed.next().await?;
        Some((Ok::<_, Infallible>(frame.event()), viewer))
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
