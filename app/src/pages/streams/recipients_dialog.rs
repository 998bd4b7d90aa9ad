use leptos::{prelude::*, task::spawn_local};

use crate::{
    components::{Dialog, TextField, Toasts},
    error::AppError,
    ids::StreamId,
    pages::streams::settings::{PRIMARY, SECONDARY, submit},
    streams::{
        api::{StreamAction, apply_stream_action},
        settings_api::{add_test_recipient, list_test_recipients, remove_test_recipient},
    },
};

/// The test recipients of a stream and, for a stream not yet restricted, the Restrict button.
#[component]
pub fn RecipientsDialog(
    id: StreamId,
    name: String,
    restricted: bool,
    on_close: Callback<()>,
    refresh: Callback<()>,
) -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    let stream_id = StoredValue::new(id);
    let recipients = Resource::new(move || stream_id.get_value(), list_test_recipients);
    let phone = RwSignal::new(String::new());
    let (busy, error) = (RwSignal::new(false), RwSignal::new(None::<AppError>));
    let add = move || {
        let work = add_test_recipient(stream_id.get_value(), phone.get_untracked());
        submit(busy, error, work, move |added| {
            toasts.show(format!("{added} added to the test recipients."));
            phone.set(String::new());
            recipients.refetch();
        });
    };
    let remove = move |number: String| {
        spawn_local(async move {
            match remove_test_recipient(stream_id.get_value(), number.clone()).await {
                Ok(()) => {
                    toasts.show(format!("{number} removed from the test recipients."));
                    recipients.refetch();
                }
                Err(error) => toasts.show(error.message),
            }
        });
    };
    let restrict = move |_| {
        let work = apply_stream_action(stream_id.get_value(), StreamAction::Restrict);
        submit(busy, error, work, move |()| {
            toasts.show("Stream restricted to its test recipients.");
            on_close.run(());
            refresh.run(());
        });
    };
    let title = if restricted {
        format!("Test recipients of {name}")
    } else {
        format!("Restrict {name}?")
    };
    view! {
        <Dialog title on_close wide=true>
            <p>
                "A restricted stream delivers only to these numbers and refuses every other recipient "
                "with a clear error: a sandbox for staging systems."
            </p>
            <Transition fallback=|| view! { <p class="mt-4 text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    recipients.await.map(|list| {
                        if list.is_empty() {
                            return view! { <p class="mt-4 rounded-lg border border-dashed border-slate-300 p-3" data-testid="recipients-empty">"No test recipients yet."</p> }.into_any();
                        }
                        view! {
                            <ul class="mt-4 divide-y divide-slate-100 rounded-lg border border-slate-200" aria-label="Test recipients">
                                {list.into_iter().map(|number| {
                                    let label = format!("Remove {number}");
                                    let value = number.clone();
                                    view! {
                                        <li class="flex items-center justify-between px-3 py-2">
                                            <span class="font-mono text-slate-900">{number}</span>
                                            <button type="button" class="rounded px-2 py-1 text-red-700 hover:bg-red-50" aria-label=label on:click=move |_| remove(value.clone())>
                                                "Remove"
                                            </button>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    })
                })}
            </Transition>
            <form class="mt-4 flex items-end gap-2" on:submit=move |event| { event.prevent_default(); add(); }>
                <div class="flex-1">
                    <TextField id="test-recipient" label="Add a test recipient" value=phone error field="phone" kind="tel" placeholder="+447700900123" />
                </div>
                <button type="submit" class=SECONDARY disabled=move || busy.get()>"Add"</button>
            </form>
            <div class="mt-6 flex justify-end gap-2">
                {if restricted {
                    view! { <button type="button" class=PRIMARY on:click=move |_| on_close.run(())>"Done"</button> }.into_any()
                } else {
                    view! {
                        <button type="button" class=SECONDARY on:click=move |_| on_close.run(())>"Cancel"</button>
                        <button type="button" class=PRIMARY disabled=move || busy.get() on:click=restrict>"Restrict stream"</button>
                    }.into_any()
                }}
            </div>
        </Dialog>
    }
}
