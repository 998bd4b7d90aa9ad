use leptos::prelude::*;

use super::{empty_state::EmptyState, page_header::PageHeader};

#[component]
pub fn StreamsPage() -> impl IntoView {
    view! {
        <PageHeader
            title="Streams API"
            description="Each stream is an API token with its own route, sender, IP allow-list and webhook."
        />
        <p class="mb-4 text-sm text-slate-600" data-testid="streams-total">"Total: 0 streams"</p>
        <EmptyState title="No streams yet">
            "A stream is how your systems send messages through Sluice: SMS Marketing, "
            "Transactional, OTP, Two-way or WhatsApp. Streams you create appear here."
        </EmptyState>
    }
}
