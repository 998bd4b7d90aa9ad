//! The fields of an SMPP connection.

use leptos::prelude::*;

use super::{ConnectionForm, form::DraftStoreFields};
use crate::{
    components::{Field, INPUT, TextField},
    connections::{BindMode, SmppSettingsStoreFields},
    error::AppError,
};

/// The SMSC's address, credentials and session.
#[component]
pub(super) fn SmppFields(form: ConnectionForm, error: RwSignal<Option<AppError>>) -> impl IntoView {
    let no_error = Signal::stored(None::<String>);
    let smpp = form.draft.smpp_settings();
    let password_hint = move || {
        if form.has_secret.get() {
            "Stored encrypted. Leave empty to keep it."
        } else {
            "Stored encrypted."
        }
    };
    view! {
        <div class="grid gap-4 sm:grid-cols-4">
            <div class="sm:col-span-3">
                <TextField id="smpp-host" label="Host" value=smpp.host() error field="host" placeholder="smsc.example.com" />
            </div>
            <TextField id="smpp-port" label="Port" value=form.port error field="port" inputmode="numeric" />
        </div>
        <div class="grid gap-4 sm:grid-cols-3">
            <TextField id="smpp-system-id" label="System ID" value=smpp.system_id() error field="system_id" />
            <Field id="smpp-password" label="Password" error=crate::components::error_of(error, "secret")>
                <input id="smpp-password" type="password" autocomplete="off" class=INPUT bind:value=form.draft.secret() />
                <p class="mt-1 text-xs text-slate-500">{password_hint}</p>
            </Field>
            <TextField id="smpp-system-type" label="System type" value=smpp.system_type() error field="system_type" hint="Usually empty." />
        </div>
        <div class="grid gap-4 sm:grid-cols-3">
            <Field id="smpp-bind" label="Bind mode" error=no_error>
                <select
                    id="smpp-bind"
                    class=INPUT
                    prop:value=move || smpp.bind_mode().get().as_str()
                    on:change=move |event| {
                        if let Some(mode) = BindMode::parse(&event_target_value(&event)) {
                            smpp.bind_mode().set(mode);
                        }
                    }
                >
                    <option value="transceiver">"Transceiver (send and receive)"</option>
                    <option value="transmitter">"Transmitter (send only)"</option>
                </select>
            </Field>
            <TextField
                id="smpp-max-rate"
                label="Throughput limit (messages/s)"
                value=form.max_rate
                error
                field="max_rate"
                inputmode="numeric"
                hint="0: as fast as the SMSC answers."
            />
            <label class="mt-7 flex items-center gap-2 text-sm font-medium text-slate-700">
                <input type="checkbox" bind:checked=smpp.tls() class="h-4 w-4" />
                "TLS"
            </label>
        </div>
    }
}
