//! `GET /api/realtime/events`: the Realtime page's live feed, one snapshot of the account's
//! streams per second, as Server-Sent Events, while the session lasts; a session may keep a
//! few open at once.

use std::{
    collections::HashMap,
    convert::Infallible,
    sync::{Arc, Mutex},
    time::Duration,
};

use app::{
    auth::{self, ssr::SessionUser},
    crypto::sha256_hex,
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
        sse::{Event, KeepAlive, Sse},
    },
};
use futures_util::stream;

use super::session::SessionCookie;
use crate::lock;

const EVERY: Duration = Duration::from_secs(1);
/// How many snapshots go by between checks that the session still holds.
const SESSION_CHECK_EVERY: u32 = 5;

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

/// What a feed carries from one snapshot to the next.
struct Feed {
    state: AppState,
    account: AccountId,
    token: String,
    sent: u32,
    _seat: Seat,
}

pub async fn events(
    State(state): State<AppState>,
    Extension(SessionUser(user)): Extension<SessionUser>,
    Extension(cookie): Extension<SessionCookie>,
    Extension(viewers): Extension<Viewers>,
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
    let feed = Feed {
        state,
        account: user.account_id,
        token,
        sent: 0,
        _seat: seat,
    };
    let events = stream::unfold(feed, |mut feed| async move {
        if feed.sent > 0 {
            tokio::time::sleep(EVERY).await;
        }
        // The feed ends with its session: signed out, expired or idle.
        if feed.sent > 0 && feed.sent % SESSION_CHECK_EVERY == 0 {
            match auth::store::resolve_session(&feed.state.db, &feed.token).await {
                Ok(None) => return None,
                Ok(Some(_)) => {}
                Err(error) => tracing::warn!(%error, "realtime session check failed"),
            }
        }
        let event = match queries::live(&feed.state.db, &feed.account).await {
            Ok(snapshot) => Event::default()
                .event("snapshot")
                .json_data(&snapshot)
                .unwrap_or_default(),
            Err(error) => {
                tracing::warn!(%error, "realtime snapshot failed");
                Event::default().event("error").data("snapshot failed")
            }
        };
        feed.sent = feed.sent.wrapping_add(1);
        Some((Ok::<_, Infallible>(event), feed))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}
