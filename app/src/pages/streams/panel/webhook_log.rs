//! The Webhooks tab's delivery log: each event sent to the endpoint with every attempt, and the
//! *Test webhook* and *Retry* buttons.

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

#[component]
fn DeliveryRow(delivery: Delivery, retry: Callback<String>) -> impl IntoView {
    let badge = match delivery.status {
        DeliveryStatus::Pending => "bg-amber-100 text-amber-800",
        DeliveryStatus::Delivered => "bg-emerald-100 text-emerald-800",
        DeliveryStatus::Failed => "bg-red-100 text-red-800",
    };
    let id = delivery.id.clone();
    let next = delivery
        .next_at
        .filter(|_| !delivery.attempts.is_empty())
        .map(|at| format!("Next attempt {}", short_utc(at)));
    view! {
        <li class="p-3 text-sm" data-testid="webhook-delivery">
            <div class="flex flex-wrap items-center gap-2">
                <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {badge}")>{delivery.status.label()}</span>
                <span class="font-medium text-slate-900">{delivery.event.clone()}</span>
                <span class="text-xs text-slate-500">{short_utc(delivery.created_at)}</span>
                <span class="text-xs text-slate-500">{format!("{} attempt(s)", delivery.attempts.len())}</span>
                <button
                    type="button"
                    class="ml-auto rounded-md px-2 py-1 text-xs font-medium text-indigo-700 hover:bg-indigo-50"
                    aria-label=format!("Retry delivery {}", delivery.id)
                    on:click=move |_| retry.run(id.clone())
                >
                    "Retry"
                </button>
            </div>
            {delivery.last_error.clone().filter(|_| delivery.status != DeliveryStatus::Delivered).map(|error| view! {
                <p class="mt-1 text-xs text-red-700">{error}</p>
            })}
            {next.map(|text| view! { <p class="mt-1 text-xs text-slate-500">{text}</p> })}
            <ol class="mt-2 space-y-1">
                {delivery.attempts.into_iter().map(|attempt| view! { <AttemptLine attempt /> }).collect_view()}
            </ol>
        </li>
    }
}

#[component]
fn AttemptLine(attempt: Attempt) -> impl IntoView {
    let outcome = match (attempt.status_code, &attempt.error) {
        (Some(code), _) => format!("HTTP {code}"),
        (None, Some(error)) => error.clone(),
        (None, None) => "No answer".into(),
    };
    view! {
        <li class="rounded bg-slate-50 px-2 py-1 text-xs text-slate-700" data-testid="webhook-attempt">
            <span>{short_utc(attempt.at)}</span>
            " · "
            <span class="font-medium">{outcome}</span>
            " · "
            <span>{format!("{} ms", attempt.latency_ms)}</span>
            {attempt.response.map(|text| view! {
                <code class="mt-1 block truncate text-slate-500">{text}</code>
            })}
        </li>
    }
}
