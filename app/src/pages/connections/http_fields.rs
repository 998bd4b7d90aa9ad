//! The fields of an HTTP provider's connection, its callbacks' field names folded away.

use leptos::prelude::*;

use super::{ConnectionForm, form::DraftStoreFields};
use crate::{
    components::{Field, INPUT, TextField},
    connections::{BodyFormat, HttpSettingsStoreFields, InboundFieldsStoreFields},
    error::AppError,
    streams::settings::WebhookMethod,
};

/// The fields of the folded "Delivery reports and replies" section.
const INBOUND_FIELDS: [&str; 11] = [
    "report_id",
    "report_status",
    "delivered_values",
    "undelivered_values",
    "from",
    "to",
    "text",
    "message_id",
    "part_reference",
    "part_total",
    "part_number",
];

/// The provider's send request, auth and how its callbacks read.
#[component]
pub(super) fn HttpFields(form: ConnectionForm, error: RwSignal<Option<AppError>>) -> impl IntoView {
    let no_error = Signal::stored(None::<String>);
    let http = form.draft.http_settings();
    let secret_hint = move || {
        if form.has_secret.get() {
            "Stored encrypted. Leave empty to keep it."
        } else {
            "Sent as the header's value, such as Bearer sk_live_…; stored encrypted."
        }
    };
    let body_error = crate::components::error_of(error, "body_template");
    // An error in the folded section unfolds it.
    let details = NodeRef::<leptos::html::Details>::new();
    Effect::new(move |_| {
        let inbound = error
            .get()
            .and_then(|e| e.field)
            .is_some_and(|field| INBOUND_FIELDS.contains(&field.as_str()));
        if let (true, Some(details)) = (inbound, details.get()) {
            details.set_open(true);
        }
    });
    view! {
            <div class="grid gap-4 sm:grid-cols-4">
                <Field id="connection-method" label="Method" error=no_error>
                    <select
                        id="connection-method"
                        class=INPUT
                        prop:value=move || http.method().get().as_str()
                        on:change=move |event| {
                            if let Some(method) = WebhookMethod::parse(&event_target_value(&event)) {
                                http.method().set(method);
                            }
                        }
                    >
                        <option value="POST">"POST"</option>
                        <option value="GET">"GET"</option>
                    </select>
                </Field>
                <div class="sm:col-span-3">
                    <TextField
                        id="connection-url"
                        label="Send URL"
                        value=http.url()
                        error
                        field="url"
                        placeholder="https://api.example.com/sms"
                        hint="{to}, {from}, {text} and {message_id} are replaced for each message."
                    />
                </div>
            </div>
            <Show when=move || http.method().get() == WebhookMethod::Post>
                <div class="grid gap-4 sm:grid-cols-4">
                    <Field id="connection-format" label="Body format" error=no_error>
                        <select
                            id="connection-format"
                            class=INPUT
                            prop:value=move || http.body_format().get().as_str()
                            on:change=move |event| {
                                if let Some(format) = BodyFormat::parse(&event_target_value(&event)) {
                                    http.body_format().set(format);
                                }
                            }
                        >
                            <option value="json">"JSON"</option>
                            <option value="form">"Form (URL-encoded)"</option>
                        </select>
                    </Field>
                    <div class="sm:col-span-3">
                        <Field id="connection-body" label="Body template" error=body_error>
                            <textarea
                                id="connection-body"
                                rows="3"
                                class=format!("{INPUT} font-mono")
                                bind:value=http.body_template()
                                aria-invalid=move || body_error.get().is_some().then_some("true")
                            />
                        </Field>
                    </div>
                </div>
            </Show>
            <div class="grid gap-4 sm:grid-cols-2">
                <TextField id="connection-auth-header" label="Auth header" value=http.auth_header() error field="auth_header" placeholder="Authorization" />
                <Field id="connection-secret" label="Auth header value" error=crate::components::error_of(error, "secret")>
                    <input id="connection-secret" type="password" autocomplete="off" class=INPUT bind:value=form.draft.secret() />
                    <p class="mt-1 text-xs text-slate-500">{secret_hint}</p>
                </Field>
            </div>
            <TextField
                id="connection-id-pointer"
                label="Message id in the answer"
                value=http.id_pointer()
                error
                field="id_pointer"
                placeholder="/id"
                hint="A JSON Pointer such as /id or /messages/0/id: delivery reports name messages by it."
            />
            <details node_ref=details class="rounded-md border border-slate-200 p-3">
                <summary class="cursor-pointer text-sm font-medium text-slate-700">"Delivery reports and replies: the provider's field names"</summary>
                <div class="mt-3 grid gap-4 sm:grid-cols-2">
                    <TextField id="inbound-report-id" label="Report: message id" value=http.inbound().report_id() error field="report_id" />
                    <TextField id="inbound-report-status" label="Report: status" value=http.inbound().report_status() error field="report_status" />
                    <TextField id="inbound-delivered" label="Statuses meaning delivered" value=http.inbound().delivered_values() error field="delivered_values" />
                    <TextField id="inbound-undelivered" label="Statuses meaning undelivered" value=http.inbound().undelivered_values() error field="undelivered_values" />
                    <TextField id="inbound-from" label="Reply: from" value=http.inbound().from() error field="from" />
                    <TextField id="inbound-to" label="Reply: to" value=http.inbound().to() error field="to" />
                    <TextField id="inbound-text" label="Reply: text" value=http.inbound().text() error field="text" />
                    <TextField id="inbound-message-id" label="Reply: message id" value=http.inbound().message_id() error field="message_id" />
                    <TextField id="inbound-part-ref" label="Long reply: shared reference" value=http.inbound().part_reference() error field="part_reference" />
                    <TextField id="inbound-part-total" label="Long reply: number of parts" value=http.inbound().part_total() error field="part_total" />
                    <TextField id="inbound-part-number" label="Long reply: part number" value=http.inbound().part_number() error field="part_number" />
                </div>
            </details>
    }
}
