use leptos::prelude::*;

use super::state::WizardState;
use crate::{components::CopyButton, streams::request_previews};

/// The last step: what was chosen, and the requests the stream will answer.
#[component]
pub fn SummaryStep(state: WizardState) -> impl IntoView {
    // The console's own address, known only in the browser; paths alone until then.
    let origin = RwSignal::new(String::new());
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            origin.set(window.location().origin().unwrap_or_default());
        }
    });
    let input = state.input();
    let sender = input
        .default_sender
        .clone()
        .filter(|s| !s.trim().is_empty());
    let previews = request_previews(state.kind, sender.as_deref());
    let row = |term: &'static str, value: String| {
        view! {
            <div class="grid grid-cols-3 gap-2 py-2">
                <dt class="text-slate-500">{term}</dt>
                <dd class="col-span-2 break-words text-slate-900">{value}</dd>
            </div>
        }
    };
    let or_none = |items: &[String]| {
        if items.is_empty() {
            "None".to_string()
        } else {
            items.join(", ")
        }
    };
    view! {
        <div class="grid gap-6 lg:grid-cols-2">
            <dl class="divide-y divide-slate-100 text-sm" data-testid="summary">
                {row("Type", state.kind.label().into())}
                {row("Name", input.name.clone())}
                {row("Description", if input.description.is_empty() { "—".into() } else { input.description.clone() })}
                {row("Allowed IPs", if input.ip_acl_enabled { or_none(&input.allowed_ips) } else { "Any".into() })}
                {row("Tags", or_none(&input.tags))}
                {row("Default sender", sender.clone().unwrap_or_else(|| "Customized".into()))}
                {row("Demo Sending", if input.demo { "On".into() } else { "Off".into() })}
            </dl>
            <div class="space-y-4">
                {previews
                    .into_iter()
                    .map(|preview| {
                        let path = preview.path;
                        let endpoint = Signal::derive(move || format!("{}{path}", origin.get()));
                        view! {
                            <section class="rounded-lg border border-slate-200">
                                <header class="flex items-center justify-between gap-2 border-b border-slate-100 px-3 py-2">
                                    <h3 class="text-sm font-medium">{preview.title}</h3>
                                    <CopyButton text=Signal::stored(preview.body.clone()) label="Copy request body" />
                                </header>
                                <div class="flex items-center gap-2 px-3 py-2">
                                    <code class="min-w-0 flex-1 truncate text-xs text-slate-700">
                                        {preview.method} " " {move || endpoint.get()}
                                    </code>
                                    <CopyButton text=endpoint label="Copy endpoint" />
                                </div>
                                <pre class="overflow-x-auto bg-slate-900 px-3 py-2 text-xs text-slate-100">{preview.body}</pre>
                            </section>
                        }
                    })
                    .collect_view()}
            </div>
        </div>
    }
}
