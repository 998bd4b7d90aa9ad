use leptos::{ev::KeyboardEvent, prelude::*};

use crate::streams::FieldError;

/// A list of values typed one at a time (IP addresses, tags), validated as they are added.
#[component]
pub fn ChipsInput(
    id: &'static str,
    label: &'static str,
    /// The accessible name of the list of values added so far.
    list_label: &'static str,
    add_label: &'static str,
    placeholder: &'static str,
    values: RwSignal<Vec<String>>,
    parse: fn(&str) -> Result<String, FieldError>,
    #[prop(optional)] suggestions: Vec<String>,
    #[prop(into)] server_error: Signal<Option<String>>,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let local_error = RwSignal::new(None::<String>);
    let add = move || {
        let typed = text.get_untracked();
        if typed.trim().is_empty() {
            return;
        }
        match parse(&typed) {
            Ok(value) => {
                values.update(|values| {
                    if !values.contains(&value) {
                        values.push(value);
                    }
                });
                text.set(String::new());
                local_error.set(None);
            }
            Err(error) => local_error.set(Some(error.message)),
        }
    };
    let on_enter = move |event: KeyboardEvent| {
        if event.key() == "Enter" {
            event.prevent_default();
            add();
        }
    };
    let list_id = format!("{id}-suggestions");
    let error = move || local_error.get().or_else(|| server_error.get());
    view! {
        <div>
            <label for=id class="mb-1 block text-sm font-medium text-slate-700">{label}</label>
            <div class="flex gap-2">
                <input
                    id=id
                    bind:value=text
                    placeholder=placeholder
                    list=list_id.clone()
                    on:keydown=on_enter
                    aria-invalid=move || error().is_some().then_some("true")
                    class="min-w-0 flex-1 rounded-md border border-slate-300 px-3 py-2 text-sm"
                />
                <button
                    type="button"
                    on:click=move |_| add()
                    class="rounded-md border border-slate-300 px-3 py-2 text-sm font-medium hover:bg-slate-50"
                >
                    {add_label}
                </button>
            </div>
            <datalist id=list_id>
                {suggestions.into_iter().map(|s| view! { <option value=s></option> }).collect_view()}
            </datalist>
            {move || error().map(|message| view! { <p class="mt-1 text-sm text-red-700" role="alert">{message}</p> })}
            <ul class="mt-2 flex flex-wrap gap-2" aria-label=list_label>
                <For each=move || values.get() key=|value| value.clone() let:value>
                    {
                        let remove_value = value.clone();
                        view! {
                            <li class="flex items-center gap-1 rounded-full bg-indigo-50 py-0.5 pr-1 pl-3 text-xs text-indigo-800">
                                {value.clone()}
                                <button
                                    type="button"
                                    aria-label=format!("Remove {value}")
                                    class="rounded-full px-1.5 hover:bg-indigo-100"
                                    on:click=move |_| values.update(|values| values.retain(|v| *v != remove_value))
                                >
                                    "×"
                                </button>
                            </li>
                        }
                    }
                </For>
            </ul>
        </div>
    }
}
