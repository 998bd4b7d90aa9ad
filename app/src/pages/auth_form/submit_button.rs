//! The `SubmitButton` component.

use super::*;

#[component]
pub fn SubmitButton(label: &'static str) -> impl IntoView {
    view! {
        <button
            type="submit"
            class="mt-2 w-full rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600"
        >
            {label}
        </button>
    }
}
