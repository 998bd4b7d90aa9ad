//! A labelled value shown in full, with a button that copies it.

use super::*;

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
