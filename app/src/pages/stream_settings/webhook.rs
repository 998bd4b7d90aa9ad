use leptos::prelude::*;

use crate::{
    components::{Field, INPUT, TextField, error_of},
    error::AppError,
    streams::settings::{WebhookHeader, WebhookInput, WebhookMethod},
};

/// One custom header row; `key` keeps rows apart while they are edited.
#[derive(Debug, Clone, Copy)]
struct HeaderRow {
    key: usize,
    name: RwSignal<String>,
    value: RwSignal<String>,
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
            .map(|(key, header)| HeaderRow {
                key,
                name: RwSignal::new(header.name),
                value: RwSignal::new(header.value),
            })
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
        self.headers.update(|rows| {
            rows.push(HeaderRow {
                key,
                name: RwSignal::new(String::new()),
                value: RwSignal::new(String::new()),
            })
        });
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
                        <li class="flex gap-2">
                            <input
                                aria-label="Header name"
                                placeholder="X-Api-Key"
                                bind:value=row.name
                                class="min-w-0 flex-1 rounded-md border border-slate-300 px-3 py-2 text-sm"
                            />
                            <input
                                aria-label="Header value"
                                placeholder="value"
                                bind:value=row.value
                                class="min-w-0 flex-1 rounded-md border border-slate-300 px-3 py-2 text-sm"
                            />
                            <button
                                type="button"
                                aria-label="Remove header"
                                class="rounded-md border border-slate-300 px-3 text-sm hover:bg-slate-50"
                                on:click=move |_| form.headers.update(|rows| rows.retain(|r| r.key != row.key))
                            >
                                "×"
                            </button>
                        </li>
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
