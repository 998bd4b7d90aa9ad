//! A labelled input with the error that belongs to it shown underneath.

use super::*;

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
