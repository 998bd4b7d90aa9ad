//! The Create New Stream wizard, also used to edit a stream or resume a draft.

mod edit_stream_page;
mod stream_wizard;
mod wizard_loader;

pub use self::edit_stream_page::EditStreamPage;
use self::{stream_wizard::StreamWizard, wizard_loader::WizardLoader};

mod chips_input;
mod details_step;
mod state;
mod summary_step;

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

pub use self::{chips_input::ChipsInput, details_step::DetailsStep, state::WizardState};
use self::{
    state::{StoredSettings, steps},
    summary_step::SummaryStep,
};
use crate::{
    components::{Toasts, TokenDialog},
    error::AppError,
    ids::StreamId,
    pages::streams::settings::{OtpFields, WebhookFields, WhatsAppFields},
    streams::{
        Stream, StreamKind, StreamStatus,
        api::{
            CreatedStream, create_stream, finish_stream, get_stream, list_sender_ids, list_tags,
            save_wizard_step, update_stream,
        },
        settings_api::{delete_webhook, save_otp_settings, save_webhook, save_whatsapp},
    },
};

/// Everything the wizard starts from, fetched in one resource so that a page loaded directly
/// hydrates without nested suspense.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct WizardData {
    kind: StreamKind,
    existing: Option<Stream>,
    tags: Vec<String>,
    sender_ids: Vec<String>,
    settings: StoredSettings,
}

impl WizardData {
    async fn load(kind: StreamKind, existing: Option<Stream>) -> Result<Self, AppError> {
        let id = existing.as_ref().map(|stream| stream.id.clone());
        Ok(Self {
            kind,
            tags: list_tags().await?,
            sender_ids: list_sender_ids().await?,
            settings: StoredSettings::load(kind, id).await?,
            existing,
        })
    }
}

/// `/streams/new?type=<kind>`
#[component]
pub fn NewStreamPage() -> impl IntoView {
    let query = use_query_map();
    let kind = query
        .read_untracked()
        .get("type")
        .and_then(|kind| kind.parse::<StreamKind>().ok());
    match kind {
        Some(kind) => {
            let data = Resource::new(|| (), move |_| WizardData::load(kind, None));
            view! { <WizardLoader data /> }.into_any()
        }
        None => view! {
            <Title text="Create New Stream" />
            <div role="alert" class="rounded-lg border border-amber-200 bg-amber-50 p-4 text-sm text-amber-900">
                "Choose a stream type first. "
                <a href="/streams" class="font-medium underline">"Back to Streams API"</a>
            </div>
        }
        .into_any(),
    }
}
