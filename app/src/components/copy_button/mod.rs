//! Copying a value to the clipboard: a button, and a read-only field with one.

mod copy_field;
pub use self::copy_field::CopyField;
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
