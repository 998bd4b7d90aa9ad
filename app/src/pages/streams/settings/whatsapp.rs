use leptos::prelude::*;

use crate::{
    components::{TextField, error_of},
    error::AppError,
    pages::streams::wizard::ChipsInput,
    streams::settings::{WhatsAppInput, WhatsAppSettings, parse_meta_id},
};

/// The WhatsApp settings being edited. Secrets start empty: typing one replaces the stored one.
#[derive(Debug, Clone, Copy)]
pub struct WhatsAppForm {
    pub business_account_id: RwSignal<String>,
    pub phone_number_ids: RwSignal<Vec<String>>,
    pub access_token: RwSignal<String>,
    pub app_secret: RwSignal<String>,
    pub has_access_token: RwSignal<bool>,
    pub has_app_secret: RwSignal<bool>,
}

impl WhatsAppForm {
    pub fn new(settings: &WhatsAppSettings) -> Self {
        Self {
            business_account_id: RwSignal::new(settings.business_account_id.clone()),
            phone_number_ids: RwSignal::new(settings.phone_number_ids.clone()),
            access_token: RwSignal::new(String::new()),
            app_secret: RwSignal::new(String::new()),
            has_access_token: RwSignal::new(settings.has_access_token),
            has_app_secret: RwSignal::new(settings.has_app_secret),
        }
    }

    pub fn input(&self) -> WhatsAppInput {
        let secret =
            |value: RwSignal<String>| Some(value.get_untracked()).filter(|v| !v.trim().is_empty());
        WhatsAppInput {
            business_account_id: self.business_account_id.get_untracked(),
            phone_number_ids: self.phone_number_ids.get_untracked(),
            access_token: secret(self.access_token),
            app_secret: secret(self.app_secret),
        }
    }

    /// After a save: the secrets are stored and the inputs empty again.
    pub fn saved(&self, settings: &WhatsAppSettings) {
        self.access_token.set(String::new());
        self.app_secret.set(String::new());
        self.has_access_token.set(settings.has_access_token);
        self.has_app_secret.set(settings.has_app_secret);
    }
}

/// Business Account ID, phone-number IDs (the senders), access token and app secret.
#[component]
pub fn WhatsAppFields(form: WhatsAppForm, error: RwSignal<Option<AppError>>) -> impl IntoView {
    let secret_hint = |stored: RwSignal<bool>| {
        move || {
            if stored.get() {
                "Stored encrypted. Leave empty to keep it, or paste a new value to replace it."
            } else {
                "Not set yet. Stored encrypted; never shown again."
            }
        }
    };
    view! {
        <div class="space-y-5" data-testid="whatsapp-settings">
            <TextField
                id="business-account-id"
                label="WhatsApp Business Account ID"
                value=form.business_account_id
                error
                field="business_account_id"
                inputmode="numeric"
                placeholder="102290129340398"
            />
            <ChipsInput
                id="phone-number-id"
                label="Phone-number IDs (senders)"
                list_label="Phone-number IDs"
                add_label="Add"
                placeholder="106540352242922"
                values=form.phone_number_ids
                parse=|text| parse_meta_id("phone_number_ids", "phone-number ID", text)
                server_error=error_of(error, "phone_number_ids")
            />
            <div>
                <TextField id="access-token" label="Permanent access token" value=form.access_token error field="access_token" kind="password" />
                <p class="mt-1 text-xs text-slate-500">{secret_hint(form.has_access_token)}</p>
            </div>
            <div>
                <TextField id="app-secret" label="App secret (checks inbound signatures)" value=form.app_secret error field="app_secret" kind="password" />
                <p class="mt-1 text-xs text-slate-500">{secret_hint(form.has_app_secret)}</p>
            </div>
        </div>
    }
}
