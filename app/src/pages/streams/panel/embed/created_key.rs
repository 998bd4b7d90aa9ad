//! The `CreatedKeyNotice` component: a new key, shown this once, with its snippet.

use super::*;

#[component]
pub(super) fn CreatedKeyNotice(created: CreatedKey) -> impl IntoView {
    let CreatedKey {
        key,
        url,
        snippet,
        info,
    } = created;
    view! {
        <section class="mt-4 rounded-lg border border-emerald-200 bg-emerald-50 p-4" aria-labelledby="created-key-title" data-testid="created-key">
            <h3 id="created-key-title" class="text-sm font-semibold text-emerald-900">
                {format!("Key {} created", info.name)}
            </h3>
            <p class="mt-1 text-xs text-emerald-800">"Copy it now: it is not shown again."</p>
            <div class="mt-3 flex items-center gap-2">
                <code class="min-w-0 flex-1 truncate rounded bg-white px-2 py-1.5 text-xs" data-testid="embed-key-value">{key.clone()}</code>
                <CopyButton text=Signal::stored(key) label="Copy embed key" />
            </div>
            <p class="mt-3 text-xs font-medium text-emerald-900">"Paste this where the widgets should appear:"</p>
            <div class="mt-1 flex items-start gap-2">
                <pre class="min-w-0 flex-1 overflow-x-auto rounded bg-slate-900 px-3 py-2 text-xs text-slate-100" tabindex="0" aria-label="Embed snippet" data-testid="embed-snippet">{snippet.clone()}</pre>
                <CopyButton text=Signal::stored(snippet) label="Copy snippet" />
            </div>
            <p class="mt-3 text-xs text-emerald-900">
                "Or frame one widget directly: "
                <a class="break-all underline" href=url.clone() target="_blank" rel="noopener">{url.clone()}</a>
            </p>
        </section>
    }
}
