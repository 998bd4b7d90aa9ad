//! The card, fields and error banner shared by the sign-in and sign-up pages.

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

/// The form-wide error (one not tied to a field), as an alert.
#[component]
pub fn FormError(error: Memo<Option<AuthError>>) -> impl IntoView {
    move || {
        error.get().filter(|error| error.field().is_none()).map(|error| {
            view! {
                <p
                    role="alert"
                    data-testid="form-error"
                    class="mb-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800"
                >
                    {error.message()}
                </p>
            }
        })
    }
}

/// A labelled input with the error that belongs to it shown underneath.
#[component]
pub fn Field(
    name: &'static str,
    label: &'static str,
    #[prop(into)] input_type: String,
    autocomplete: &'static str,
    #[prop(optional, into)] value: Signal<String>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] required: bool,
    error: Memo<Option<AuthError>>,
) -> impl IntoView {
    let field_error = move || error.get().filter(|error| error.field() == Some(name));
    let error_id = format!("{name}-error");
    let hint_id = format!("{name}-hint");
    let described_by = {
        let (error_id, hint_id) = (error_id.clone(), hint_id.clone());
        move || {
            if field_error().is_some() {
                Some(error_id.clone())
            } else {
                hint.map(|_| hint_id.clone())
            }
        }
    };

    view! {
        <div class="mb-4">
            <label for=name class="mb-1 block text-sm font-medium text-slate-700">{label}</label>
            <input
                id=name
                name=name
                type=input_type
                autocomplete=autocomplete
                required=required
                value=move || value.get()
                aria-invalid=move || field_error().is_some().then_some("true")
                aria-describedby=described_by
                class="block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-xs focus:border-indigo-500 focus:outline-2 focus:outline-indigo-200 aria-invalid:border-red-400"
            />
            {move || {
                field_error()
                    .map(|error| {
                        view! {
                            <p id=error_id.clone() class="mt-1 text-sm text-red-700">
                                {error.message()}
                            </p>
                        }
                    })
            }}
            {hint.map(|hint| view! { <p id=hint_id.clone() class="mt-1 text-xs text-slate-500">{hint}</p> })}
        </div>
    }
}

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
