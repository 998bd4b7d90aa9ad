//! The Webhooks tab's delivery log: each event sent to the endpoint with every attempt, and the
//! *Test webhook* and *Retry* buttons.

mod attempt_line;
mod delivery_row;

use self::{attempt_line::AttemptLine, delivery_row::DeliveryRow};

use leptos::{prelude::*, task::spawn_local};

use crate::{
    components::Toasts,
    error::AppError,
    ids::StreamId,
    pages::streams::settings::SECONDARY,
    time::short_utc,
    webhooks::{
        Attempt, Delivery, DeliveryStatus,
        api::{retry_webhook_delivery, test_webhook, webhook_deliveries},
    },
};

#[component]
pub fn WebhookLog(id: StreamId) -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    let stream_id = StoredValue::new(id);
    // Loaded in the browser once the panel is up (an effect never runs on the server), and by
    // the buttons: a plain signal, so no Suspense around the panel waits for it.
    let log = RwSignal::new(None::<Result<Vec<Delivery>, AppError>>);
    let load = move || {
        spawn_local(async move {
            log.set(Some(webhook_deliveries(stream_id.get_value()).await));
        });
    };
    Effect::new(move |_| load());
    // While deliveries are pending, the log refreshes itself.
    #[cfg(feature = "hydrate")]
    {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                let pending = log.with_untracked(|log| {
                    matches!(log, Some(Ok(list)) if list.iter().any(|d| d.status == DeliveryStatus::Pending))
                });
                if pending {
                    load();
                }
            },
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
    let send_test = move |_| {
        spawn_local(async move {
            match test_webhook(stream_id.get_value()).await {
                Ok(_) => {
                    toasts.show("Test event queued.");
                    load();
                }
                Err(error) => toasts.show(error.message),
            }
        });
    };
    let retry = Callback::new(move |delivery: String| {
        spawn_local(async move {
            match retry_webhook_delivery(stream_id.get_value(), delivery).await {
                Ok(()) => {
                    toasts.show("Delivery queued again.");
                    load();
                }
                Err(error) => toasts.show(error.message),
            }
        });
    });
    view! {
        <section class="mt-6" aria-labelledby="deliveries-title">
            <div class="flex items-center justify-between gap-2">
                <h3 id="deliveries-title" class="text-sm font-semibold text-slate-900">"Deliveries"</h3>
                <div class="flex gap-2">
                    <button type="button" class=SECONDARY on:click=move |_| load()>"Refresh"</button>
                    <button type="button" class=SECONDARY on:click=send_test>"Test webhook"</button>
                </div>
            </div>
            <p class="mt-1 text-xs text-slate-500">
                "Failed attempts are retried for about a day, sooner or later as the endpoint's Retry-After asks. 410 Gone switches the webhook off."
            </p>
            <div class="mt-3" data-testid="webhook-deliveries">
                {move || match log.get() {
                    None => view! { <p class="text-sm text-slate-500">"Loading deliveries…"</p> }.into_any(),
                    Some(Err(error)) => view! { <p role="alert" class="text-sm text-red-700">{error.message}</p> }.into_any(),
                    Some(Ok(list)) if list.is_empty() => view! {
                        <p class="rounded-lg border border-dashed border-slate-300 p-4 text-center text-sm text-slate-500" data-testid="empty-state">
                            "Nothing sent yet. Replies to this stream, and test events, appear here."
                        </p>
                    }.into_any(),
                    Some(Ok(list)) => view! {
                        <ul class="divide-y divide-slate-200 rounded-lg border border-slate-200">
                            {list.into_iter().map(|delivery| view! { <DeliveryRow delivery retry /> }).collect_view()}
                        </ul>
                    }.into_any(),
                }}
            </div>
        </section>
    }
}
