//! The `LiveBoard` component.

use super::*;

#[component]
pub(super) fn LiveBoard(
    first: LiveSnapshot,
    live: RwSignal<Option<LiveSnapshot>>,
    history: RwSignal<HashMap<String, Vec<i64>>>,
    connected: RwSignal<bool>,
    filter: Memo<LiveFilter>,
) -> impl IntoView {
    let first = StoredValue::new(first);
    let current = move || live.get().unwrap_or_else(|| first.get_value());
    let mut tags: Vec<String> = current()
        .streams
        .iter()
        .flat_map(|s| s.tags.clone())
        .collect();
    tags.sort();
    tags.dedup();
    let shown = move || {
        let filter = filter.get();
        current()
            .streams
            .into_iter()
            .filter(|s| filter.keeps(s))
            .collect::<Vec<_>>()
    };
    let field = "mt-1 rounded-md border border-slate-300 bg-white px-3 py-2 text-sm";
    let label = "flex flex-col text-xs font-medium text-slate-600";
    let chosen = filter.get_untracked();
    let total_line = move || {
        sparkline(
            &history.get().get("").cloned().unwrap_or_default(),
            600.0,
            80.0,
        )
    };
    let totals = move || {
        shown().iter().fold((0, 0, 0, 0), |t, s| {
            (
                t.0 + s.per_minute,
                t.1 + s.delivered,
                t.2 + s.failed,
                t.3 + s.in_flight,
            )
        })
    };
    view! {
        <form method="get" action="/realtime" class="mb-4 flex flex-wrap items-end gap-3" role="search" aria-label="Filter streams">
            <label class=label>
                "Name"
                <input type="search" name="name" value=chosen.name.clone() placeholder="Search by name" class=format!("{field} w-56") />
            </label>
            <label class=label>
                "Status"
                <select name="status" class=field>
                    {[("", "All statuses"), ("ready", "Ready"), ("sending", "Sending"), ("disabled", "Disabled")]
                        .into_iter()
                        .map(|(value, text)| view! { <option value=value selected=chosen.status == value>{text}</option> })
                        .collect_view()}
                </select>
            </label>
            <label class=label>
                "Tag"
                <select name="tag" class=field>
                    <option value="" selected=chosen.tag.is_empty()>"All tags"</option>
                    {tags.into_iter().map(|tag| view! { <option value=tag.clone() selected=chosen.tag == tag>{tag.clone()}</option> }).collect_view()}
                </select>
            </label>
            <button type="submit" class="rounded-md border border-slate-300 bg-white px-4 py-2 text-sm font-medium hover:bg-slate-50">"Apply"</button>
            <a href="/realtime" class="px-2 py-2 text-sm text-indigo-600 hover:underline">"Clear"</a>
            <span class="ml-auto flex items-center gap-2 text-xs text-slate-600" data-testid="live-indicator">
                <span class=move || if connected.get() { "h-2 w-2 rounded-full bg-emerald-500" } else { "h-2 w-2 rounded-full bg-slate-300" }></span>
                {move || if connected.get() { "Live" } else { "Connecting…" }}
            </span>
        </form>
        {move || {
            let (per_minute, delivered, failed, in_flight) = totals();
            view! {
                <section class="mb-6 rounded-xl border border-slate-200 bg-white p-4" aria-labelledby="throughput-title">
                    <div class="flex flex-wrap items-baseline justify-between gap-4">
                        <h2 id="throughput-title" class="text-sm font-semibold text-slate-900">"Messages per minute, all shown streams"</h2>
                        <p class="text-sm text-slate-600" data-testid="live-totals">
                            {format!("{per_minute}/min · {delivered} delivered · {failed} failed · {in_flight} in flight")}
                        </p>
                    </div>
                    <svg viewBox="0 0 600 80" class="mt-3 h-20 w-full" role="img" aria-label="Messages per minute over the last minute">
                        <polyline points=total_line() fill="none" class="stroke-indigo-500" stroke-width="2"></polyline>
                    </svg>
                </section>
            }
        }}
        {move || {
            let streams = shown();
            if streams.is_empty() {
                return view! {
                    <EmptyState title="No streams to follow">
                        "Streams appear here once they are created (and match the filters); their activity moves live."
                    </EmptyState>
                }.into_any();
            }
                    view! {
                <DataTable testid="realtime-table" headers=&["Stream", "Status", "Per minute", "Delivered", "Failed", "In flight", "Last minute"]>
                            {streams.into_iter().map(|stream| {
                                let id = stream.id.clone();
                                let line = move || sparkline(&history.get().get(&id).cloned().unwrap_or_default(), 120.0, 24.0);
                                view! {
                                    <tr data-testid="realtime-row">
                                        <td class="px-4 py-3 font-medium text-slate-900">{stream.name.clone()}</td>
                                        <td class="px-4 py-3 capitalize text-slate-600">{stream.status.clone()}</td>
                                        <td class="px-4 py-3 tabular-nums">{stream.per_minute}</td>
                                        <td class="px-4 py-3 tabular-nums text-emerald-700">{stream.delivered}</td>
                                        <td class="px-4 py-3 tabular-nums text-red-700">{stream.failed}</td>
                                        <td class="px-4 py-3 tabular-nums text-sky-700">{stream.in_flight}</td>
                                        <td class="px-4 py-3">
                                            <svg viewBox="0 0 120 24" class="h-6 w-32" role="img" aria-label=format!("{} per minute over the last minute", stream.name)>
                                                <polyline points=line fill="none" class="stroke-indigo-500" stroke-width="1.5"></polyline>
                                            </svg>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                </DataTable>
            }.into_any()
        }}
    }
}
