//! The console's server functions for type-specific settings and test recipients.

use leptos::prelude::*;

use crate::ids::StreamId;

use super::settings::{
    EventInput, OtpSettings, StreamEvent, Webhook, WebhookInput, WhatsAppInput, WhatsAppSettings,
    WhatsAppTemplate,
};
#[cfg(feature = "ssr")]
use super::{
    api::ssr::{context, stream_error},
    settings_store as store,
};
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "streams/otp", input = server_fn::codec::Json)]
pub async fn get_otp_settings(id: StreamId) -> Result<OtpSettings, AppError> {
    let (state, user) = context()?;
    store::otp_settings(&state.db, &user.account_id, &id)
        .await
        .map_err(stream_error)
}

#[server(prefix = "/api", endpoint = "streams/otp/save", input = server_fn::codec::Json)]
pub async fn save_otp_settings(
    id: StreamId,
    settings: OtpSettings,
) -> Result<OtpSettings, AppError> {
    let (state, user) = context()?;
    store::save_otp_settings(&state.db, &user.account_id, &id, settings)
        .await
        .map_err(stream_error)
}

#[server(prefix = "/api", endpoint = "streams/events", input = server_fn::codec::Json)]
pub async fn list_events(id: StreamId) -> Result<Vec<StreamEvent>, AppError> {
    let (state, user) = context()?;
    store::events(&state.db, &user.account_id, &id)
        .await
        .map_err(stream_error)
}

/// Adds an event when `event_id` is None, else replaces that event.
#[server(prefix = "/api", endpoint = "streams/events/save", input = server_fn::codec::Json)]
pub async fn save_event(
    id: StreamId,
    event_id: Option<String>,
    input: EventInput,
) -> Result<StreamEvent, AppError> {
    let (state, user) = context()?;
    store::save_event(&state.db, &user.account_id, &id, event_id.as_deref(), input)
        .await
        .map_err(stream_error)
}

#[server(prefix = "/api", endpoint = "streams/events/delete", input = server_fn::codec::Json)]
pub async fn delete_event(id: StreamId, event_id: String) -> Result<(), AppError> {
    let (state, user) = context()?;
    store::delete_event(&state.db, &user.account_id, &id, &event_id)
        .await
        .map_err(stream_error)
}

#[server(prefix = "/api", endpoint = "streams/webhook", input = server_fn::codec::Json)]
pub async fn get_webhook(id: StreamId) -> Result<Option<Webhook>, AppError> {
    let (state, user) = context()?;
    store::webhook(&state.db, &user.account_id, &id)
        .await
        .map_err(stream_error)
}

#[server(prefix = "/api", endpoint = "streams/webhook/save", input = server_fn::codec::Json)]
pub async fn save_webhook(id: StreamId, input: WebhookInput) -> Result<Webhook, AppError> {
    let (state, user) = context()?;
    if let Err(blocked) = state.egress.check_saved_url(input.url.trim()).await {
        return Err(AppError {
            code: "address_not_allowed".into(),
            message: format!("{blocked}."),
            field: Some("url".into()),
        });
    }
    store::save_webhook(&state.db, &state.secret_key, &user.account_id, &id, input)
        .await
        .map_err(stream_error)
}

#[server(prefix = "/api", endpoint = "streams/webhook/delete", input = server_fn::codec::Json)]
pub async fn delete_webhook(id: StreamId) -> Result<(), AppError> {
    let (state, user) = context()?;
    store::delete_webhook(&state.db, &user.account_id, &id)
        .await
        .map_err(stream_error)
}

/// The webhook's signing secret; `rotate` issues a new one first.
#[server(prefix = "/api", endpoint = "streams/webhook/secret", input = server_fn::codec::Json)]
pub async fn webhook_secret(id: StreamId, rotate: bool) -> Result<String, AppError> {
    let (state, user) = context()?;
    store::webhook_signing_secret(&state.db, &state.secret_key, &user.account_id, &id, rotate)
        .await
        .map_err(stream_error)
}

