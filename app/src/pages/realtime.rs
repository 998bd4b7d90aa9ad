//! The Realtime performance page: each stream's last minute, pushed every second by
//! Server-Sent Events, with name, status and tag filters in the URL.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::DataTable;

use super::{empty_state::EmptyState, page_header::PageHeader};
use crate::messages::{LiveSnapshot, LiveStream, api::realtime_snapshot};

/// Samples each chart keeps: one per second.
const SAMPLES: usize = 60;

/// Who the filters let through.
#[derive(Debug, Clone, Default, PartialEq)]
struct LiveFilter {
    name: String,
    status: String,
    tag: String,
}

impl LiveFilter {
    fn keeps(&self, stream: &LiveStream) -> bool {
        stream
            .name
            .to_lowercase()
            .contains(&self.name.trim().to_lowercase())
            && (self.status.is_empty() || stream.status == self.status)
            && (self.tag.is_empty() || stream.tags.contains(&self.tag))
    }
}

/// A small line chart of `values` (newest last), scaled to its own maximum.
fn sparkline(values: &[i64], width: f64, height: f64) -> String {
    let highest = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = width / (SAMPLES - 1) as f64;
    let start = SAMPLES.saturating_sub(values.len());
    values
        .iter()
        .enumerate()
        .map(|(index, value)| {
            let x = (start + index) as f64 * step;
            let y = height - (*value as f64 / highest) * (height - 2.0) - 1.0;
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[component]
pub fn RealtimePage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let query = query.read();
        LiveFilter {
            name: query.get("name").unwrap_or_default(),
            status: query.get("status").unwrap_or_default(),
            tag: query.get("tag").unwrap_or_default(),
        }
    });
    let initial = Resource::new(|| (), |_| realtime_snapshot());
    let live = RwSignal::new(None::<LiveSnapshot>);
    let history = RwSignal::new(HashMap::<String, Vec<i64>>::new());
    let connected = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    follow(live, history, connected);

    view! {
        <PageHeader
            title="Realtime"
            description="Live activity per stream: messages per minute, delivered, failed and in flight."
        />
        <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let first = initial.await;
                first.map(|first| view! { <LiveBoard first live history connected filter /> })
            })}
        </Transition>
    }
}

/// Opens the event stream and keeps `live` and `history` current until the page closes.
#[cfg(feature = "hydrate")]
fn follow(
    live: RwSignal<Option<LiveSnapshot>>,
    history: RwSignal<HashMap<String, Vec<i64>>>,
    connected: RwSignal<bool>,
) {
    use leptos::wasm_bindgen::{JsCast, closure::Closure};

    let Ok(source) = web_sys::EventSource::new("/api/realtime/events") else {
        return;
    };
    let on_snapshot =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let Some(text) = event.data().as_string() else {
                return;
            };
            let Ok(snapshot) = serde_json::from_str::<LiveSnapshot>(&text) else {
                return;
            };
            connected.set(true);
            history.update(|history| {
                let total: i64 = snapshot.streams.iter().map(|s| s.per_minute).sum();
                for (key, value) in snapshot
                    .streams
                    .iter()
                    .map(|s| (s.id.clone(), s.per_minute))
                    .chain([(String::new(), total)])
                {
                    let samples = history.entry(key).or_default();
                    samples.push(value);
                    if samples.len() > SAMPLES {
                        samples.remove(0);
                    }
                }
            });
            live.set(Some(snapshot));
        });
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| connected.set(false));
    let _ =
        source.add_event_listener_with_callback("snapshot", on_snapshot.as_ref().unchecked_ref());
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let kept = StoredValue::new_local(Some((source, on_snapshot, on_error)));
    on_cleanup(move || {
        kept.try_with_value(|kept| {
            if let Some((source, _, _)) = kept {
                source.close();
            }
        });
    });
}

#[component]
fn LiveBoard(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_scale_to_their_maximum_and_end_on_the_right() {
        assert_eq!(
            sparkline(&[0, 5, 10], 590.0, 12.0),
            "570.0,11.0 580.0,6.0 590.0,1.0"
        );
        assert_eq!(sparkline(&[], 100.0, 10.0), "");
    }

    #[test]
    fn filters_match_name_status_and_tag() {
        let stream = LiveStream {
            id: "s".into(),
            name: "Login Codes".into(),
            status: "sending".into(),
            tags: vec!["auth".into()],
            per_minute: 3,
            delivered: 2,
            failed: 0,
            in_flight: 1,
        };
        let keeps = |name: &str, status: &str, tag: &str| {
            LiveFilter {
                name: name.into(),
                status: status.into(),
                tag: tag.into(),
            }
            .keeps(&stream)
        };
        assert!(keeps("login", "", ""));
        assert!(keeps("", "sending", "auth"));
        assert!(!keeps("promo", "", ""));
        assert!(!keeps("", "ready", ""));
        assert!(!keeps("", "", "billing"));
    }
}
