//! The numbers that opted out of the stream: its sends to them are refused.

use super::*;

/// The numbers that opted out of the stream: its sends to them are refused.
#[component]
pub(super) fn OptOuts(numbers: Vec<(String, i64)>, count: i64) -> impl IntoView {
    let listed = i64::try_from(numbers.len()).unwrap_or(i64::MAX);
    view! {
        <div data-testid="opt-outs">
            <h4 class="mb-1 text-xs font-medium uppercase tracking-wide text-slate-500">
                {format!("Opted out ({count})")}
            </h4>
            {if numbers.is_empty() {
                view! {
                    <p class="text-sm text-slate-600">"No one has replied STOP to this stream."</p>
                }
                    .into_any()
            } else {
                view! {
                    <p class="mb-2 text-xs text-slate-500">
                        "Sends to these numbers are refused until they reply START."
                    </p>
                    <ul class="divide-y divide-slate-100 rounded-lg border border-slate-200 text-sm">
                        {numbers
                            .into_iter()
                            .map(|(phone, at)| view! {
                                <li class="flex justify-between px-3 py-1.5">
                                    <span class="font-mono">{phone}</span>
                                    <span class="text-slate-500">{crate::time::short_utc(at)}</span>
                                </li>
                            })
                            .collect_view()}
                    </ul>
                    {(count > listed).then(|| view! {
                        <p class="mt-1 text-xs text-slate-500">{format!("The newest {listed} are listed.")}</p>
                    })}
                }
                    .into_any()
            }}
        </div>
    }
}
