//! The Messages log: every message of the account's streams, filtered through the URL query.

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

fn status_badge(status: MessageStatus) -> &'static str {
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

/// A GET form, so filtering works without JavaScript and lands in the URL.
#[component]
fn MessageFilters(filter: MessageFilter, streams: Vec<(String, String)>) -> impl IntoView {
    let field = "mt-1 rounded-md border border-slate-300 bg-white px-3 py-2 text-sm";
    let label = "flex flex-col text-xs font-medium text-slate-600";
    let option = |value: &str, text: &str, selected: bool| {
        view! { <option value=value.to_string() selected=selected>{text.to_string()}</option> }
    };
    view! {
        <form method="get" action="/messages" class="mb-4 flex flex-wrap items-end gap-3" role="search" aria-label="Filter messages">
            <label class=label>
                "Stream"
                <select name="stream" class=field>
                    {option("", "All streams", filter.stream.is_empty())}
                    {streams.iter().map(|(id, name)| option(id, name, *id == filter.stream)).collect_view()}
                </select>
            </label>
            <label class=label>
                "Status"
                <select name="status" class=field>
                    {option("", "All statuses", filter.status.is_none())}
                    {MessageStatus::ALL.into_iter().map(|s| option(s.as_str(), s.as_str(), filter.status == Some(s))).collect_view()}
                </select>
            </label>
            <label class=label>
                "Direction"
                <select name="direction" class=field>
                    {option("", "Both", filter.direction.is_empty())}
                    {option("outbound", "Outbound", filter.direction == "outbound")}
                    {option("inbound", "Inbound", filter.direction == "inbound")}
                </select>
            </label>
            <label class=label>
                "Phone"
                <input type="search" name="phone" value=filter.phone.clone() placeholder="+4477…" class=format!("{field} w-40") />
            </label>
            <label class=label>
                "From"
                <input type="date" name="from" value=filter.from.clone() class=field />
            </label>
            <label class=label>
                "To"
                <input type="date" name="to" value=filter.to.clone() class=field />
            </label>
            <label class=label>
                "Per page"
                <select name="per_page" class=field>
                    {PAGE_SIZES.into_iter().map(|n| option(&n.to_string(), &n.to_string(), n == filter.per_page)).collect_view()}
                </select>
            </label>
            <button type="submit" class="rounded-md border border-slate-300 bg-white px-4 py-2 text-sm font-medium hover:bg-slate-50">"Apply"</button>
            <a href="/messages" class="px-2 py-2 text-sm text-indigo-600 hover:underline">"Clear"</a>
        </form>
    }
}

#[component]
fn MessagesTable(messages: Vec<MessageRow>) -> impl IntoView {
    view! {
        <DataTable testid="messages-table" headers=&["Time", "Stream", "From → To", "Message", "Status", "Parts"]>
                    {messages.into_iter().map(|message| {
                        let arrow = if message.direction == "inbound" { "← " } else { "→ " };
                        view! {
                            <tr data-testid="message-row">
                                <td class="whitespace-nowrap px-4 py-3 text-slate-600">{short_utc(message.created_at)}</td>
                                <td class="px-4 py-3 text-slate-900">{message.stream_name}</td>
                                <td class="whitespace-nowrap px-4 py-3 font-mono text-xs text-slate-600">
                                    {message.sender.unwrap_or_else(|| "—".into())} " " {arrow} {message.recipient}
                                </td>
                                <td class="max-w-xs truncate px-4 py-3 text-slate-700" title=message.content.clone()>{message.content.clone()}</td>
                                <td class="whitespace-nowrap px-4 py-3">
                                    <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {}", status_badge(message.status))>
                                        {message.status.as_str()}
                                    </span>
                                    {message.error.map(|error| view! { <p class="mt-1 max-w-[16rem] text-xs text-red-700">{error}</p> })}
                                </td>
                                <td class="whitespace-nowrap px-4 py-3 text-xs text-slate-600">{format!("{} × {}", message.segments, message.encoding)}</td>
                            </tr>
                        }
                    }).collect_view()}
        </DataTable>
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
