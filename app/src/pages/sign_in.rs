use leptos::prelude::*;
use leptos_meta::Title;

use super::auth_form::{AuthCard, Field, FormError, SubmitButton, query_error, query_value};

/// A plain HTML form posted to the server, so it works with or without JavaScript.
#[component]
pub fn SignInPage() -> impl IntoView {
    let error = query_error();
    let email = query_value("email");
    let next = query_value("next");

    view! {
        <Title text="Sign in" />
        <AuthCard heading="Sign in to your account">
            <form method="post" action="/auth/sign-in" novalidate>
                <FormError error />
                <input type="hidden" name="next" value=move || next.get() />
                <Field
                    name="email"
                    label="Email"
                    input_type="email"
                    autocomplete="email"
                    value=email
                    required=true
                    error
                />
                <Field
                    name="password"
                    label="Password"
                    input_type="password"
                    autocomplete="current-password"
                    required=true
                    error
                />
                <SubmitButton label="Sign in" />
            </form>
            <p class="mt-6 text-center text-sm text-slate-600">
                "New to Sluice? "
                <a href="/sign-up" class="font-medium text-indigo-600 hover:underline">
                    "Create an account"
                </a>
            </p>
        </AuthCard>
    }
}
