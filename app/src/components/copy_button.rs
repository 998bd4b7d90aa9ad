use leptos::prelude::*;

use super::Toasts;

/// Copies `text` to the clipboard and says so.
#[component]
pub fn CopyButton(#[prop(into)] text: Signal<String>, label: &'static str) -> impl IntoView {
    let toasts = use_context::<Toasts>();
    let copy = move |_| {
        let value = text.get_untracked();
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            let promise = window.navigator().clipboard().write_text(&value);
            leptos::task::spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = value;
        if let Some(toasts) = toasts {
            toasts.show("Copied to the clipboard.");
        }
    };
    view! {
        <button
            type="button"
            aria-label=label
            class="rounded-md border border-slate-300 px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-50"
            on:click=copy
        >
            "Copy"
        </button>
    }
}

/// A labelled value shown in full, with a button that copies it.
#[component]
pub fn CopyField(
    label: &'static str,
    value: String,
    /// The button's accessible name.
    copy_label: &'static str,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div>
            <p class="mb-1 text-sm font-medium text-slate-700">{label}</p>
            <div class="flex items-center gap-2">
                <code class="min-w-0 flex-1 break-all rounded-md bg-slate-50 px-3 py-2 text-xs" data-testid=testid>{value.clone()}</code>
                <CopyButton text=value label=copy_label />
            </div>
        </div>
    }
}
