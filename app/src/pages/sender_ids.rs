use leptos::{prelude::*, task::spawn_local};

use super::{empty_state::EmptyState, page_header::PageHeader};
use crate::{
    components::{ConfirmDialog, Toasts},
    streams::api::{add_sender_id, delete_sender_id, list_sender_ids},
};

#[component]
pub fn SenderIdsPage() -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    let senders = Resource::new(|| (), |_| list_sender_ids());
    let value = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let deleting = RwSignal::new(None::<String>);
    let add = move || {
        let typed = value.get_untracked();
        spawn_local(async move {
            match add_sender_id(typed).await {
                Ok(added) => {
                    value.set(String::new());
                    error.set(None);
                    toasts.show(format!("Sender ID {added} added."));
                    senders.refetch();
                }
                Err(failure) => error.set(Some(failure.message)),
            }
        });
    };
    let confirm_delete = Callback::new(move |()| {
        let Some(sender) = deleting.get_untracked() else {
            return;
        };
        deleting.set(None);
        spawn_local(async move {
            match delete_sender_id(sender.clone()).await {
                Ok(()) => {
                    toasts.show(format!("Sender ID {sender} deleted."));
                    senders.refetch();
                }
                Err(failure) => toasts.show(failure.message),
            }
        });
    });

    view! {
        <PageHeader
            title="Sender IDs"
            description="The names and numbers your messages come from."
        />
        <form
            class="mb-6 flex flex-wrap items-start gap-2"
            on:submit=move |event| {
                event.prevent_default();
                add();
            }
        >
            <div class="flex flex-col">
                <label for="sender-id" class="mb-1 text-sm font-medium text-slate-700">"New sender ID"</label>
                <input
                    id="sender-id"
                    bind:value=value
                    placeholder="Acme or 447700900123"
                    aria-invalid=move || error.get().is_some().then_some("true")
                    class="w-64 rounded-md border border-slate-300 px-3 py-2 text-sm aria-invalid:border-red-400"
                />
                {move || error.get().map(|message| view! { <p class="mt-1 max-w-sm text-sm text-red-700">{message}</p> })}
            </div>
            <button type="submit" class="mt-6 rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500">
                "Add sender ID"
            </button>
        </form>
        <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                senders.await.map(|senders| {
                    if senders.is_empty() {
                        return view! {
                            <EmptyState title="No sender IDs yet">
                                "A sender ID is an alphanumeric name of up to 11 characters or a number of up to 15 digits."
                            </EmptyState>
                        }.into_any();
                    }
                    view! {
                        <ul class="divide-y divide-slate-100 rounded-xl border border-slate-200 bg-white" aria-label="Sender IDs">
                            {senders.into_iter().map(|sender| {
                                let target = sender.clone();
                                view! {
                                    <li class="flex items-center justify-between px-4 py-3 text-sm">
                                        <span class="font-mono">{sender.clone()}</span>
                                        <button
                                            type="button"
                                            aria-label=format!("Delete {sender}")
                                            class="rounded-md px-3 py-1 text-red-700 hover:bg-red-50"
                                            on:click=move |_| deleting.set(Some(target.clone()))
                                        >
                                            "Delete"
                                        </button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                })
            })}
        </Transition>
        {move || deleting.get().map(|sender| view! {
            <ConfirmDialog
                title=format!("Delete the sender ID {sender}?")
                message="Streams that use it as their default sender become Customized.".to_string()
                confirm_label="Delete sender ID"
                on_confirm=confirm_delete
                on_close=Callback::new(move |()| deleting.set(None))
            />
        })}
    }
}
