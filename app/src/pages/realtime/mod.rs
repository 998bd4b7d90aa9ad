//! The Realtime performance page: each stream's last minute, pushed every second by
//! Server-Sent Events, with name, status and tag filters in the URL.

mod live_board;

use self::live_board::LiveBoard;

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
