//! The API docs page: the public API's OpenAPI document, rendered.

mod operation_card;

use self::operation_card::OperationCard;

use leptos::prelude::*;

use super::page_header::PageHeader;
use crate::api_docs::{Operation, api_operations};

fn method_badge(method: &str) -> &'static str {
    match method {
        "GET" => "bg-sky-50 text-sky-700",
        _ => "bg-emerald-50 text-emerald-700",
    }
}

#[component]
pub fn ApiDocsPage() -> impl IntoView {
    let operations = Resource::new(|| (), |_| api_operations());
    view! {
        <PageHeader
            title="API docs"
            description="The Streams HTTP API: endpoints, request bodies, answers and error codes."
        />
        <p class="mb-6 text-sm text-slate-600">
            "Send the stream's token in the " <code>"Authorization"</code> " header, raw or as "
            <code>"Bearer <token>"</code> ". Errors answer "
            <code>"{\"status\":false,\"error\":{\"code\",\"message\"}}"</code> ". The machine-readable document: "
            <a href="/api/openapi.json" class="font-medium text-indigo-600 hover:underline" rel="external">"/api/openapi.json"</a>
            " (OpenAPI 3.1)."
        </p>
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                operations.await.map(|operations| {
                    view! {
                        <div class="space-y-6">
                            {operations.into_iter().map(|operation| view! { <OperationCard operation /> }).collect_view()}
                        </div>
                    }
                })
            })}
        </Suspense>
    }
}
