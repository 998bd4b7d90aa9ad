//! The console's server functions for messages.

use leptos::prelude::*;

use super::{MessageFilter, MessagePage};
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "messages/list", input = server_fn::codec::Json)]
pub async fn list_messages(filter: MessageFilter) -> Result<MessagePage, AppError> {
    let user = crate::auth::ssr::require_user()?;
    let state = expect_context::<crate::state::AppState>();
    super::store::list(&state.db, &user.account_id, &filter)
        .await
        .map_err(|error| {
            tracing::error!(%error, "listing messages failed");
            AppError::internal()
        })
}
