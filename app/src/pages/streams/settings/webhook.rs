use leptos::prelude::*;

use crate::{
    components::{Field, INPUT, TextField, error_of},
    error::AppError,
    streams::settings::{WebhookHeader, WebhookInput, WebhookMethod},
};

/// One custom header row; `key` keeps rows apart while they are edited. Its signals are
/// reference-counted: they live as long as the form, not as the view that added them.
#[derive(Debug, Clone)]
struct HeaderRow {
    key: usize,
    name: ArcRwSignal<String>,
    value: ArcRwSignal<String>,
}

impl HeaderRow {
    fn new(key: usize, header: WebhookHeader) -> Self {
        Self {
            key,
            name: ArcRwSignal::new(header.name),
            value: ArcRwSignal::new(header.value),
        }
    }
}

/// The incoming-messages webhook being edited.
#[derive(Debug, Clone, Copy)]
pub struct WebhookForm {
    pub method: RwSignal<WebhookMethod>,
    pub url: RwSignal<String>,
    pub enabled: RwSignal<bool>,
    headers: RwSignal<Vec<HeaderRow>>,
    next_key: StoredValue<usize>,
}

impl WebhookForm {
    pub fn new(input: WebhookInput) -> Self {
        let rows = input
            .headers
            .into_iter()
            .enumerate()
            .map(|(key, header)| HeaderRow::new(key, header))
            .collect::<Vec<_>>();
        Self {
            method: RwSignal::new(input.method),
            url: RwSignal::new(input.url),
            enabled: RwSignal::new(input.enabled),
            next_key: StoredValue::new(rows.len()),
            headers: RwSignal::new(rows),
        }
    }

    /// Nothing typed: the optional step is skipped.
    pub fn is_empty(&self) -> bool {
        self.url.get_untracked().trim().is_empty()
    }

    pub fn input(&self) -> WebhookInput {
        WebhookInput {
            method: self.method.get_untracked(),
            url: self.url.get_untracked(),
            headers: self
                .headers
                .get_untracked()
                .iter()
                .map(|row| WebhookHeader {
                    name: row.name.get_untracked(),
                    value: row.value.get_untracked(),
                })
                .collect(),
            enabled: self.enabled.get_untracked(),
        }
    }

    fn add_header(&self) {
        let key = self.next_key.get_value();
        self.next_key.set_value(key + 1);
        self.headers
            .update(|rows| rows.push(HeaderRow::new(key, WebhookHeader::default())));
    }
}

/// Method, URL, custom headers and the enabled switch.
#[component]
pub fn WebhookFields(form: WebhookForm, error: RwSignal<Option<AppError>>) -> impl IntoView {
    let headers_error = error_of(error, "headers");
    view! {
        <div class="space-y-5" data-testid="webhook-settings">
            <div class="grid gap-4 sm:grid-cols-4">
                <Field id="webhook-method" label="Method" error=Signal::stored(None::<String>)>
                    <select
                        id="webhook-method"
                        class=INPUT
                        prop:value=move || form.method.get().as_str()
                        on:change=move |event| {
                            if let Some(method) = WebhookMethod::parse(&event_target_value(&event)) {
                                form.method.set(method);
                            }
                        }
                    >
                        <option value="POST">"POST (JSON body)"</option>
                        <option value="GET">"GET (query parameters)"</option>
                    </select>
                </Field>
                <div class="sm:col-span-3">
                    <TextField
                        id="webhook-url"
                        label="Webhook URL"
                        value=form.url
                        error
                        field="url"
                        kind="url"
                        placeholder="https://example.com/sluice/inbound"
                    />
                </div>
            </div>
            <fieldset>
                <legend class="mb-2 text-sm font-medium text-slate-700">"Custom headers"</legend>
                <ul class="space-y-2" aria-label="Custom headers">
                    <For each=move || form.headers.get() key=|row| row.key let:row>
                        {
                            let HeaderRow { key, name, value } = row;
                            let (show_name, show_value) = (name.clone(), value.clone());
                            view! {
                                <li class="flex gap-2">
                                    <input
                                        aria-label="Header name"
                                        placeholder="X-Api-Key"
                                        prop:value=move || show_name.get()
                                        on:input=move |event| name.set(event_target_value(&event))
                                        class="min-w-0 flex-1 rounded-md border border-slate-300 px-3 py-2 text-sm"
                                    />
                                    <input
                                        aria-label="Header value"
                                        placeholder="value"
                                        prop:value=move || show_value.get()
                                        on:input=move |event| value.set(event_target_value(&event))
                                        class="min-w-0 flex-1 rounded-md border border-slate-300 px-3 py-2 text-sm"
                                    />
                                    <button
                                        type="button"
                                        aria-label="Remove header"
                                        class="rounded-md border border-slate-300 px-3 text-sm hover:bg-slate-50"
                                        on:click=move |_| form.headers.update(|rows| rows.retain(|r| r.key != key))
                                    >
                                        "×"
                                    </button>
                                </li>
                            }
                        }
                    </For>
                </ul>
                <button
                    type="button"
                    class="mt-2 rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-50"
                    on:click=move |_| form.add_header()
                >
                    "Add header"
                </button>
                {move || headers_error.get().map(|message| view! { <p class="mt-1 text-sm text-red-700" role="alert">{message}</p> })}
            </fieldset>
            <label class="flex items-center gap-2 text-sm font-medium text-slate-700">
                <input type="checkbox" bind:checked=form.enabled class="h-4 w-4" />
                "Forward incoming messages to this webhook"
            </label>
        </div>
    }
}
