//! The `DetailsForm` component.

use super::*;

#[component]
pub(super) fn DetailsForm(
    stream: Stream,
    tags: Vec<String>,
    sender_ids: Vec<String>,
    changed: Callback<()>,
) -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    let id = stream.id.clone();
    let state = WizardState::new(stream.kind, Some(stream), Default::default());
    let save = move |_| {
        let work = update_stream(id.clone(), state.input());
        submit(state.busy, state.error, work, move |_| {
            toasts.show("Stream details saved.");
            changed.run(());
        });
    };
    view! {
        <DetailsStep state tags sender_ids />
        <div class="mt-6 flex justify-end">
            <button type="button" class=PRIMARY disabled=move || state.busy.get() on:click=save>
                "Save details"
            </button>
        </div>
    }
}
