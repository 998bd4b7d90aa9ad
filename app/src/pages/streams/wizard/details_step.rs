use leptos::prelude::*;

use super::{
    chips_input::ChipsInput,
    state::{CUSTOMIZED, NEW_SENDER, WizardState},
};
use crate::{
    components::{Field, INPUT, TextField, error_of},
    streams::{parse_cidr, parse_tag},
};

/// Step 1: name, description, IP ACL, tags, default sender, demo sending.
#[component]
pub fn DetailsStep(
    state: WizardState,
    tags: Vec<String>,
    sender_ids: Vec<String>,
) -> impl IntoView {
    view! {
        <div class="space-y-5">
            <TextField id="name" label="Stream API name" value=state.name error=state.error field="name" />
            <Field id="description" label="Stream API description" error=error_of(state.error, "description")>
                <textarea id="description" rows="3" bind:value=state.description class=INPUT></textarea>
            </Field>
            <div class="rounded-lg border border-slate-200 p-4">
                <label class="flex items-center gap-2 text-sm font-medium text-slate-700">
                    <input type="checkbox" bind:checked=state.ip_acl_enabled class="h-4 w-4" />
                    "Enable IP ACL"
                </label>
                <p class="mt-1 text-xs text-slate-500">"Only these addresses may call the stream's API."</p>
                <Show when=move || state.ip_acl_enabled.get()>
                    <div class="mt-3">
                        <ChipsInput
                            id="add-ip"
                            label="Add IP"
                            list_label="Allowed IP addresses"
                            add_label="Add"
                            placeholder="203.0.113.7 or 10.0.0.0/8"
                            values=state.allowed_ips
                            parse=|text| parse_cidr(text).map(|net| net.to_string())
                            server_error=error_of(state.error, "allowed_ips")
                        />
                    </div>
                </Show>
            </div>
            <ChipsInput
                id="add-tag"
                label="Tags"
                list_label="Selected tags"
                add_label="Add tag"
                placeholder="Type a tag, or pick one"
                values=state.tags
                parse=parse_tag
                suggestions=tags
                server_error=error_of(state.error, "tags")
            />
            <Field id="default-sender" label="Default sender" error=error_of(state.error, "sender")>
                <select
                    id="default-sender"
                    class=INPUT
                    on:change=move |event| state.sender_choice.set(event_target_value(&event))
                    prop:value=move || state.sender_choice.get()
                >
                    <option value=CUSTOMIZED>"Customized (choose the sender in each request)"</option>
                    {sender_ids
                        .into_iter()
                        .map(|sender| view! { <option value=sender.clone()>{sender.clone()}</option> })
                        .collect_view()}
                    <option value=NEW_SENDER>"Add a new sender ID…"</option>
                </select>
                <Show when=move || state.sender_choice.get() == NEW_SENDER>
                    <label for="new-sender" class="mt-3 mb-1 block text-sm font-medium text-slate-700">"New sender ID"</label>
                    <input id="new-sender" bind:value=state.new_sender placeholder="Acme or 447700900123" class=INPUT />
                </Show>
            </Field>
            <TextField
                id="max-rate"
                label="Throughput limit (messages per second)"
                value=state.max_rate
                error=state.error
                field="max_rate"
                hint="Messages beyond it wait their turn in the queue. Empty: as fast as the channel takes them."
                placeholder="No limit"
                inputmode="numeric"
            />
            <TextField
                id="allowed-countries"
                label="Destination countries"
                value=state.countries
                error=state.error
                field="allowed_countries"
                hint="Calling codes this stream may send to, such as +44, +1. Others are refused (country_not_allowed), which stops SMS pumping to costly destinations. Empty: every country."
                placeholder="Every country"
            />
            <label class="flex items-start gap-2 rounded-lg border border-slate-200 p-4 text-sm">
                <input type="checkbox" bind:checked=state.demo class="mt-0.5 h-4 w-4" />
                <span>
                    <span class="font-medium text-slate-700">"Demo Sending"</span>
                    <span class="block text-xs text-slate-500">
                        "Simulate delivery on the demo channel: nothing leaves Sluice."
                    </span>
                </span>
            </label>
            <Show when=move || state.demo.get()>
                <label class="ml-6 flex items-start gap-2 rounded-lg border border-slate-200 p-4 text-sm">
                    <input
                        type="checkbox"
                        bind:checked=state.demo_predictable
                        class="mt-0.5 h-4 w-4"
                    />
                    <span>
                        <span class="font-medium text-slate-700">"Predictable outcomes"</span>
                        <span class="block text-xs text-slate-500">
                            "Every message is delivered and nobody replies at random, for test suites. The scripted numbers +447700900001 to +447700900005 keep their outcomes."
                        </span>
                    </span>
                </label>
            </Show>
        </div>
    }
}
