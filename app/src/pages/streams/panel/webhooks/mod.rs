//! The side panel's Webhooks tab: the webhook's endpoint, headers and signing secret.

mod webhook_editor;
use self::webhook_editor::WebhookEditor;
use leptos::{prelude::*, task::spawn_local};

use super::webhook_log::WebhookLog;
use crate::{
    components::{ConfirmDialog, CopyButton, Toasts},
    error::AppError,
    ids::StreamId,
    pages::streams::settings::{
        PRIMARY, SECONDARY, WebhookFields, WebhookForm, WebhookRequestPreview, submit,
    },
    streams::{
        StreamKind,
        settings::Webhook,
        settings_api::{delete_webhook, save_webhook, webhook_secret},
    },
};

/// The stream's webhook (its messages' status changes, and incoming messages on Two-way and
/// WhatsApp streams): endpoint, headers, signing secret and the request it gets.
#[component]
pub fn WebhooksTab(id: StreamId, kind: StreamKind, webhook: Option<Webhook>) -> impl IntoView {
    let exists = RwSignal::new(webhook.is_some());
    let form = WebhookForm::new(webhook.map(|w| w.input).unwrap_or_default());
    view! { <WebhookEditor id kind form exists /> }
}
