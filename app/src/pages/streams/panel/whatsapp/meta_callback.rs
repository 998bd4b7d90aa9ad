//! What to enter in the Meta app's WhatsApp webhook configuration.

use super::*;

/// What to enter in the Meta app's WhatsApp webhook configuration.
#[component]
pub(super) fn MetaCallback(inbound: InboundAddress) -> impl IntoView {
    let InboundAddress { path, verify_token } = inbound;
    view! {
        <section class="mt-8 border-t border-slate-200 pt-6" aria-labelledby="meta-callback-title">
            <h3 id="meta-callback-title" class="mb-1 text-sm font-semibold text-slate-900">"Meta webhook"</h3>
            <p class="mb-3 text-xs text-slate-500">
                "In your Meta app's WhatsApp configuration, set the callback URL to this path on this server's address, with this verify token, and subscribe to messages: delivery statuses and customers' messages then arrive here, signed with the app secret."
            </p>
            <div class="space-y-3">
                <CopyField label="Callback URL path" value=path copy_label="Copy callback path" testid="callback-path" />
                <CopyField label="Verify token" value=verify_token copy_label="Copy verify token" testid="verify-token" />
            </div>
        </section>
    }
}
