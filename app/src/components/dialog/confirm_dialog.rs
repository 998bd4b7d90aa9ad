//! Asks before a destructive or disruptive action.

use super::*;

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
