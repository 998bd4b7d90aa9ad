//! The console's server functions for connections and a stream's inbound addresses.

use leptos::prelude::*;

use crate::ids::StreamId;
use serde::{Deserialize, Serialize};

use super::{Connection, ConnectionInput};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::streams::api::ssr::{context, stream_error};

/// Where a stream's upstream calls back, with the secrets that prove the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundAddress {
    /// The path (on this server) for delivery reports and replies, its key included.
    pub path: String,
    /// Meta's "Verify token" for WhatsApp streams; empty for SMS streams.
    pub verify_token: String,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::crypto::SecretKey;

    /// The token Meta echoes when a stream's WhatsApp callback is registered.
    pub fn verify_token(key: &SecretKey, stream_id: &str) -> String {
        key.derive("whatsapp-verify", stream_id)
    }
}

#[server(prefix = "/api", endpoint = "connections", input = server_fn::codec::Json)]
pub async fn list_connections() -> Result<Vec<Connection>, AppError> {
    let (state, user) = context()?;
    super::store::list(&state.db, &user.account_id)
        .await
        .map_err(crate::streams::api::ssr::internal)
}

/// Adds a connection when `id` is None, else replaces that one.
#[server(prefix = "/api", endpoint = "connections/save", input = server_fn::codec::Json)]
pub async fn save_connection(
    id: Option<String>,
    input: ConnectionInput,
) -> Result<Connection, AppError> {
    let (state, user) = context()?;
    input
        .settings
        .check_egress(state.egress)
        .await
        .map_err(|field| stream_error(field.into()))?;
    super::store::save(
        &state.db,
        &state.secret_key,
        &user.account_id,
        id.as_deref(),
        input,
    )
    .await
    .map_err(stream_error)
}

#[server(prefix = "/api", endpoint = "connections/delete", input = server_fn::codec::Json)]
pub async fn delete_connection(id: String) -> Result<(), AppError> {
    let (state, user) = context()?;
    super::store::delete(&state.db, &user.account_id, &id)
        .await
        .map_err(stream_error)
}

/// Chooses the connection a stream's SMS go through; `None`: the account's default.
#[server(prefix = "/api", endpoint = "streams/connection", input = server_fn::codec::Json)]
pub async fn set_stream_connection(
    id: StreamId,
    connection_id: Option<String>,
) -> Result<(), AppError> {
    let (state, user) = context()?;
    super::store::set_stream_connection(
        &state.db,
        &user.account_id,
        &id,
        connection_id.as_deref().filter(|c| !c.is_empty()),
    )
    .await
    .map_err(stream_error)
}

#[server(prefix = "/api", endpoint = "streams/inbound", input = server_fn::codec::Json)]
pub async fn stream_inbound(id: StreamId) -> Result<InboundAddress, AppError> {
    use crate::streams::StreamKind;

    let (state, user) = context()?;
    let kind = crate::streams::settings_store::owned(&state.db, &user.account_id, &id, None)
        .await
        .map_err(stream_error)?;
    Ok(if kind == StreamKind::Whatsapp {
        InboundAddress {
            path: format!("/inbound/whatsapp/{id}"),
            verify_token: ssr::verify_token(&state.secret_key, &id),
        }
    } else {
        let key = crate::streams::store::inbound_key(&state.db, &state.secret_key, &id)
            .await
            .map_err(stream_error)?
            .unwrap_or_default();
        sms_address(&id, &key)
    })
}

/// Replaces an SMS stream's inbound key and answers its new address.
#[server(prefix = "/api", endpoint = "streams/inbound/rotate", input = server_fn::codec::Json)]
pub async fn rotate_inbound_key(id: StreamId) -> Result<InboundAddress, AppError> {
    let (state, user) = context()?;
    let key = crate::streams::store::rotate_inbound_key(
        &state.db,
        &state.secret_key,
        &user.account_id,
        &id,
    )
    .await
    .map_err(stream_error)?;
    Ok(sms_address(&id, &key))
}

#[cfg(feature = "ssr")]
fn sms_address(id: &str, key: &str) -> InboundAddress {
    InboundAddress {
        path: format!("/inbound/sms/{id}?key={key}"),
        verify_token: String::new(),
    }
}
