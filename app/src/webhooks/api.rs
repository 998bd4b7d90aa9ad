//! The Webhooks tab's server functions: the delivery log, *Retry* and *Test webhook*.

use leptos::prelude::*;

use crate::ids::StreamId;

use super::Delivery;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::streams::api::ssr::{context, stream_error};

/// How many deliveries the log shows.
#[cfg(feature = "ssr")]
const LOG_SIZE: i64 = 20;

#[server(prefix = "/api", endpoint = "streams/webhook/deliveries", input = server_fn::codec::Json)]
pub async fn webhook_deliveries(id: StreamId) -> Result<Vec<Delivery>, AppError> {
    let (state, user) = context()?;
    super::store::recent(&state.db, &user.account_id, &id, LOG_SIZE)
        .await
        .map_err(stream_error)
}

#[server(prefix = "/api", endpoint = "streams/webhook/retry", input = server_fn::codec::Json)]
pub async fn retry_webhook_delivery(id: StreamId, delivery: String) -> Result<(), AppError> {
    let (state, user) = context()?;
    super::store::retry(&state.db, &user.account_id, &id, &delivery)
        .await
        .map_err(stream_error)?;
    state.webhook_wake.notify_waiters();
    Ok(())
}

#[server(prefix = "/api", endpoint = "streams/webhook/test", input = server_fn::codec::Json)]
pub async fn test_webhook(id: StreamId) -> Result<String, AppError> {
    let (state, user) = context()?;
    let queued = super::store::enqueue_test(&state.db, &user.account_id, &id)
        .await
        .map_err(stream_error)?;
    state.webhook_wake.notify_waiters();
    queued.ok_or_else(|| {
        AppError::new(
            "webhook_disabled",
            "This stream has no enabled webhook: save one first.",
        )
    })
}
