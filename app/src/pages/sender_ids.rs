use leptos::prelude::*;

use super::{empty_state::EmptyState, page_header::PageHeader};

#[component]
pub fn SenderIdsPage() -> impl IntoView {
    view! {
        <PageHeader
            title="Sender IDs"
            description="The names and numbers your messages come from."
        />
        <EmptyState title="No sender IDs yet">
            "A sender ID is an alphanumeric name of up to 11 characters or a number of up to 15 digits."
        </EmptyState>
    }
}
