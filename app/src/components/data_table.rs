use leptos::prelude::*;

/// The console's tables: a scrolling frame, column headers, and the rows as children.
/// A header starting with `~` is read to screen readers only (an actions column). The frame is
/// positioned, so what is positioned inside it (screen-reader-only text, menus) scrolls and
/// clips with the table instead of widening the page.
#[component]
pub fn DataTable(
    testid: &'static str,
    headers: &'static [&'static str],
    children: Children,
) -> impl IntoView {
    view! {
        <div class="relative overflow-x-auto rounded-xl border border-slate-200 bg-white">
            <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid=testid>
                <thead class="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-500">
                    <tr>
                        {headers.iter().map(|header| match header.strip_prefix('~') {
                            Some(hidden) => view! { <th scope="col" class="px-4 py-3 font-semibold"><span class="sr-only">{hidden}</span></th> }.into_any(),
                            None => view! { <th scope="col" class="px-4 py-3 font-semibold">{*header}</th> }.into_any(),
                        }).collect_view()}
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">{children()}</tbody>
            </table>
        </div>
    }
}
