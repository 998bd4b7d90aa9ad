//! `GET /api/realtime/events`: the Realtime page's live feed, a snapshot of the account's
//! streams whenever they move (at most one a second, shared by every open page of the
//! account: [`super::live`]), as Server-Sent Events, while the session lasts; a session may
//! keep a few open at once.

use std::{
    collections::HashMap,
    convert::Infallible,
    sync::{Arc, Mutex},
    time::Duration,
};

use app::{
    auth::{self, ssr::SessionUser},
    crypto::sha256_hex,
    db::Db,
    ids::AccountId,
    messages::queries,
    state::AppState,
};
use axum::{
    Extension,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{
        IntoResponse, Response,
        sse::{KeepAlive, Sse},
    },
};
use futures_util::stream;

use super::{
    live::{Feed, Frame, Live, Subject},
    session::SessionCookie,
};
use crate::lock;

/// How often a feed checks that its session still holds.
const SESSION_CHECK_EVERY: Duration = Duration::from_secs(5);

/// The live feeds open per session (or per embed key), each one's capped.
#[derive(Debug, Clone)]
pub struct Viewers {
    limit: usize,
    open: Arc<Mutex<HashMap<String, usize>>>,
}

impl Viewers {
    pub fn new(limit: usize) -> Self {
        Self {
            limit: limit.max(1),
            open: Arc::default(),
        }
    }

    /// A seat for one more feed of `session`, unless it holds as many as allowed.
    pub(super) fn enter(&self, session: &str) -> Option<Seat> {
        let mut open = lock(&self.open);
        let count = open.entry(session.to_string()).or_default();
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(Seat {
            viewers: self.clone(),
            session: session.to_string(),
        })
    }
}

/// One open feed; its place is given back when the feed ends.
pub(super) struct Seat {
    viewers: Viewers,
    session: String,
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut open = lock(&self.viewers.open);
        if let Some(count) = open.get_mut(&self.session) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.session);
            }
        }
    }
}

/// The Realtime page's subject: an account's finished streams.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Account(pub AccountId);

impl Subject for Account {
    const FEED: &'static str = "realtime";

    fn account(&self) -> &AccountId {
        &self.0
    }

    async fn read(&self, db: &Db) -> Frame {
        match queries::live(db, &self.0).await {
            Ok(snapshot) => {
                // Counts of the last minute fall as it slides on, without a change.
                let sliding = snapshot
                    .streams
                    .iter()
                    .any(|s| s.per_minute + s.delivered + s.failed > 0);
                Frame {
                    event: "snapshot",
                    data: serde_json::to_string(&snapshot).unwrap_or_default(),
                    streams: snapshot
                        .streams
                        .iter()
                        .map(|s| s.id.as_str().into())
                        .collect(),
                    stale_at: sliding.then(|| snapshot.at + 1_000),
                    last: false,
                }
            }
            Err(error) => {
                tracing::warn!(%error, "realtime snapshot failed");
                Frame::failed("snapshot failed")
            }
        }
    }
}

/// What a viewer's feed carries from one event to the next.
struct Viewer {
    state: AppState,
    token: String,
    feed: Feed,
    /// When to check that the session still holds.
    check: tokio::time::Interval,
    _seat: Seat,
}

pub async fn events(
    State(state): State<AppState>,
    Extension(SessionUser(user)): Extension<SessionUser>,
    Extension(cookie): Extension<SessionCookie>,
    Extension(viewers): Extension<Viewers>,
    Extension(live): Extension<Live<Account>>,
    headers: HeaderMap,
) -> Response {
    let (Some(user), Some(token)) = (user, cookie.token(&headers)) else {
        return (StatusCode::UNAUTHORIZED, "Sign in to follow your streams.").into_response();
    };
    let Some(seat) = viewers.enter(&sha256_hex(&token)) else {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many live feeds are open for this session: close a Realtime tab.",
        )
            .into_response();
    };
    let viewer = Viewer {
        state,
        token,
        feed: live.watch(Account(user.account_id)),
        check: tokio::time::interval_at(
            tokio::time::Instant::now() + SESSION_CHECK_EVERY,
            SESSION_CHECK_EVERY,
        ),
        _seat: seat,
    };
    let events = stream::unfold(viewer, |mut viewer| async move {
        loop {
            tokio::select! {
                frame = viewer.feed.next() => {
                    let frame = frame?;
                    return Some((Ok::<_, Infallible>(frame.event()), viewer));
                }
                _ = viewer.check.tick() => {
                    // The feed ends with its session: signed out, expired or idle.
                    match auth::store::resolve_session(&viewer.state.db, &viewer.token).await {
                        Ok(None) => return None,
                        Ok(Some(_)) => {}
                        Err(error) => tracing::warn!(%error, "realtime session check failed"),
                    }
                }
            }
        }
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}
