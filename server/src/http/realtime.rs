//! `GET /api/realtime/events`: the Realtime page's live feed, one snapshot of the account's
//! streams per second, as Server-Sent Events.

use std::{convert::Infallible, time::Duration};

use app::{auth::ssr::SessionUser, messages::store, state::AppState};
use axum::{
    Extension,
    extract::State,
    http::StatusCode,
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use futures_util::stream;

const EVERY: Duration = Duration::from_secs(1);

pub async fn events(
    State(state): State<AppState>,
    Extension(SessionUser(user)): Extension<SessionUser>,
) -> Response {
    let Some(user) = user else {
        return (StatusCode::UNAUTHORIZED, "Sign in to follow your streams.").into_response();
    };
    let feed = stream::unfold(
        (state, user.account_id, true),
        |(state, account, first)| async move {
            if !first {
                tokio::time::sleep(EVERY).await;
            }
            let event = match store::live(&state.db, &account).await {
                Ok(snapshot) => Event::default()
                    .event("snapshot")
                    .json_data(&snapshot)
                    .unwrap_or_default(),
                Err(error) => {
                    tracing::warn!(%error, "realtime snapshot failed");
                    Event::default().event("error").data("snapshot failed")
                }
            };
            Some((Ok::<_, Infallible>(event), (state, account, false)))
        },
    );
    Sse::new(feed)
        .keep_alive(KeepAlive::default())
        .into_response()
}
