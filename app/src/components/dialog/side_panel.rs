//! A panel sliding over the right of the page, for one item's details; `close_href` is where
//! its close link goes, so it closes without JavaScript too.

use super::*;

/// A panel sliding over the right of the page, for one item's details; `close_href` is where
/// its close link goes, so it closes without JavaScript too.
#[component]
pub fn SidePanel(
    title: String,
    close_href: String,
    on_close: Callback<()>,
    children: Children,
) -> impl IntoView {
    let label = title.clone();
    let container = NodeRef::<html::Section>::new();
    let on_keydown = use_modal(container, on_close);
    view! {
        <div class="fixed inset-0 z-30 flex justify-end">
            <a href=close_href.clone() tabindex="-1" aria-hidden="true" class="absolute inset-0 bg-slate-900/30"></a>
            <section
                node_ref=container
                role="dialog"
                aria-modal="true"
                aria-label=label
                on:keydown=on_keydown
                data-testid="side-panel"
                class="relative flex h-full w-full max-w-2xl flex-col overflow-y-auto bg-white shadow-xl"
            >
                <header class="flex items-start justify-between gap-4 border-b border-slate-200 px-6 py-4">
                    <h2 class="text-lg font-semibold text-slate-900">{title}</h2>
                    <a
                        href=close_href
                        aria-label="Close panel"
                        class="rounded-md px-2 py-1 text-slate-500 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-indigo-600"
                    >
                        "✕"
                    </a>
                </header>
                <div class="flex-1 px-6 py-4">{children()}</div>
            </section>
        </div>
    }
}
