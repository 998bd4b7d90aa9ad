//! The Connections page: the upstream SMS providers an account's non-demo SMS streams send
//! through, their health, and the account's default.

mod editor;
mod form;
mod http_fields;
mod smpp_fields;

use leptos::{prelude::*, task::spawn_local};

use self::{editor::ConnectionEditor, form::ConnectionForm};
use super::{empty_state::EmptyState, page_header::PageHeader};
use crate::{
    components::{ConfirmDialog, Toasts},
    connections::{
        Connection, ConnectionInput, ConnectionSettings, Health,
        api::{delete_connection, list_connections, save_connection},
    },
    error::AppError,
    time::short_utc,
};

#[component]
pub fn ConnectionsPage() -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    let list = Resource::new(|| (), |_| list_connections());
    let form = ConnectionForm::new();
    let open = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let deleting = RwSignal::new(None::<(String, String)>);

    let save = move || {
        let id = form.editing.get_untracked();
        let input = form.input();
        spawn_local(async move {
            match save_connection(id.clone(), input).await {
                Ok(saved) => {
                    error.set(None);
                    open.set(false);
                    let verb = if id.is_some() { "saved" } else { "added" };
                    toasts.show(format!("Connection {} {verb}.", saved.name));
                    list.refetch();
                }
                Err(failure) => error.set(Some(failure)),
            }
        });
    };
    let make_default = move |connection: Connection| {
        let input = ConnectionInput {
            name: connection.name.clone(),
            settings: connection.settings.clone(),
            secret: None,
            is_default: true,
        };
        spawn_local(async move {
            match save_connection(Some(connection.id), input).await {
                Ok(saved) => {
                    toasts.show(format!("{} is now the default connection.", saved.name));
                    list.refetch();
                }
                Err(failure) => toasts.show(failure.message),
            }
        });
    };
    let confirm_delete = Callback::new(move |()| {
        let Some((id, name)) = deleting.get_untracked() else {
            return;
        };
        deleting.set(None);
        spawn_local(async move {
            match delete_connection(id).await {
                Ok(()) => {
                    toasts.show(format!("Connection {name} deleted."));
                    list.refetch();
                }
                Err(failure) => toasts.show(failure.message),
            }
        });
    });

    view! {
        <PageHeader
            title="Connections"
            description="The SMS providers (HTTP APIs and SMPP SMSCs) your non-demo SMS streams send through. Streams use the default unless their Info tab picks another; with no connection, messages go to the demo channel."
        />
        <div class="mb-4">
            <button
                type="button"
                class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500"
                on:click=move |_| {
                    form.load(None, String::new(), ConnectionSettings::default(), false, false);
                    error.set(None);
                    open.set(true);
                }
            >
                "Add connection"
            </button>
        </div>
        <Show when=move || open.get()>
            <ConnectionEditor form error on_save=Callback::new(move |()| save()) on_cancel=Callback::new(move |()| open.set(false)) />
        </Show>
        <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                list.await.map(|connections| {
                    if connections.is_empty() {
                        return view! {
                            <EmptyState title="No connections yet">
                                "Add your SMS provider's HTTP API to send real messages. Until then, every stream uses the demo channel."
                            </EmptyState>
                        }.into_any();
                    }
                    view! {
                        <ul class="space-y-3" aria-label="Connections">
                            {connections.into_iter().map(|connection| {
                                let (edit_target, default_target) = (connection.clone(), connection.clone());
                                let delete_target = (connection.id.clone(), connection.name.clone());
                                let health_class = match connection.health {
                                    Health::Up => "bg-emerald-50 text-emerald-700",
                                    Health::Down => "bg-red-50 text-red-700",
                                    Health::Unknown => "bg-slate-100 text-slate-600",
                                };
                                let seen = connection.health_at.map(|at| format!(" · {}", short_utc(at))).unwrap_or_default();
                                view! {
                                    <li class="rounded-xl border border-slate-200 bg-white p-4" data-testid="connection">
                                        <div class="flex flex-wrap items-center gap-2">
                                            <h2 class="text-base font-semibold">{connection.name.clone()}</h2>
                                            {connection.is_default.then(|| view! {
                                                <span class="rounded-full bg-indigo-50 px-2 py-0.5 text-xs font-medium text-indigo-700">"Default"</span>
                                            })}
                                            <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {health_class}") data-testid="health">
                                                {connection.health.label()}{seen}
                                            </span>
                                        </div>
                                        <p class="mt-1 break-all font-mono text-xs text-slate-600">
                                            {connection.settings.summary()}
                                        </p>
                                        {connection.health_detail.clone().map(|detail| view! {
                                            <p class="mt-1 text-sm text-slate-700" data-testid="health-detail">{detail}</p>
                                        })}
                                        <div class="mt-3 flex flex-wrap gap-2">
                                            <button
                                                type="button"
                                                aria-label=format!("Edit {}", connection.name)
                                                class="rounded-md border border-slate-300 px-3 py-1 text-sm hover:bg-slate-50"
                                                on:click=move |_| {
                                                    form.edit(&edit_target);
                                                    error.set(None);
                                                    open.set(true);
                                                }
                                            >
                                                "Edit"
                                            </button>
                                            {(!connection.is_default).then(|| view! {
                                                <button
                                                    type="button"
                                                    aria-label=format!("Make {} the default", connection.name)
                                                    class="rounded-md border border-slate-300 px-3 py-1 text-sm hover:bg-slate-50"
                                                    on:click=move |_| make_default(default_target.clone())
                                                >
                                                    "Make default"
                                                </button>
                                            })}
                                            <button
                                                type="button"
                                                aria-label=format!("Delete {}", connection.name)
                                                class="rounded-md px-3 py-1 text-sm text-red-700 hover:bg-red-50"
                                                on:click=move |_| deleting.set(Some(delete_target.clone()))
                                            >
                                                "Delete"
                                            </button>
                                        </div>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                })
            })}
        </Transition>
        {move || deleting.get().map(|(_, name)| view! {
            <ConfirmDialog
                title=format!("Delete the connection {name}?")
                message="Streams that chose it use the default connection; messages already queued for it fail with no_routes.".to_string()
                confirm_label="Delete connection"
                on_confirm=confirm_delete
                on_close=Callback::new(move |()| deleting.set(None))
            />
        })}
    }
}
