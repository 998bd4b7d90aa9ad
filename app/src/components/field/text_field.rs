//! A one-line text input in a [`Field`]: the server's error for `field` shows under it and
//! marks it invalid.

use super::*;

/// A one-line text input in a [`Field`]: the server's error for `field` shows under it and
/// marks it invalid.
#[component]
pub fn TextField(
    id: &'static str,
    label: &'static str,
    #[prop(into)] value: TextValue,
    error: RwSignal<Option<AppError>>,
    /// The field name the server's errors use.
    field: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] placeholder: &'static str,
    /// The input's `type`; text when empty.
    #[prop(optional)]
    kind: &'static str,
    #[prop(optional)] inputmode: &'static str,
) -> impl IntoView {
    let message = error_of(error, field);
    let kind = if kind.is_empty() { "text" } else { kind };
    view! {
        <Field id label hint error=message>
            <input
                id=id
                type=kind
                inputmode=(!inputmode.is_empty()).then_some(inputmode)
                autocomplete=(kind == "password").then_some("off")
                placeholder=(!placeholder.is_empty()).then_some(placeholder)
                bind:value=(value.read, value.write)
                class=INPUT
                aria-invalid=move || message.get().is_some().then_some("true")
            />
        </Field>
    }
}
