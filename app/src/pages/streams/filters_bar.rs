use leptos::prelude::*;

use crate::streams::{PAGE_SIZES, StreamFilter, StreamStatus};

/// A GET form: filtering works with or without JavaScript and lands in the URL.
#[component]
pub fn FiltersBar(filter: StreamFilter, tags: Vec<String>) -> impl IntoView {
    let select = "rounded-md border border-slate-300 bg-white px-3 py-2 text-sm";
    view! {
        <form method="get" action="/streams" class="mb-4 flex flex-wrap items-end gap-3" role="search" aria-label="Filter streams">
            <label class="flex flex-col text-xs font-medium text-slate-600">
                "Name"
                <input
                    type="search"
                    name="name"
                    value=filter.name.clone()
                    placeholder="Search by name"
                    class="mt-1 w-56 rounded-md border border-slate-300 px-3 py-2 text-sm"
                />
            </label>
            <label class="flex flex-col text-xs font-medium text-slate-600">
                "Status"
                <select name="status" class=format!("mt-1 {select}")>
                    <option value="" selected=filter.status.is_none()>"All statuses"</option>
                    {StreamStatus::ALL
                        .into_iter()
                        .map(|status| {
                            view! {
                                <option value=status.as_str() selected=filter.status == Some(status)>
                                    {status.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <label class="flex flex-col text-xs font-medium text-slate-600">
                "Tag"
                <select name="tag" class=format!("mt-1 {select}")>
                    <option value="" selected=filter.tag.is_empty()>"All tags"</option>
                    {tags
                        .into_iter()
                        .map(|tag| {
                            let selected = tag == filter.tag;
                            view! { <option value=tag.clone() selected=selected>{tag.clone()}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <label class="flex flex-col text-xs font-medium text-slate-600">
                "Per page"
                <select name="per_page" class=format!("mt-1 {select}")>
                    {PAGE_SIZES
                        .into_iter()
                        .map(|size| {
                            view! {
                                <option value=size.to_string() selected=size == filter.per_page>
                                    {size.to_string()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <button type="submit" class="rounded-md border border-slate-300 bg-white px-4 py-2 text-sm font-medium hover:bg-slate-50">
                "Apply"
            </button>
            <a href="/streams" class="px-2 py-2 text-sm text-indigo-600 hover:underline">"Clear"</a>
        </form>
    }
}
