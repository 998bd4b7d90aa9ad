//! The side panel's Embed tab: the stream's embed keys (list, create, revoke), each key shown
//! once with the snippet that puts its widgets on another site.

mod created_key;
mod embed_key_row;
mod new_key_form;

use self::{created_key::CreatedKeyNotice, embed_key_row::EmbedKeyRow, new_key_form::NewKeyForm};
use leptos::{prelude::*, task::spawn_local};

use crate::{
    components::{ConfirmDialog, CopyButton, Field, INPUT, TextField, Toasts, error_of},
    embed::{
        CreatedKey, EmbedKey, EmbedKeyInput,
        api::{create_embed_key, revoke_embed_key},
    },
    error::AppError,
    ids::StreamId,
    pages::streams::settings::{PRIMARY, SECONDARY, submit},
    time::short_utc,
};

/// The stream's embed keys. The list is kept here, so a key just made stays on screen.
#[component]
pub fn EmbedTab(id: StreamId, keys: Vec<EmbedKey>) -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    let keys = RwSignal::new(keys);
    let created = RwSignal::new(None::<CreatedKey>);
    let revoking = RwSignal::new(None::<EmbedKey>);
    let revoke = Callback::new(move |()| {
        let Some(key) = revoking.get_untracked() else {
            return;
        };
        revoking.set(None);
        spawn_local(async move {
            match revoke_embed_key(key.id.clone()).await {
                Ok(at) => {
                    toasts.show(format!("Key {} revoked: its widgets close now.", key.name));
                    keys.update(|keys| {
                        if let Some(revoked) = keys.iter_mut().find(|k| k.id == key.id) {
                            revoked.revoked_at = Some(at);
                        }
                    });
                }
                Err(error) => toasts.show(error.message),
            }
        });
    });
    view! {
        <p class="text-sm text-slate-600">
            "Show this stream's live delivery, recent messages or a test-send form inside your own tools. "
            "Each key works only on the sites it lists, and stops at once when revoked."
        </p>
        {move || created.get().map(|created| view! { <CreatedKeyNotice created /> })}
        <Show
            when=move || !keys.read().is_empty()
            fallback=|| view! {
                <p class="mt-4 rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-600" data-testid="embed-empty">
                    "No embed keys yet."
                </p>
            }
        >
            <ul class="mt-4 divide-y divide-slate-100 rounded-lg border border-slate-200" aria-label="Embed keys">
                <For
                    each=move || keys.get()
                    key=|key| (key.id.clone(), key.revoked_at)
                    let:key
                >
                    <EmbedKeyRow embed_key=key revoking />
                </For>
            </ul>
        </Show>
        <NewKeyForm id created keys />
        {move || revoking.get().map(|key| view! {
            <ConfirmDialog
                title=format!("Revoke the key {}?", key.name)
                message="Widgets using it close at once, wherever they are shown. This cannot be undone.".to_string()
                confirm_label="Revoke key"
                on_confirm=revoke
                on_close=Callback::new(move |()| revoking.set(None))
            />
        })}
    }
}
