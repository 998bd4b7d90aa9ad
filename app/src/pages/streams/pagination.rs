use leptos::prelude::*;

use super::filter::url;
use crate::streams::StreamFilter;

#[component]
pub fn Pagination(filter: StreamFilter, total: i64) -> impl IntoView {
    let pages = ((total.max(1) as u32) - 1) / filter.per_page + 1;
    let page = filter.page.min(pages);
    let link = "rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm hover:bg-slate-50";
    let previous = (page > 1).then(|| url(&filter, page - 1));
    let next = (page < pages).then(|| url(&filter, page + 1));
    view! {
        <nav aria-label="Pagination" class="mt-4 flex items-center justify-end gap-3 text-sm text-slate-600">
            <span data-testid="page-indicator">{format!("Page {page} of {pages}")}</span>
            {previous.map(|href| view! { <a href=href class=link rel="prev">"Previous"</a> })}
            {next.map(|href| view! { <a href=href class=link rel="next">"Next"</a> })}
        </nav>
    }
}
