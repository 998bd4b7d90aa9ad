//! The side panel's WhatsApp tab: the Business Account, senders, token, Meta's callback and
//! templates.

mod meta_callback;
mod settings_form;
mod templates;

use self::{meta_callback::MetaCallback, settings_form::SettingsForm, templates::Templates};
use leptos::{prelude::*, task::spawn_local};

use crate::{
    components::{CopyField, Field, INPUT, TextField, Toasts, error_of},
    connections::api::InboundAddress,
    error::AppError,
    ids::StreamId,
    pages::streams::settings::{PRIMARY, SECONDARY, WhatsAppFields, WhatsAppForm, submit},
    streams::{
        settings::{WhatsAppSettings, WhatsAppTemplate},
        settings_api::{
            add_whatsapp_template, delete_whatsapp_template, get_whatsapp, save_whatsapp,
            sync_whatsapp_templates,
        },
    },
};

/// The WhatsApp stream's Business Account, senders, token, Meta's callback and templates.
#[component]
pub fn WhatsAppTab(
    id: StreamId,
    settings: WhatsAppSettings,
    inbound: InboundAddress,
) -> impl IntoView {
    view! {
        <SettingsForm id=id.clone() settings=settings.clone() />
        <MetaCallback inbound />
        <Templates id initial=settings.templates />
    }
}