#[server(prefix = "/api", endpoint = "streams/whatsapp", input = server_fn::codec::Json)]
pub async fn get_whatsapp(id: StreamId) -> Result<WhatsAppSettings, AppError> {
    let (state, user) = context()?;
    store::whatsapp_settings(&state.db, &user.account_id, &id)
        .await
        .map_err(stream_error)
}

#[server(prefix = "/api", endpoint = "streams/whatsapp/save", input = server_fn::codec::Json)]
pub async fn save_whatsapp(
    id: StreamId,
    input: WhatsAppInput,
) -> Result<WhatsAppSettings, AppError> {
    let (state, user) = context()?;
    store::save_whatsapp_settings(&state.db, &state.secret_key, &user.account_id, &id, input)
        .await
        .map_err(stream_error)
}

#[server(prefix = "/api", endpoint = "streams/whatsapp/templates/add", input = server_fn::codec::Json)]
pub async fn add_whatsapp_template(
    id: StreamId,
    template: WhatsAppTemplate,
) -> Result<WhatsAppTemplate, AppError> {
    let (state, user) = context()?;
    store::add_whatsapp_template(&state.db, &user.account_id, &id, template)
        .await
        .map_err(stream_error)
}

#[server(prefix = "/api", endpoint = "streams/whatsapp/templates/delete", input = server_fn::codec::Json)]
pub async fn delete_whatsapp_template(
    id: StreamId,
    name: String,
    language: String,
) -> Result<(), AppError> {
    let (state, user) = context()?;
    store::delete_whatsapp_template(&state.db, &user.account_id, &id, &name, &language)
        .await
        .map_err(stream_error)
}

/// Reads the Business Account's approved templates from Meta into the stream's list; answers
/// how many were added or changed.
#[server(prefix = "/api", endpoint = "streams/whatsapp/templates/sync", input = server_fn::codec::Json)]
pub async fn sync_whatsapp_templates(id: StreamId) -> Result<usize, AppError> {
    let (state, user) = context()?;
    let settings = store::whatsapp_settings(&state.db, &user.account_id, &id)
        .await
        .map_err(stream_error)?;
    let (token, _) = store::whatsapp_secrets(&state.db, &state.secret_key, &user.account_id, &id)
        .await
        .map_err(stream_error)?;
    let (Some(token), false) = (token, settings.business_account_id.is_empty()) else {
        return Err(AppError::new(
            "whatsapp_not_configured",
            "Save the Business Account ID and access token first.",
        ));
    };
    let templates = state
        .graph
        .templates(&settings.business_account_id, &token)
        .await
        .map_err(|error| {
            AppError::new(
                "meta_error",
                format!("Meta refused to list the templates: {error}"),
            )
        })?;
    store::merge_whatsapp_templates(&state.db, &user.account_id, &id, &templates)
        .await
        .map_err(stream_error)
}

#[server(prefix = "/api", endpoint = "streams/recipients", input = server_fn::codec::Json)]
pub async fn list_test_recipients(id: StreamId) -> Result<Vec<String>, AppError> {
    let (state, user) = context()?;
    store::test_recipients(&state.db, &user.account_id, &id)
        .await
        .map_err(stream_error)
}

#[server(prefix = "/api", endpoint = "streams/recipients/add", input = server_fn::codec::Json)]
pub async fn add_test_recipient(id: StreamId, phone: String) -> Result<String, AppError> {
    let (state, user) = context()?;
    store::add_test_recipient(&state.db, &user.account_id, &id, &phone)
        .await
        .map_err(stream_error)
}

#[server(prefix = "/api", endpoint = "streams/recipients/remove", input = server_fn::codec::Json)]
pub async fn remove_test_recipient(id: StreamId, phone: String) -> Result<(), AppError> {
    let (state, user) = context()?;
    store::remove_test_recipient(&state.db, &user.account_id, &id, &phone)
        .await
        .map_err(stream_error)
}
