//! Labelled form controls that show the server's error for their field.

mod text_field;
pub use self::text_field::TextField;
use leptos::prelude::*;

use crate::error::AppError;

/// The classes of every text input, select and textarea in console forms.
pub const INPUT: &str =
    "block w-full rounded-md border border-slate-300 px-3 py-2 text-sm aria-invalid:border-red-400";

/// The message of `error` when it belongs to `field`.
pub fn error_of(error: RwSignal<Option<AppError>>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || {
        error
            .get()
            .filter(|error| error.field.as_deref() == Some(field))
            .map(|error| error.message)
    })
}

/// A labelled form control with an optional hint and the server's error under it.
#[component]
pub fn Field(
    id: &'static str,
    label: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(into)] error: Signal<Option<String>>,
    children: Children,
) -> impl IntoView {
    view! {
        <div>
            <label for=id class="mb-1 block text-sm font-medium text-slate-700">{label}</label>
            {children()}
            {(!hint.is_empty()).then(|| view! { <p class="mt-1 text-xs text-slate-500">{hint}</p> })}
            {move || error.get().map(|message| view! { <p class="mt-1 text-sm text-red-700" role="alert">{message}</p> })}
        </div>
    }
}

/// The text a form control reads and writes: a signal of its own, or a field of a store.
#[derive(Debug, Clone, Copy)]
pub struct TextValue {
    read: Signal<String>,
    write: SignalSetter<String>,
}

impl<T> From<T> for TextValue
where
    T: Get<Value = String> + Set<Value = String> + Copy + Send + Sync + 'static,
{
    fn from(text: T) -> Self {
        Self {
            read: Signal::derive(move || text.get()),
            write: SignalSetter::map(move |value| text.set(value)),
        }
    }
}
