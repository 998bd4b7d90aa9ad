//! The side panel's Info tab: the stream's details, editable in place, and its dates.

mod details_form;
use self::details_form::DetailsForm;
use leptos::prelude::*;

use super::{super::table::when, routing::RoutingSection, stats::StatsPanel};
use crate::{
    components::Toasts,
    connections::{Connection, api::InboundAddress},
    messages::StreamStats,
    pages::{
        streams::settings::{PRIMARY, submit},
        streams::wizard::{DetailsStep, WizardState},
    },
    streams::{Stream, api::update_stream},
};

/// The stream's details, editable in place, and when it was made, changed and last used.
#[component]
pub fn InfoTab(
    stream: Stream,
    tags: Vec<String>,
    sender_ids: Vec<String>,
    stats: StreamStats,
    routing: Option<(Vec<Connection>, InboundAddress)>,
    changed: Callback<()>,
) -> impl IntoView {
    let routing = routing.map(|(connections, inbound)| {
        view! {
            <RoutingSection
                id=stream.id.clone()
                demo=stream.demo
                chosen=stream.connection_id.clone()
                connections
                inbound
            />
        }
    });
    let facts = [
        ("Type", stream.kind.label().to_string()),
        ("Status", stream.status.label().to_string()),
        ("Created", when(Some(stream.created_at))),
        ("Last changed", when(Some(stream.updated_at))),
        ("Last activity", when(stream.last_activity_at)),
        (
            "Throughput limit",
            stream
                .max_rate
                .map_or_else(|| "No limit".into(), |rate| format!("{rate} messages/s")),
        ),
        (
            "Destination countries",
            if stream.allowed_countries.is_empty() {
                "Every country".into()
            } else {
                stream.allowed_countries.join(", ")
            },
        ),
    ];
    view! {
        <dl class="mb-6 grid grid-cols-2 gap-x-4 gap-y-2 rounded-lg bg-slate-50 p-4 text-sm sm:grid-cols-3" data-testid="stream-facts">
            {facts.into_iter().map(|(term, value)| view! {
                <div>
                    <dt class="text-xs text-slate-500">{term}</dt>
                    <dd class="font-medium text-slate-900">{value}</dd>
                </div>
            }).collect_view()}
        </dl>
        <StatsPanel stats />
        <DetailsForm stream tags sender_ids changed />
        {routing}
    }
}
