//! The `NewKeyForm` component: name, sites, permissions and expiry of a new key.

use super::*;

/// The expiry choices: days, or none.
const EXPIRIES: [(&str, &str); 5] = [
    ("", "Never"),
    ("7", "In 7 days"),
    ("30", "In 30 days"),
    ("90", "In 90 days"),
    ("365", "In a year"),
];

#[component]
pub(super) fn NewKeyForm(
    id: StreamId,
    created: RwSignal<Option<CreatedKey>>,
    keys: RwSignal<Vec<EmbedKey>>,
) -> impl IntoView {
    let stream_id = StoredValue::new(id);
    let (busy, error) = (RwSignal::new(false), RwSignal::new(None::<AppError>));
    let name = RwSignal::new(String::new());
    let origins = RwSignal::new(String::new());
    let can_send = RwSignal::new(false);
    let shows_numbers = RwSignal::new(false);
    let expiry = RwSignal::new(String::new());
    let create = move |_| {
        let input = EmbedKeyInput {
            name: name.get_untracked(),
            origins: origins
                .get_untracked()
                .lines()
                .map(str::to_string)
                .collect(),
            can_send: can_send.get_untracked(),
            shows_numbers: shows_numbers.get_untracked(),
            expires_in_days: expiry.get_untracked().parse().ok(),
        };
        submit(
            busy,
            error,
            create_embed_key(stream_id.get_value(), input),
            move |key| {
                name.set(String::new());
                origins.set(String::new());
                keys.update(|keys| keys.insert(0, key.info.clone()));
                created.set(Some(key));
            },
        );
    };
    view! {
        <section class="mt-6 rounded-lg border border-slate-200 p-4" aria-labelledby="new-key-title">
            <h3 id="new-key-title" class="mb-4 text-sm font-semibold text-slate-900">"New embed key"</h3>
            <div class="space-y-4">
                <TextField id="embed-name" label="Name" hint="Where the widgets go, such as Support dashboard." value=name error field="name" />
                <Field id="embed-origins" label="Allowed sites" hint="One per line: the scheme, host and port of each page that shows the widgets." error=error_of(error, "origins")>
                    <textarea id="embed-origins" rows="2" bind:value=origins placeholder="https://tools.example.com" class=INPUT></textarea>
                </Field>
                <label class="flex items-center gap-2 text-sm font-medium text-slate-700">
                    <input type="checkbox" bind:checked=can_send class="h-4 w-4" />
                    "Allow test sends (the send widget)"
                </label>
                <label class="flex items-center gap-2 text-sm font-medium text-slate-700">
                    <input type="checkbox" bind:checked=shows_numbers class="h-4 w-4" />
                    "Show whole phone numbers"
                </label>
                <Field id="embed-expiry" label="Expires" error=error_of(error, "expires_in_days")>
                    <select id="embed-expiry" class=INPUT on:change=move |event| expiry.set(event_target_value(&event))>
                        {EXPIRIES.into_iter().map(|(days, label)| view! { <option value=days>{label}</option> }).collect_view()}
                    </select>
                </Field>
            </div>
            <div class="mt-4 flex justify-end">
                <button type="button" class=PRIMARY disabled=move || busy.get() on:click=create>"Create embed key"</button>
            </div>
        </section>
    }
}
