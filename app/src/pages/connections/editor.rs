//! The add/edit form: its kind and name, the fields of that kind, whether it is the default.

use leptos::prelude::*;

use super::{
    ConnectionForm, form::DraftStoreFields, http_fields::HttpFields, smpp_fields::SmppFields,
};
use crate::{
    components::{Field, INPUT, TextField},
    error::AppError,
};

/// The add/edit form.
#[component]
pub(super) fn ConnectionEditor(
    form: ConnectionForm,
    error: RwSignal<Option<AppError>>,
    on_save: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let no_error = Signal::stored(None::<String>);
    view! {
        <form
            class="mb-6 space-y-5 rounded-xl border border-slate-200 bg-white p-5"
            aria-label="Connection"
            on:submit=move |event| {
                event.prevent_default();
                on_save.run(());
            }
        >
            <h2 class="text-base font-semibold">
                {move || if form.editing.get().is_some() { "Edit connection" } else { "New connection" }}
            </h2>
            <div class="grid gap-4 sm:grid-cols-4">
                <Field id="connection-kind" label="Kind" error=no_error>
                    <select
                        id="connection-kind"
                        class=INPUT
                        prop:value=move || if form.draft.smpp().get() { "smpp" } else { "http" }
                        on:change=move |event| form.draft.smpp().set(event_target_value(&event) == "smpp")
                    >
                        <option value="http">"HTTP API"</option>
                        <option value="smpp">"SMPP (SMSC)"</option>
                    </select>
                </Field>
                <div class="sm:col-span-3">
                    <TextField id="connection-name" label="Name" value=form.draft.name() error field="name" placeholder="My SMS provider" />
                </div>
            </div>
            <Show when=move || form.draft.smpp().get() fallback=move || view! { <HttpFields form error /> }>
                <SmppFields form error />
            </Show>
            <label class="flex items-center gap-2 text-sm font-medium text-slate-700">
                <input type="checkbox" bind:checked=form.draft.is_default() class="h-4 w-4" />
                "The account's default connection"
            </label>
            <div class="flex gap-2">
                <button type="submit" class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500">
                    "Save connection"
                </button>
                <button
                    type="button"
                    class="rounded-md border border-slate-300 px-4 py-2 text-sm font-medium hover:bg-slate-50"
                    on:click=move |_| on_cancel.run(())
                >
                    "Cancel"
                </button>
            </div>
        </form>
    }
}
