//! Where an SMS stream's messages go (its connection) and where its provider calls back.

use leptos::prelude::*;

use crate::{
    components::{CopyField, Field, INPUT, Toasts},
    connections::{
        Connection,
        api::{InboundAddress, rotate_inbound_key, set_stream_connection},
    },
    error::AppError,
    ids::StreamId,
    pages::streams::settings::{PRIMARY, SECONDARY, submit},
};

/// The connection picker and the inbound address of an SMS stream.
#[component]
pub fn RoutingSection(
    id: StreamId,
    demo: bool,
    chosen: Option<String>,
    connections: Vec<Connection>,
    inbound: InboundAddress,
) -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    let choice = RwSignal::new(chosen.unwrap_or_default());
    let (busy, error) = (RwSignal::new(false), RwSignal::new(None::<AppError>));
    let path = RwSignal::new(inbound.path);
    let (rotating, rotate_error) = (RwSignal::new(false), RwSignal::new(None::<AppError>));
    let stream_id = id.clone();
    let rotate = move |_| {
        let work = rotate_inbound_key(stream_id.clone());
        submit(
            rotating,
            rotate_error,
            work,
            move |address: InboundAddress| {
                path.set(address.path);
                toasts.show("New inbound key: give your provider the new address.");
            },
        );
    };
    let save = move |_| {
        let work = set_stream_connection(id.clone(), Some(choice.get_untracked()));
        submit(busy, error, work, move |()| {
            toasts.show("Connection saved.")
        });
    };
    let default_name = connections
        .iter()
        .find(|c| c.is_default)
        .map_or_else(|| "none: the demo channel".to_string(), |c| c.name.clone());
    let note = if demo {
        "Demo sending is on: messages stay on the demo channel until it is turned off."
    } else {
        "Real messages go through this connection; manage connections on the Connections page."
    };
    view! {
        <section class="mt-8 border-t border-slate-200 pt-6" aria-labelledby="routing-title">
            <h3 id="routing-title" class="mb-1 text-sm font-semibold text-slate-900">"Delivery"</h3>
            <p class="mb-3 text-xs text-slate-500">{note}</p>
            <div class="flex flex-wrap items-end gap-2">
                <div class="min-w-64 flex-1">
                    <Field id="stream-connection" label="Connection" error=crate::components::error_of(error, "connection_id")>
                        <select
                            id="stream-connection"
                            class=INPUT
                            prop:value=move || choice.get()
                            on:change=move |event| choice.set(event_target_value(&event))
                        >
                            <option value="">{format!("Account default ({default_name})")}</option>
                            {connections.into_iter().map(|c| view! { <option value=c.id.clone()>{c.name.clone()}</option> }).collect_view()}
                        </select>
                    </Field>
                </div>
                <button type="button" class=PRIMARY disabled=move || busy.get() on:click=save>"Save connection"</button>
            </div>
            <div class="mt-4">
                {move || view! {
                    <CopyField
                        label="Inbound address for delivery reports and replies"
                        value=path.get()
                        copy_label="Copy inbound address"
                        testid="inbound-path"
                    />
                }}
                <p class="mt-1 text-xs text-slate-500">"Give your provider this path on this server's address; the key in it (or in an X-Sluice-Key header) proves the caller. A new key stops the old one at once."</p>
                <button type="button" class=format!("mt-2 {SECONDARY}") disabled=move || rotating.get() on:click=rotate>"New inbound key"</button>
            </div>
        </section>
    }
}
