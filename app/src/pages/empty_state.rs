use leptos::prelude::*;

/// What a list shows before it has anything in it.
#[component]
pub fn EmptyState(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <section
            class="flex flex-col items-center rounded-xl border border-dashed border-slate-300 bg-white px-6 py-16 text-center"
            data-testid="empty-state"
        >
            <svg class="h-10 w-10 text-slate-300" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.5" aria-hidden="true">
                <path d="M3 7l9-4 9 4-9 4-9-4zm0 5l9 4 9-4M3 17l9 4 9-4" stroke-linejoin="round" />
            </svg>
            <h2 class="mt-4 text-base font-semibold text-slate-900">{title}</h2>
            <div class="mt-2 max-w-md text-sm text-slate-600">{children()}</div>
        </section>
    }
}
