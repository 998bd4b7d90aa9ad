//! Previews of the requests a stream answers and of the one its webhook receives.

mod webhook_request_preview;
pub use self::webhook_request_preview::WebhookRequestPreview;
use leptos::prelude::*;

use crate::{
    components::CopyButton,
    streams::{StreamKind, request_previews, settings::webhook_body_preview},
};

/// The requests a stream answers, each with its endpoint and body and copy buttons.
#[component]
pub fn RequestPreviewList(kind: StreamKind, sender: Option<String>) -> impl IntoView {
    // The console's own address, known only in the browser; paths alone until then.
    let origin = RwSignal::new(String::new());
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            origin.set(window.location().origin().unwrap_or_default());
        }
    });
    request_previews(kind, sender.as_deref())
        .into_iter()
        .map(|preview| {
            let path = preview.path;
            let endpoint = Signal::derive(move || format!("{}{path}", origin.get()));
            view! {
                <section class="rounded-lg border border-slate-200" data-testid="request-preview">
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
                    <pre class="overflow-x-auto bg-slate-900 px-3 py-2 text-xs text-slate-100" tabindex="0" aria-label=format!("{} request body", preview.title)>{preview.body}</pre>
                </section>
            }
        })
        .collect_view()
}
