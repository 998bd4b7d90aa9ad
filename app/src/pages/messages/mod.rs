//! The Messages log: every message of the account's streams, filtered through the URL query.

mod message_filters;
mod messages_table;

use self::{message_filters::MessageFilters, messages_table::MessagesTable};

use leptos::prelude::*;
use leptos_router::{hooks::use_query_map, params::ParamsMap};

use crate::components::DataTable;

use super::{empty_state::EmptyState, page_header::PageHeader, pagination::Pagination};
use crate::{
    messages::{MessageFilter, MessageRow, MessageStatus, api::list_messages},
    streams::{StreamFilter, api::list_streams},
    time::short_utc,
};

/// Page sizes the log offers.
const PAGE_SIZES: [u32; 3] = [20, 50, 100];

fn from_query(query: &ParamsMap) -> MessageFilter {
    let defaults = MessageFilter::default();
    let text = |key: &str| query.get(key).unwrap_or_default();
    MessageFilter {
        stream: text("stream"),
        status: query.get("status").and_then(|s| MessageStatus::parse(&s)),
        direction: text("direction"),
        phone: text("phone"),
        from: text("from"),
        to: text("to"),
        page: query
            .get("page")
            .and_then(|p| p.parse().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(defaults.page),
        per_page: query
            .get("per_page")
            .and_then(|p| p.parse().ok())
            .filter(|p| PAGE_SIZES.contains(p))
            .unwrap_or(defaults.per_page),
    }
}

fn url(filter: &MessageFilter, page: u32) -> String {
    let per_page = filter.per_page.to_string();
    let page = page.to_string();
    let mut pairs: Vec<(&str, &str)> = [
        ("stream", filter.stream.as_str()),
        (
            "status",
            filter.status.map(MessageStatus::as_str).unwrap_or_default(),
        ),
        ("direction", filter.direction.as_str()),
        ("phone", filter.phone.as_str()),
        ("from", filter.from.as_str()),
        ("to", filter.to.as_str()),
    ]
    .into_iter()
    .filter(|(_, value)| !value.is_empty())
    .collect();
    if filter.per_page != MessageFilter::default().per_page {
        pairs.push(("per_page", &per_page));
    }
    if page != "1" {
        pairs.push(("page", &page));
    }
    match serde_urlencoded::to_string(pairs).unwrap_or_default() {
        query if query.is_empty() => "/messages".into(),
        query => format!("/messages?{query}"),
    }
}

pub(crate) fn status_badge(status: MessageStatus) -> &'static str {
    match status {
        MessageStatus::Delivered | MessageStatus::Received => "bg-emerald-50 text-emerald-700",
        MessageStatus::Queued | MessageStatus::Sent => "bg-sky-50 text-sky-700",
        _ => "bg-red-50 text-red-700",
    }
}

#[component]
pub fn MessagesPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| from_query(&query.read()));
    let page = Resource::new(move || filter.get(), list_messages);
    let streams = Resource::new(
        || (),
        |_| {
            list_streams(StreamFilter {
                per_page: 100,
                ..StreamFilter::default()
            })
        },
    );
    // While messages are on their way, the log refreshes itself.
    #[cfg(feature = "hydrate")]
    {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                let in_flight = page
                    .get_untracked()
                    .and_then(Result::ok)
                    .is_some_and(|p| p.messages.iter().any(|m| m.status.rank() < 2));
                if in_flight {
                    page.refetch();
                }
            },
            std::time::Duration::from_secs(2),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
    view! {
        <PageHeader
            title="Messages"
            description="Every message your streams sent or received, with its current status."
        />
        <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading messages…"</p> }>
            {move || Suspend::new(async move {
                let streams = streams.await.map(|p| p.streams).unwrap_or_default();
                let current = filter.get();
                page.await.map(|page| {
                    let filtered = current != MessageFilter { page: current.page, ..MessageFilter::default() };
                    view! {
                        <MessageFilters filter=current.clone() streams=streams.into_iter().map(|s| (s.id.into_string(), s.name)).collect() />
                        <p class="mb-3 text-sm text-slate-600" data-testid="messages-total">
                            {format!("Total: {} message{}", page.total, if page.total == 1 { "" } else { "s" })}
                        </p>
                        <p class="mb-3 text-xs text-slate-500" data-testid="messages-retention">{page.retention.note()}</p>
                        {if page.messages.is_empty() && !filtered {
                            view! {
                                <EmptyState title="No messages yet">
                                    "Messages sent through your streams, and replies from your recipients, are listed here."
                                </EmptyState>
                            }.into_any()
                        } else if page.messages.is_empty() {
                            view! {
                                <EmptyState title="No messages match">"Change or clear the filters to see more messages."</EmptyState>
                            }.into_any()
                        } else {
                            view! {
                                <MessagesTable messages=page.messages />
                                <Pagination page=current.page per_page=current.per_page total=page.total href=move |n| url(&current, n) />
                            }.into_any()
                        }}
                    }
                })
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_filters_round_trip_through_the_url() {
        let filter = MessageFilter {
            stream: "str_1".into(),
            status: Some(MessageStatus::Delivered),
            direction: "outbound".into(),
            phone: "+4477".into(),
            from: "2026-11-01".into(),
            to: "2026-11-23".into(),
            page: 1,
            per_page: 100,
        };
        let url = url(&filter, 2);
        assert_eq!(
            url,
            "/messages?stream=str_1&status=delivered&direction=outbound&phone=%2B4477&from=2026-11-01&to=2026-11-23&per_page=100&page=2"
        );
        let query = ParamsMap::from_iter(
            serde_urlencoded::from_str::<Vec<(String, String)>>(url.split_once('?').unwrap().1)
                .unwrap(),
        );
        assert_eq!(from_query(&query), MessageFilter { page: 2, ..filter });
        assert_eq!(super::url(&MessageFilter::default(), 1), "/messages");
    }
}
