use leptos::prelude::*;

use super::{CopyButton, Dialog};

/// Shows a stream's API token with a copy button.
#[component]
pub fn TokenDialog(
    title: String,
    intro: &'static str,
    token: String,
    on_done: Callback<()>,
) -> impl IntoView {
    view! {
        <Dialog title on_close=on_done>
            <p>{intro}</p>
            <div class="mt-4 flex gap-2">
                <input
                    readonly
                    aria-label="API token"
                    value=token.clone()
                    class="min-w-0 flex-1 rounded-md border border-slate-300 bg-slate-50 px-3 py-2 font-mono text-xs"
                />
                <CopyButton text=token label="Copy token" />
            </div>
            <div class="mt-6 flex justify-end">
                <button
                    type="button"
                    autofocus
                    class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white"
                    on:click=move |_| on_done.run(())
                >
                    "Done"
                </button>
            </div>
        </Dialog>
    }
}
