//! The console's server functions for messages.

use leptos::prelude::*;

use super::{LiveSnapshot, MessageFilter, MessagePage, StreamStats};
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "messages/list", input = server_fn::codec::Json)]
pub async fn list_messages(filter: MessageFilter) -> Result<MessagePage, AppError> {
    let user = crate::auth::ssr::require_user()?;
    let state = expect_context::<crate::state::AppState>();
    let page = super::queries::list(&state.db, &user.account_id, &filter)
        .await
        .map_err(|error| {
            tracing::error!(%error, "listing messages failed");
            AppError::internal()
        })?;
    Ok(MessagePage {
        retention: state.retention,
        ..page
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

/// The Inbox tab: a demo stream's messages as the recipients' phones show them, newest first;
/// only those to `recipient` (when not empty) and queued in the last `since_minutes` (when set).
#[server(prefix = "/api", endpoint = "messages/inbox", input = server_fn::codec::Json)]
pub async fn demo_inbox(
    id: crate::ids::StreamId,
    recipient: String,
    since_minutes: Option<u32>,
) -> Result<Vec<super::inbox::Received>, AppError> {
    use crate::{
        messages::inbox::{InboxFilter, inbox},
        phone::PhoneNumber,
        streams::api::ssr::{context, internal, not_found},
    };

    let (state, user) = context()?;
    let stream = crate::streams::store::get(&state.db, &user.account_id, &id)
        .await
        .map_err(internal)?
        .ok_or_else(not_found)?;
    if !stream.demo {
        return Err(AppError::new(
            "not_a_demo_stream",
            "Only demo streams have an inbox: this stream sends to real numbers.",
        ));
    }
    let recipient = match recipient.trim() {
        "" => None,
        text => Some(PhoneNumber::parse(text).map_err(|error| AppError {
            code: "invalid_phone".into(),
            message: error.to_string(),
            field: Some("recipient".into()),
        })?),
    };
    let filter = InboxFilter {
        recipient,
        since: since_minutes.map(|minutes| crate::db::now_ms() - i64::from(minutes) * 60_000),
    };
    inbox(&state.db, &state.secret_key, &id, &filter)
        .await
        .map_err(internal)
}
