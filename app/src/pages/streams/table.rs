use leptos::prelude::*;

use super::{filter::panel_url, row_actions::RowActions};
use crate::components::DataTable;
use crate::streams::{Stream, StreamFilter, StreamStatus};

fn status_badge(status: StreamStatus) -> &'static str {
    match status {
        StreamStatus::Draft => "bg-slate-100 text-slate-700",
        StreamStatus::Ready => "bg-emerald-50 text-emerald-700",
        StreamStatus::Sending => "bg-sky-50 text-sky-700",
        StreamStatus::Disabled => "bg-amber-50 text-amber-800",
    }
}

/// A timestamp in the viewer's terms; the same text on server and browser.
pub(super) fn when(ms: Option<i64>) -> String {
    ms.map_or_else(|| "—".into(), crate::time::short_utc)
}

#[component]
pub fn StreamsTable(
    streams: Vec<Stream>,
    filter: StreamFilter,
    refresh: Callback<()>,
) -> impl IntoView {
    view! {
        <DataTable testid="streams-table" headers=&["Name", "Status", "Tags", "Type", "Allowed IPs", "Last Activity", "~Action"]>
                    {streams
                        .into_iter()
                        .map(|stream| {
                            let restricted = stream.restricted.then(|| {
                                view! { <span class="ml-1 rounded bg-violet-50 px-1.5 py-0.5 text-xs text-violet-700">"Restricted"</span> }
                            });
                            let ips = if stream.ip_acl_enabled { stream.allowed_ips.join(", ") } else { "Any".into() };
                            view! {
                                <tr data-testid="stream-row">
                                    <td class="px-4 py-3 font-medium text-slate-900">
                                        <a
                                            href=panel_url(&filter, &stream.id, "info")
                                            class="hover:text-indigo-700 hover:underline focus-visible:outline-2 focus-visible:outline-indigo-600"
                                        >
                                            {stream.name.clone()}
                                        </a>
                                        {stream.demo.then(|| view! { <span class="ml-2 rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-600">"Demo"</span> })}
                                    </td>
                                    <td class="whitespace-nowrap px-4 py-3">
                                        <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {}", status_badge(stream.status))>
                                            {stream.status.label()}
                                        </span>
                                        {restricted}
                                    </td>
                                    <td class="px-4 py-3">
                                        <div class="flex flex-wrap gap-1">
                                            {stream.tags.iter().map(|tag| view! {
                                                <span class="rounded bg-indigo-50 px-1.5 py-0.5 text-xs text-indigo-700">{tag.clone()}</span>
                                            }).collect_view()}
                                        </div>
                                    </td>
                                    <td class="px-4 py-3 text-slate-600">{stream.kind.label()}</td>
                                    <td class="px-4 py-3 font-mono text-xs text-slate-600">{ips}</td>
                                    <td class="whitespace-nowrap px-4 py-3 text-slate-600">{when(stream.last_activity_at)}</td>
                                    <td class="px-4 py-3 text-right">
                                        <RowActions stream refresh />
                                    </td>
                                </tr>
                            }
                            .into_any()
                        })
                        .collect_view()}
        </DataTable>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_render_as_utc_dates() {
        assert_eq!(when(None), "—");
        assert_eq!(when(Some(0)), "1970-01-01 00:00 UTC");
    }
}
