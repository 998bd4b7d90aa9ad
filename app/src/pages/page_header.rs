use leptos::prelude::*;
use leptos_meta::Title;

/// A page's title (also the document title) and a one-line description.
#[component]
pub fn PageHeader(title: &'static str, description: &'static str) -> impl IntoView {
    view! {
        <Title text=title />
        <div class="mb-6">
            <h1 class="text-2xl font-semibold tracking-tight text-slate-900">{title}</h1>
            <p class="mt-1 text-sm text-slate-600">{description}</p>
        </div>
    }
}
