//! The console's server functions for streams, tags and sender IDs.

use leptos::prelude::*;

use crate::ids::StreamId;
use serde::{Deserialize, Serialize};

use super::{Stream, StreamFilter, StreamInput, StreamKind, StreamPage};
use crate::error::AppError;

/// A stream just created, with the token the pop-up shows once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedStream {
    pub stream: Stream,
    pub token: String,
}

/// What the ⋯ menu can do to a stream besides showing and resetting its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamAction {
    Enable,
    Disable,
    Restrict,
    Unrestrict,
    Delete,
}

#[server(prefix = "/api", endpoint = "streams/list", input = server_fn::codec::Json)]
pub async fn list_streams(filter: StreamFilter) -> Result<StreamPage, AppError> {
    let (state, user) = ssr::context()?;
    super::store::list(&state.db, &user.account_id, &filter)
        .await
        .map_err(ssr::internal)
}

#[server(prefix = "/api", endpoint = "streams/get", input = server_fn::codec::Json)]
pub async fn get_stream(id: StreamId) -> Result<Stream, AppError> {
    let (state, user) = ssr::context()?;
    super::store::get(&state.db, &user.account_id, &id)
        .await
        .map_err(ssr::internal)?
        .ok_or_else(ssr::not_found)
}

#[server(prefix = "/api", endpoint = "streams/create", input = server_fn::codec::Json)]
pub async fn create_stream(
    kind: StreamKind,
    input: StreamInput,
    draft: bool,
) -> Result<CreatedStream, AppError> {
    let (state, user) = ssr::context()?;
    if kind == StreamKind::Whatsapp {
        let access = super::access::store::access(&state.db, state.whatsapp, &user.account_id)
            .await
            .map_err(ssr::internal)?;
        if access != super::access::WhatsAppAccess::Open {
            return Err(AppError::new(
                "whatsapp_not_available",
                "WhatsApp streams are not open to this account: request access first.",
            ));
        }
    }
    let (stream, token) = super::store::create(
        &state.db,
        &state.secret_key,
        &user.account_id,
        kind,
        &input,
        draft,
    )
    .await
    .map_err(ssr::stream_error)?;
    Ok(CreatedStream { stream, token })
}

#[server(prefix = "/api", endpoint = "streams/update", input = server_fn::codec::Json)]
pub async fn update_stream(id: StreamId, input: StreamInput) -> Result<Stream, AppError> {
    let (state, user) = ssr::context()?;
    super::store::update(&state.db, &user.account_id, &id, &input)
        .await
        .map_err(ssr::stream_error)
}

#[server(prefix = "/api", endpoint = "streams/step", input = server_fn::codec::Json)]
pub async fn save_wizard_step(id: StreamId, step: String) -> Result<(), AppError> {
    let (state, user) = ssr::context()?;
    super::store::set_wizard_step(&state.db, &user.account_id, &id, &step)
        .await
        .map_err(ssr::stream_error)
}

#[server(prefix = "/api", endpoint = "streams/finish", input = server_fn::codec::Json)]
pub async fn finish_stream(id: StreamId) -> Result<CreatedStream, AppError> {
    let (state, user) = ssr::context()?;
    let stream = super::store::finish(&state.db, &user.account_id, &id)
        .await
        .map_err(ssr::stream_error)?;
    let token = super::store::reveal_token(&state.db, &state.secret_key, &user.account_id, &id)
        .await
        .map_err(ssr::stream_error)?;
    Ok(CreatedStream { stream, token })
}

#[server(prefix = "/api", endpoint = "streams/token", input = server_fn::codec::Json)]
pub async fn show_token(id: StreamId) -> Result<String, AppError> {
    let (state, user) = ssr::context()?;
    super::store::reveal_token(&state.db, &state.secret_key, &user.account_id, &id)
        .await
        .map_err(ssr::stream_error)
}

#[server(prefix = "/api", endpoint = "streams/reset-token", input = server_fn::codec::Json)]
pub async fn reset_token(id: StreamId) -> Result<String, AppError> {
    let (state, user) = ssr::context()?;
    super::store::reset_token(&state.db, &state.secret_key, &user.account_id, &id)
        .await
        .map_err(ssr::stream_error)
}

#[server(prefix = "/api", endpoint = "streams/action", input = server_fn::codec::Json)]
pub async fn apply_stream_action(id: StreamId, action: StreamAction) -> Result<(), AppError> {
    use super::store;

    let (state, user) = ssr::context()?;
    let (db, account) = (&state.db, &user.account_id);
    let done = match action {
        StreamAction::Enable => store::set_enabled(db, account, &id, true).await.map(drop),
        StreamAction::Disable => store::set_enabled(db, account, &id, false).await.map(drop),
        StreamAction::Restrict => store::set_restricted(db, account, &id, true)
            .await
            .map(drop),
        StreamAction::Unrestrict => store::set_restricted(db, account, &id, false)
            .await
            .map(drop),
        StreamAction::Delete => store::delete(db, account, &id).await,
    };
    done.map_err(ssr::stream_error)
}

#[server(prefix = "/api", endpoint = "streams/tags")]
pub async fn list_tags() -> Result<Vec<String>, AppError> {
    let (state, user) = ssr::context()?;
    super::store::tags(&state.db, &user.account_id)
        .await
        .map_err(ssr::internal)
}

#[server(prefix = "/api", endpoint = "sender-ids/list")]
pub async fn list_sender_ids() -> Result<Vec<String>, AppError> {
    let (state, user) = ssr::context()?;
    super::store::sender_ids(&state.db, &user.account_id)
        .await
        .map_err(ssr::internal)
}

#[server(prefix = "/api", endpoint = "sender-ids/add")]
pub async fn add_sender_id(value: String) -> Result<String, AppError> {
    let (state, user) = ssr::context()?;
    super::store::add_sender_id(&state.db, &user.account_id, &value)
        .await
        .map_err(ssr::stream_error)
}

#[server(prefix = "/api", endpoint = "sender-ids/delete")]
pub async fn delete_sender_id(value: String) -> Result<(), AppError> {
    let (state, user) = ssr::context()?;
    super::store::delete_sender_id(&state.db, &user.account_id, &value)
        .await
        .map_err(ssr::stream_error)
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use leptos::prelude::expect_context;

    use crate::{
        auth::{CurrentUser, ssr::require_user},
        error::AppError,
        state::AppState,
        streams::store::StreamError,
    };

    pub fn context() -> Result<(AppState, CurrentUser), AppError> {
        let user = require_user()?;
        Ok((expect_context::<AppState>(), user))
    }

    pub fn internal(error: impl std::fmt::Display) -> AppError {
        tracing::error!(%error, "stream storage failed");
        AppError::internal()
    }

    pub fn not_found() -> AppError {
        AppError::new(
            "stream_not_found",
            "This stream does not exist or was deleted.",
        )
    }

    pub fn stream_error(error: StreamError) -> AppError {
        match error {
            StreamError::Invalid(field) => AppError {
                code: field.code.into(),
                message: field.message,
                field: Some(field.field.into()),
            },
            StreamError::NotFound => not_found(),
            StreamError::Draft(_) => AppError::new("stream_is_draft", error.to_string()),
            StreamError::WrongKind(message) => AppError::new("wrong_stream_type", message),
            StreamError::Crypto(_) | StreamError::Db(_) => internal(error),
        }
    }
}
