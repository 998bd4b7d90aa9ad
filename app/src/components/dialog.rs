use leptos::{ev::KeyboardEvent, prelude::*};

/// A modal dialog over the page; Escape and the backdrop close it.
#[component]
pub fn Dialog(title: String, on_close: Callback<()>, children: Children) -> impl IntoView {
    let label = title.clone();
    let close_on_escape = move |event: KeyboardEvent| {
        if event.key() == "Escape" {
            on_close.run(());
        }
    };
    view! {
        <div class="fixed inset-0 z-40 flex items-center justify-center p-4" on:keydown=close_on_escape>
            <div class="absolute inset-0 bg-slate-900/40" on:click=move |_| on_close.run(())></div>
            <section
                role="dialog"
                aria-modal="true"
                aria-label=label
                class="relative w-full max-w-md rounded-xl bg-white p-6 shadow-xl"
            >
                <h2 class="text-lg font-semibold text-slate-900">{title}</h2>
                <div class="mt-3 text-sm text-slate-600">{children()}</div>
            </section>
        </div>
    }
}

/// Asks before a destructive or disruptive action.
#[component]
pub fn ConfirmDialog(
    title: String,
    message: String,
    confirm_label: &'static str,
    on_confirm: Callback<()>,
    on_close: Callback<()>,
) -> impl IntoView {
    view! {
        <Dialog title on_close>
            <p>{message}</p>
            <div class="mt-6 flex justify-end gap-2">
                <button
                    type="button"
                    class="rounded-md border border-slate-300 px-4 py-2 text-sm font-medium hover:bg-slate-50"
                    on:click=move |_| on_close.run(())
                >
                    "Cancel"
                </button>
                <button
                    type="button"
                    autofocus
                    class="rounded-md bg-red-600 px-4 py-2 text-sm font-semibold text-white hover:bg-red-500"
                    on:click=move |_| on_confirm.run(())
                >
                    {confirm_label}
                </button>
            </div>
        </Dialog>
    }
}
