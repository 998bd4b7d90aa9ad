//! The open tab's content.

use super::*;

/// The open tab's content.
#[component]
pub(super) fn TabBody(
    stream: Stream,
    data: TabData,
    changed: Callback<()>,
    reload: Callback<()>,
) -> impl IntoView {
    let kind = stream.kind;
    let id = stream.id.clone();
    let (content, tab) = match data {
        TabData::Info {
            tags,
            sender_ids,
            stats,
            routing,
        } => (
            view! { <InfoTab stream tags sender_ids stats routing changed /> }.into_any(),
            Tab::Info,
        ),
        TabData::Settings(settings) => (view! { <OtpTab id settings /> }.into_any(), Tab::Settings),
        TabData::Events(events) => (view! { <EventsTab id events reload /> }.into_any(), Tab::Events),
        TabData::WhatsApp(settings, inbound) => (
            view! { <WhatsAppTab id settings inbound /> }.into_any(),
            Tab::WhatsApp,
        ),
        TabData::Webhooks(webhook) => (view! { <WebhooksTab id kind webhook /> }.into_any(), Tab::Webhooks),
        TabData::Embed(keys) => (view! { <EmbedTab id keys /> }.into_any(), Tab::Embed),
        TabData::Inbox(messages) => (view! { <InboxTab id messages /> }.into_any(), Tab::Inbox),
        TabData::Requests => (
            view! {
                <div class="space-y-4">
                    <p class="text-sm text-slate-600">
                        "Every request this stream answers. Send the stream's token in the Authorization header."
                    </p>
                    <RequestPreviewList kind sender=stream.default_sender />
                </div>
            }
            .into_any(),
            Tab::Requests,
        ),
    };
    view! {
        <div role="tabpanel" id="stream-tabpanel" aria-labelledby=format!("tab-{}", tab.key())>
            {content}
        </div>
    }
}
