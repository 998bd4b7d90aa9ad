use leptos::prelude::*;

use crate::{components::Dialog, streams::StreamKind};

fn description(kind: StreamKind) -> &'static str {
    match kind {
        StreamKind::SmsMarketing => "Bulk promotional SMS to many recipients.",
        StreamKind::SmsTransactional => "Receipts, alerts and notices, with event templates.",
        StreamKind::SmsOtp => "One-time passwords: Sluice sends and verifies the codes.",
        StreamKind::SmsTwoWay => "Conversations: replies reach your webhook.",
        StreamKind::Whatsapp => "Templates, media and replies through the WhatsApp Cloud API.",
    }
}

/// "Create Stream API": choose what the stream is for.
#[component]
pub fn TypePicker(on_close: Callback<()>) -> impl IntoView {
    view! {
        <Dialog title="Choose a stream type".to_string() on_close>
            <ul class="space-y-2">
                {StreamKind::ALL
                    .into_iter()
                    .map(|kind| {
                        let group = if kind == StreamKind::Whatsapp { "WhatsApp" } else { "SMS" };
                        view! {
                            <li>
                                <a
                                    href=format!("/streams/new?type={}", kind.as_str())
                                    class="block rounded-lg border border-slate-200 px-4 py-3 hover:border-indigo-400 hover:bg-indigo-50 focus-visible:outline-2 focus-visible:outline-indigo-600"
                                >
                                    <span class="text-xs font-semibold uppercase tracking-wide text-slate-400">{group}</span>
                                    <span class="block font-medium text-slate-900">{kind.label()}</span>
                                    <span class="block text-xs text-slate-500">{description(kind)}</span>
                                </a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </Dialog>
    }
}
