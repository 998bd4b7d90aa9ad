use leptos::prelude::*;

/// Page links under a list; `href` gives the URL of a page, so paging works without JavaScript.
#[component]
pub fn Pagination(
    page: u32,
    per_page: u32,
    total: i64,
    #[prop(into)] href: Callback<u32, String>,
) -> impl IntoView {
    let pages = ((total.max(1) as u32) - 1) / per_page.max(1) + 1;
    let page = page.min(pages);
    let link = "rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm hover:bg-slate-50";
    let previous = (page > 1).then(|| href.run(page - 1));
    let next = (page < pages).then(|| href.run(page + 1));
    view! {
        <nav aria-label="Pagination" class="mt-4 flex items-center justify-end gap-3 text-sm text-slate-600">
            <span data-testid="page-indicator">{format!("Page {page} of {pages}")}</span>
            {previous.map(|href| view! { <a href=href class=link rel="prev">"Previous"</a> })}
            {next.map(|href| view! { <a href=href class=link rel="next">"Next"</a> })}
        </nav>
    }
}
