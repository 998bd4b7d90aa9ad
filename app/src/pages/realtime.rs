use leptos::prelude::*;

use super::{empty_state::EmptyState, page_header::PageHeader};

#[component]
pub fn RealtimePage() -> impl IntoView {
    view! {
        <PageHeader
            title="Realtime"
            description="Live activity per stream: messages per minute, delivered, failed and in flight."
        />
        <EmptyState title="Nothing is moving yet">
            "Activity shows up here live as soon as one of your streams sends a message."
        </EmptyState>
    }
}
