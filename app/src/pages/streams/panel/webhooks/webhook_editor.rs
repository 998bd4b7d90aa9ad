//! The `WebhookEditor` component.

use super::*;

#[component]
pub(super) fn WebhookEditor(
    id: StreamId,
    kind: StreamKind,
    form: WebhookForm,
    exists: RwSignal<bool>,
) -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    let stream_id = StoredValue::new(id);
    let (busy, error) = (RwSignal::new(false), RwSignal::new(None::<AppError>));
    let secret = RwSignal::new(None::<String>);
    let confirming = RwSignal::new(false);
    let save = move |_| {
        let work = save_webhook(stream_id.get_value(), form.input());
        submit(busy, error, work, move |_| {
            exists.set(true);
            toasts.show("Webhook saved.");
        });
    };
    let remove = Callback::new(move |()| {
        confirming.set(false);
        spawn_local(async move {
            match delete_webhook(stream_id.get_value()).await {
                Ok(()) => {
                    exists.set(false);
                    secret.set(None);
                    form.url.set(String::new());
                    toasts.show("Webhook removed: events are no longer sent.");
                }
                Err(error) => toasts.show(error.message),
            }
        });
    });
    let fetch_secret = move |rotate: bool| {
        spawn_local(async move {
            match webhook_secret(stream_id.get_value(), rotate).await {
                Ok(value) => {
                    secret.set(Some(value));
                    if rotate {
                        toasts.show("Signing secret rotated. Update your receiver.");
                    }
                }
                Err(error) => toasts.show(error.message),
            }
        });
    };
    let method = Signal::derive(move || form.method.get().as_str().to_string());
    let url = Signal::derive(move || form.url.get());
    view! {
        <WebhookFields form error />
        <div class="mt-4 flex justify-end gap-2">
            <Show when=move || exists.get()>
                <button type="button" class=SECONDARY on:click=move |_| confirming.set(true)>"Remove webhook"</button>
            </Show>
            <button type="button" class=PRIMARY disabled=move || busy.get() on:click=save>"Save webhook"</button>
        </div>
        <Show when=move || exists.get()>
            <section class="mt-6 rounded-lg border border-slate-200 p-4" aria-labelledby="signing-title">
                <h3 id="signing-title" class="text-sm font-semibold text-slate-900">"Signing secret"</h3>
                <p class="mt-1 text-xs text-slate-500">
                    "Requests carry webhook-id, webhook-timestamp and webhook-signature headers (Standard Webhooks) signed with this secret."
                </p>
                {move || match secret.get() {
                    Some(value) => view! {
                        <div class="mt-3 flex items-center gap-2">
                            <code class="min-w-0 flex-1 truncate rounded bg-slate-100 px-2 py-1.5 text-xs" data-testid="webhook-secret">{value.clone()}</code>
                            <CopyButton text=Signal::stored(value) label="Copy signing secret" />
                        </div>
                    }.into_any(),
                    None => view! {
                        <button type="button" class=format!("mt-3 {SECONDARY}") on:click=move |_| fetch_secret(false)>"Show secret"</button>
                    }.into_any(),
                }}
                <button type="button" class=format!("mt-3 ml-2 {SECONDARY}") on:click=move |_| fetch_secret(true)>"Rotate secret"</button>
            </section>
        </Show>
        <div class="mt-6">
            <WebhookRequestPreview kind method url />
        </div>
        <Show when=move || exists.get()>
            <WebhookLog id=stream_id.get_value() />
        </Show>
        <Show when=move || confirming.get()>
            <ConfirmDialog
                title="Remove the webhook?".to_string()
                message="Messages and their statuses stay in the Messages log, but no event about them is sent to you any more.".to_string()
                confirm_label="Remove webhook"
                on_confirm=remove
                on_close=Callback::new(move |()| confirming.set(false))
            />
        </Show>
    }
}
