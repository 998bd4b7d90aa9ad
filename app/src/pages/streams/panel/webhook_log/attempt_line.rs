//! The `AttemptLine` component.

use super::*;

#[component]
pub(super) fn AttemptLine(attempt: Attempt) -> impl IntoView {
    let outcome = match (attempt.status_code, &attempt.error) {
        (Some(code), _) => format!("HTTP {code}"),
        (None, Some(error)) => error.clone(),
        (None, None) => "No answer".into(),
    };
    view! {
        <li class="rounded bg-slate-50 px-2 py-1 text-xs text-slate-700" data-testid="webhook-attempt">
            <span>{short_utc(attempt.at)}</span>
            " · "
            <span class="font-medium">{outcome}</span>
            " · "
            <span>{format!("{} ms", attempt.latency_ms)}</span>
            {attempt.response.map(|text| view! {
                <code class="mt-1 block truncate text-slate-500">{text}</code>
            })}
        </li>
    }
}
