//! The tab list: links, so tabs work without JavaScript and every tab has its own URL.

use super::*;

/// The tab list: links, so tabs work without JavaScript and every tab has its own URL.
#[component]
pub(super) fn PanelTabs(
    stream: Stream,
    tab: Signal<Option<String>>,
    filter: StreamFilter,
) -> impl IntoView {
    let current = {
        let stream = stream.clone();
        Memo::new(move |_| Tab::pick(&stream, tab.get().as_deref()))
    };
    let links = Tab::for_stream(&stream)
        .into_iter()
        .map(|tab| {
            view! {
                <a
                    role="tab"
                    id=format!("tab-{}", tab.key())
                    href=panel_url(&filter, &stream.id, tab.key())
                    aria-selected=move || (current.get() == tab).to_string()
                    aria-controls="stream-tabpanel"
                    tabindex=move || if current.get() == tab { "0" } else { "-1" }
                    class="whitespace-nowrap border-b-2 border-transparent px-3 py-2 text-sm font-medium text-slate-600 hover:text-slate-900 aria-selected:border-indigo-600 aria-selected:text-indigo-700 focus-visible:outline-2 focus-visible:outline-indigo-600"
                >
                    {tab.label()}
                </a>
            }
        })
        .collect_view();
    view! {
        <div role="tablist" aria-label="Stream sections" class="-mx-2 mb-4 flex overflow-x-auto border-b border-slate-200" on:keydown=move_between_tabs>
            {links}
        </div>
    }
}
