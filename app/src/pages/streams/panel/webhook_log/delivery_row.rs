//! The `DeliveryRow` component.

use super::*;

#[component]
pub(super) fn DeliveryRow(delivery: Delivery, retry: Callback<String>) -> impl IntoView {
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
