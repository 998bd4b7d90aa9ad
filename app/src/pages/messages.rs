use leptos::prelude::*;

use super::{empty_state::EmptyState, page_header::PageHeader};

#[component]
pub fn MessagesPage() -> impl IntoView {
    view! {
        <PageHeader
            title="Messages"
            description="Every message your streams sent or received, with its current status."
        />
        <EmptyState title="No messages yet">
            "Messages sent through your streams, and replies from your recipients, are listed here."
        </EmptyState>
    }
}
