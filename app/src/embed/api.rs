//! Server functions: the Embed tab's keys (a signed-in owner's), and a widget's snapshot (the
//! key's stream only).

use leptos::prelude::*;

use super::{Closed, CreatedKey, EmbedKey, EmbedKeyInput, Snapshot};
#[cfg(feature = "ssr")]
use crate::{
    embed::{Widget, snippet, store, widget_url},
    streams::api::ssr::{context, internal, stream_error},
};
use crate::{
    error::AppError,
    ids::{EmbedKeyId, StreamId},
};

#[server(prefix = "/api", endpoint = "embed/keys", input = server_fn::codec::Json)]
pub async fn embed_keys(id: StreamId) -> Result<Vec<EmbedKey>, AppError> {
    let (state, user) = context()?;
    store::list(&state.db, &user.account_id, &id)
        .await
        .map_err(stream_error)
}

#[server(prefix = "/api", endpoint = "embed/keys/create", input = server_fn::codec::Json)]
pub async fn create_embed_key(id: StreamId, input: EmbedKeyInput) -> Result<CreatedKey, AppError> {
    let (state, user) = context()?;
    let (info, key) = store::create(&state.db, &user.account_id, &id, input)
        .await
        .map_err(stream_error)?;
    Ok(CreatedKey {
        url: widget_url(&state.public_url, Widget::Stats, &key),
        snippet: snippet(&state.public_url, &key, info.can_send),
        info,
        key,
    })
}

/// Answers when the key was revoked.
#[server(prefix = "/api", endpoint = "embed/keys/revoke", input = server_fn::codec::Json)]
pub async fn revoke_embed_key(key_id: EmbedKeyId) -> Result<i64, AppError> {
    let (state, user) = context()?;
    store::revoke(&state.db, &user.account_id, store::KeyRef::Id(&key_id))
        .await
        .map_err(stream_error)
}

/// What a widget shows for `key`, or why it shows nothing. Needs no session: the key is the
/// credential, and it opens one stream.
#[server(prefix = "/api", endpoint = "embed/snapshot", input = server_fn::codec::Json)]
pub async fn widget_snapshot(key: String) -> Result<Result<Snapshot, Closed>, AppError> {
    let state = expect_context::<crate::state::AppState>();
    let access = match store::open(&state.db, &key).await.map_err(internal)? {
        Ok(access) => access,
        Err(closed) => return Ok(Err(closed)),
    };
    let snapshot = store::snapshot(&state.db, &access)
        .await
        .map_err(internal)?;
    Ok(Ok(snapshot))
}
