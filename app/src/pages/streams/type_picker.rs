use leptos::{prelude::*, task::spawn_local};

use crate::{
    components::{Dialog, Toasts},
    streams::{
        StreamKind,
        access::{WhatsAppAccess, request_whatsapp_access, whatsapp_access},
    },
};

const CHOICE: &str = "block rounded-lg border border-slate-200 px-4 py-3 hover:border-indigo-400 hover:bg-indigo-50 focus-visible:outline-2 focus-visible:outline-indigo-600";

fn description(kind: StreamKind) -> &'static str {
    match kind {
        StreamKind::SmsMarketing => "Bulk promotional SMS to many recipients.",
        StreamKind::SmsTransactional => "Receipts, alerts and notices, with event templates.",
        StreamKind::SmsOtp => "One-time passwords: Sluice sends and verifies the codes.",
        StreamKind::SmsTwoWay => "Conversations: replies reach your webhook.",
        StreamKind::Whatsapp => "Templates, media and replies through the WhatsApp Cloud API.",
    }
}

/// "Create Stream API": choose what the stream is for. WhatsApp shows as the operator keeps
/// it: a choice, a *Request Access* button, a request waiting, or nothing.
#[component]
pub fn TypePicker(on_close: Callback<()>) -> impl IntoView {
    let access = Resource::new(|| (), |_| whatsapp_access());
    view! {
        <Dialog title="Choose a stream type".to_string() on_close>
            <ul class="space-y-2">
                {StreamKind::ALL
                    .into_iter()
                    .filter(|kind| *kind != StreamKind::Whatsapp)
                    .map(|kind| view! { <li><KindChoice kind /></li> })
                    .collect_view()}
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let access = access.await.unwrap_or(WhatsAppAccess::Closed);
                        (access != WhatsAppAccess::Closed)
                            .then(|| view! { <li><WhatsAppChoice access /></li> })
                    })}
                </Suspense>
            </ul>
        </Dialog>
    }
}

#[component]
fn KindChoice(kind: StreamKind) -> impl IntoView {
    let group = if kind == StreamKind::Whatsapp {
        "WhatsApp"
    } else {
        "SMS"
    };
    view! {
        <a href=format!("/streams/new?type={}", kind.as_str()) class=CHOICE>
            <span class="text-xs font-semibold uppercase tracking-wide text-slate-500">{group}</span>
            <span class="block font-medium text-slate-900">{kind.label()}</span>
            <span class="block text-xs text-slate-500">{description(kind)}</span>
        </a>
    }
}

/// WhatsApp, open to this account or behind a request.
#[component]
fn WhatsAppChoice(access: WhatsAppAccess) -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    let access = RwSignal::new(access);
    let request = move |_| {
        spawn_local(async move {
            match request_whatsapp_access().await {
                Ok(now) => {
                    access.set(now);
                    toasts.show(
                        "Access request sent. You can create WhatsApp streams once it is granted.",
                    );
                }
                Err(error) => toasts.show(error.message),
            }
        });
    };
    move || {
        match access.get() {
        WhatsAppAccess::Open => view! { <KindChoice kind=StreamKind::Whatsapp /> }.into_any(),
        state => view! {
            <div class="rounded-lg border border-dashed border-slate-300 px-4 py-3" data-testid="whatsapp-access">
                <span class="text-xs font-semibold uppercase tracking-wide text-slate-500">"WhatsApp · Beta"</span>
                <span class="block font-medium text-slate-900">{StreamKind::Whatsapp.label()}</span>
                <span class="block text-xs text-slate-500">{description(StreamKind::Whatsapp)}</span>
                {if state == WhatsAppAccess::Requested {
                    view! { <p class="mt-2 text-sm text-slate-700" role="status">"Access requested: you will be able to create WhatsApp streams once it is granted."</p> }.into_any()
                } else {
                    view! { <button type="button" class="mt-2 rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-indigo-500" on:click=request>"Request Access"</button> }.into_any()
                }}
            </div>
        }.into_any(),
    }
    }
}
