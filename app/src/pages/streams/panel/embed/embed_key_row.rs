//! The `EmbedKeyRow` component: one key of the list.

use super::*;

#[component]
pub(super) fn EmbedKeyRow(
    embed_key: EmbedKey,
    revoking: RwSignal<Option<EmbedKey>>,
) -> impl IntoView {
    let key = embed_key;
    let state = match (key.revoked_at, key.expires_at) {
        (Some(at), _) => Some(format!("Revoked {}", short_utc(at))),
        (None, Some(at)) => Some(format!("Expires {}", short_utc(at))),
        (None, None) => None,
    };
    let revoked = key.revoked_at.is_some();
    let permissions = match (key.can_send, key.shows_numbers) {
        (true, true) => "Read, send, whole numbers",
        (true, false) => "Read and send",
        (false, true) => "Read, whole numbers",
        (false, false) => "Read only",
    };
    let name = key.name.clone();
    view! {
        <li class="flex items-start justify-between gap-3 p-3" data-testid="embed-key">
            <div class="min-w-0 text-sm">
                <p class="font-medium text-slate-900">
                    {key.name.clone()}
                    <code class="ml-2 rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-600">{format!("{}…", key.hint)}</code>
                </p>
                <p class="mt-1 break-words text-slate-600">{key.origins.join(", ")}</p>
                <p class="mt-1 text-xs text-slate-500">
                    {permissions}
                    " · created " {short_utc(key.created_at)}
                    {key.last_used_at.map(|at| format!(" · last used {}", short_utc(at)))}
                </p>
                {state.map(|state| view! { <p class="mt-1 text-xs font-medium text-slate-700" data-testid="embed-key-state">{state}</p> })}
            </div>
            <Show when=move || !revoked>
                <button
                    type="button"
                    class=SECONDARY
                    aria-label=format!("Revoke {name}")
                    on:click={
                        let key = key.clone();
                        move |_| revoking.set(Some(key.clone()))
                    }
                >
                    "Revoke"
                </button>
            </Show>
        </li>
    }
}
