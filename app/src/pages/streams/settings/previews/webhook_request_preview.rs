//! What Sluice sends to the stream's webhook.

use super::*;

/// What Sluice sends to the stream's webhook: a message that came in, or a status change.
#[component]
pub fn WebhookRequestPreview(
    kind: StreamKind,
    #[prop(into)] method: Signal<String>,
    #[prop(into)] url: Signal<String>,
) -> impl IntoView {
    let body = webhook_body_preview(kind);
    view! {
        <section class="rounded-lg border border-slate-200" data-testid="webhook-preview">
            <header class="flex items-center justify-between gap-2 border-b border-slate-100 px-3 py-2">
                <h3 class="text-sm font-medium">"Webhook request (Sluice → you)"</h3>
                <CopyButton text=Signal::stored(body.clone()) label="Copy webhook body" />
            </header>
            <code class="block truncate px-3 py-2 text-xs text-slate-700">{move || format!("{} {}", method.get(), url.get().trim())}</code>
            <pre class="overflow-x-auto bg-slate-900 px-3 py-2 text-xs text-slate-100" tabindex="0" aria-label="Webhook request body">{body}</pre>
        </section>
    }
}
