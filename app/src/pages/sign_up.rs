use leptos::prelude::*;
use leptos_meta::Title;

use super::auth_form::{AuthCard, Field, FormError, SubmitButton, query_error, query_value};

#[component]
pub fn SignUpPage() -> impl IntoView {
    let error = query_error();
    let email = query_value("email");
    let account_name = query_value("account_name");

    view! {
        <Title text="Create an account" />
        <AuthCard heading="Create your Sluice account">
            <form method="post" action="/auth/sign-up" novalidate>
                <FormError error />
                <Field
                    name="account_name"
                    label="Company or team"
                    input_type="text"
                    autocomplete="organization"
                    value=account_name
                    hint="Optional. Defaults to your email's domain."
                    error
                />
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
                    autocomplete="new-password"
                    hint="10 to 128 characters."
                    required=true
                    error
                />
                <SubmitButton label="Create account" />
            </form>
            <p class="mt-6 text-center text-sm text-slate-600">
                "Already have an account? "
                <a href="/sign-in" class="font-medium text-indigo-600 hover:underline">
                    "Sign in"
                </a>
            </p>
        </AuthCard>
    }
}
