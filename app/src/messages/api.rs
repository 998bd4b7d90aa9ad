//! The console's server functions for messages.

use leptos::prelude::*;

use super::{LiveSnapshot, MessageFilter, MessagePage, StreamStats};
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "messages/list", input = server_fn::codec::Json)]
pub async fn list_messages(filter: MessageFilter) -> Result<MessagePage, AppError> {
    let user = crate::auth::ssr::require_user()?;
    let state = expect_context::<crate::state::AppState>();
    super::queries::list(&state.db, &user.account_id, &filter)
        .await
        .map_err(|error| {
            tracing::error!(%error, "listing messages failed");
            AppError::internal()
        })
}

/// The Info tab's statistics of one of the account's streams.
#[server(prefix = "/api", endpoint = "messages/stats", input = server_fn::codec::Json)]
pub async fn get_stream_stats(id: crate::ids::StreamId) -> Result<StreamStats, AppError> {
    let user = crate::auth::ssr::require_user()?;
    let state = expect_context::<crate::state::AppState>();
    super::queries::stats(&state.db, &user.account_id, &id)
        .await
        .map_err(|error| {
            tracing::error!(%error, "stream statistics failed");
            AppError::internal()
        })
}

/// The Realtime page's first picture; later ones arrive by Server-Sent Events.
#[server(prefix = "/api", endpoint = "realtime/snapshot")]
pub async fn realtime_snapshot() -> Result<LiveSnapshot, AppError> {
    let user = crate::auth::ssr::require_user()?;
    let state = expect_context::<crate::state::AppState>();
    super::queries::live(&state.db, &user.account_id)
        .await
        .map_err(|error| {
            tracing::error!(%error, "realtime snapshot failed");
            AppError::internal()
        })
}
