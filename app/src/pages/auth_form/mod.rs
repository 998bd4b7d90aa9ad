//! The card, fields and error banner shared by the sign-in and sign-up pages.

mod field;
mod form_error;
mod submit_button;

pub use self::{field::Field, form_error::FormError, submit_button::SubmitButton};

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{auth::AuthError, layout::Logo};

/// The error a failed form submission put in the URL (`?error=<code>`).
pub fn query_error() -> Memo<Option<AuthError>> {
    let query = use_query_map();
    Memo::new(move |_| {
        query
            .read()
            .get("error")
            .map(|code| AuthError::from_code(&code).unwrap_or(AuthError::Internal))
    })
}

/// A query parameter, or an empty string.
pub fn query_value(key: &'static str) -> Memo<String> {
    let query = use_query_map();
    Memo::new(move |_| query.read().get(key).unwrap_or_default())
}

#[component]
pub fn AuthCard(heading: &'static str, children: Children) -> impl IntoView {
    view! {
        <main class="flex min-h-full items-center justify-center px-4 py-12">
            <div class="w-full max-w-sm">
                <div class="mb-8 flex items-center justify-center gap-2">
                    <Logo />
                    <span class="text-xl font-semibold tracking-tight">"Sluice"</span>
                </div>
                <div class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm sm:p-8">
                    <h1 class="mb-6 text-xl font-semibold tracking-tight">{heading}</h1>
                    {children()}
                </div>
            </div>
        </main>
    }
}
