use leptos::prelude::*;

use super::{empty_state::EmptyState, page_header::PageHeader};

#[component]
pub fn ApiDocsPage() -> impl IntoView {
    view! {
        <PageHeader
            title="API docs"
            description="The Streams HTTP API: endpoints, request bodies, answers and error codes."
        />
        <EmptyState title="No endpoints published yet">
            "Endpoints appear here as the Streams API publishes them."
        </EmptyState>
    }
}
