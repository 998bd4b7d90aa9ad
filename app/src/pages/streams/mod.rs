//! Streams: the Streams API page (filters, the table, its ⋯ actions, the type picker and the
//! side panel), the wizard that makes and edits a stream, and the settings forms both share.

mod filter;
mod filters_bar;
mod panel;
mod recipients_dialog;
mod row_actions;
mod settings;
mod table;
mod test_dialog;
mod type_picker;
mod wizard;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

pub use self::wizard::{EditStreamPage, NewStreamPage};
use self::{
    filters_bar::FiltersBar, panel::StreamPanel, table::StreamsTable, type_picker::TypePicker,
};
use super::{empty_state::EmptyState, page_header::PageHeader, pagination::Pagination};
use crate::{
    ids::StreamId,
    streams::api::{list_streams, list_tags},
};

#[component]
pub fn StreamsPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| filter::from_query(&query.read()));
    let page = Resource::new(move || filter.get(), list_streams);
    let tags = Resource::new(|| (), |_| list_tags());
    let refresh = Callback::new(move |()| {
        page.refetch();
        tags.refetch();
    });
    let picking_type = RwSignal::new(false);
    let panel_stream = Memo::new(move |_| query.read().get("stream").map(StreamId::from));
    let panel_tab = Memo::new(move |_| query.read().get("tab"));

    view! {
        <div class="flex flex-wrap items-start justify-between gap-4">
            <PageHeader
                title="Streams API"
                description="Each stream is an API token with its own route, sender, IP allow-list and webhook."
            />
            <button
                type="button"
                class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600"
                on:click=move |_| picking_type.set(true)
            >
                "Create Stream API"
            </button>
        </div>
        <Show when=move || picking_type.get()>
            <TypePicker on_close=Callback::new(move |()| picking_type.set(false)) />
        </Show>
        <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading streams…"</p> }>
            {move || Suspend::new(async move {
                let tags = tags.await.unwrap_or_default();
                let current = filter.get();
                page.await.map(|page| {
                    let filtered = current != crate::streams::StreamFilter { page: current.page, ..Default::default() };
                    view! {
                        <FiltersBar filter=current.clone() tags />
                        <p class="mb-3 text-sm text-slate-600" data-testid="streams-total">
                            {format!("Total: {} stream{}", page.total, if page.total == 1 { "" } else { "s" })}
                        </p>
                        {if page.streams.is_empty() && !filtered {
                            view! {
                                <EmptyState title="No streams yet">
                                    "A stream is how your systems send messages through Sluice: SMS Marketing, "
                                    "Transactional, OTP, Two-way or WhatsApp. Use Create Stream API to make one."
                                </EmptyState>
                            }.into_any()
                        } else if page.streams.is_empty() {
                            view! {
                                <EmptyState title="No streams match">
                                    "Change or clear the filters to see more streams."
                                </EmptyState>
                            }.into_any()
                        } else {
                            view! {
                                <StreamsTable streams=page.streams filter=current.clone() refresh />
                                <Pagination
                                    page=current.page
                                    per_page=current.per_page
                                    total=page.total
                                    href=move |n| filter::url(&current, n)
                                />
                            }.into_any()
                        }}
                    }
                })
            })}
        </Transition>
        {move || panel_stream.get().map(|id| view! {
            <StreamPanel id tab=panel_tab filter=filter.get_untracked() refresh />
        })}
    }
}
