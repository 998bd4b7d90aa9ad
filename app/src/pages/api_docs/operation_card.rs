//! The `OperationCard` component.

use super::*;

#[component]
pub(super) fn OperationCard(operation: Operation) -> impl IntoView {
    let anchor = format!(
        "{}{}",
        operation.method.to_lowercase(),
        operation.path.replace('/', "-")
    );
    view! {
        <section id=anchor class="rounded-xl border border-slate-200 bg-white p-5" data-testid="api-operation">
            <h2 class="flex flex-wrap items-center gap-2 text-base font-semibold text-slate-900">
                <span class=format!("rounded px-2 py-0.5 text-xs font-bold {}", method_badge(&operation.method))>{operation.method.clone()}</span>
                <code>{operation.path.clone()}</code>
                <span class="rounded bg-slate-100 px-1.5 py-0.5 text-xs font-normal text-slate-600">{operation.tag.clone()}</span>
            </h2>
            <p class="mt-2 text-sm text-slate-600">{operation.summary.clone()}</p>
            {(!operation.fields.is_empty()).then(|| view! {
                <table class="mt-4 w-full text-left text-sm">
                    <caption class="sr-only">{format!("Fields of {} {}", operation.method, operation.path)}</caption>
                    <thead class="text-xs uppercase tracking-wide text-slate-500">
                        <tr><th class="py-1 pr-4">"Field"</th><th class="py-1 pr-4">"Type"</th><th class="py-1">"About"</th></tr>
                    </thead>
                    <tbody class="divide-y divide-slate-100">
                        {operation.fields.iter().map(|field| view! {
                            <tr>
                                <td class="py-1.5 pr-4 font-mono text-xs">
                                    {field.name.clone()}
                                    {field.required.then(|| view! { <span class="ml-1 text-red-600" title="required">"*"</span> })}
                                </td>
                                <td class="py-1.5 pr-4 text-xs text-slate-600">{field.kind.clone()}</td>
                                <td class="py-1.5 text-xs text-slate-600">{field.description.clone()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            <ul class="mt-4 space-y-1 text-sm" aria-label=format!("Answers of {} {}", operation.method, operation.path)>
                {operation.responses.iter().map(|(status, description)| view! {
                    <li><code class="mr-2 rounded bg-slate-100 px-1.5 text-xs">{status.clone()}</code>{description.clone()}</li>
                }).collect_view()}
            </ul>
        </section>
    }
}
