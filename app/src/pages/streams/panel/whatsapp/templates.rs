//! The `Templates` component.

use super::*;

#[component]
pub(super) fn Templates(id: StreamId, initial: Vec<WhatsAppTemplate>) -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    let stream_id = StoredValue::new(id);
    let templates = RwSignal::new(initial);
    let (name, language, body) = (
        RwSignal::new(String::new()),
        RwSignal::new("en_US".to_string()),
        RwSignal::new(String::new()),
    );
    let (busy, error) = (RwSignal::new(false), RwSignal::new(None::<AppError>));
    let add = move |_| {
        let template = WhatsAppTemplate {
            name: name.get_untracked(),
            language: language.get_untracked(),
            body: body.get_untracked(),
        };
        let work = add_whatsapp_template(stream_id.get_value(), template);
        submit(busy, error, work, move |added| {
            toasts.show(format!("Template {} added.", added.name));
            templates.update(|list| list.push(added));
            name.set(String::new());
            body.set(String::new());
        });
    };
    let syncing = RwSignal::new(false);
    let sync = move |_| {
        let id = stream_id.get_value();
        let work = async move {
            let changed = sync_whatsapp_templates(id.clone()).await?;
            Ok((changed, get_whatsapp(id).await?.templates))
        };
        submit(syncing, error, work, move |(changed, synced)| {
            templates.set(synced);
            toasts.show(match changed {
                0 => "Templates are up to date with Meta.".to_string(),
                n => format!("{n} template(s) added or updated from Meta."),
            });
        });
    };
    let remove = move |template: WhatsAppTemplate| {
        spawn_local(async move {
            let done = delete_whatsapp_template(
                stream_id.get_value(),
                template.name.clone(),
                template.language.clone(),
            )
            .await;
            match done {
                Ok(()) => {
                    templates.update(|list| list.retain(|t| *t != template));
                    toasts.show(format!("Template {} removed.", template.name));
                }
                Err(error) => toasts.show(error.message),
            }
        });
    };
    view! {
        <section class="mt-8 border-t border-slate-200 pt-6" aria-labelledby="whatsapp-templates-title">
            <h3 id="whatsapp-templates-title" class="mb-1 text-sm font-semibold text-slate-900">"Message templates"</h3>
            <div class="mb-3 flex flex-wrap items-start justify-between gap-2">
                <p class="text-xs text-slate-500">
                    "The approved templates of your Business Account that start a conversation. Parameters are {{1}}, {{2}}…"
                </p>
                <button type="button" class=SECONDARY disabled=move || syncing.get() on:click=sync>"Sync from Meta"</button>
            </div>
            <Show
                when=move || !templates.get().is_empty()
                fallback=|| view! { <p class="rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-600">"No templates yet."</p> }
            >
                <ul class="divide-y divide-slate-100 rounded-lg border border-slate-200" aria-label="Templates">
                    <For each=move || templates.get() key=|t| (t.name.clone(), t.language.clone()) let:template>
                        {
                            let label = format!("{} ({})", template.name, template.language);
                            let parameters = template.parameter_count();
                            let body = template.body.clone();
                            view! {
                                <li class="flex items-start justify-between gap-3 p-3" data-testid="template-row">
                                    <div class="min-w-0">
                                        <p class="font-mono text-sm font-medium">{label.clone()}</p>
                                        <p class="mt-1 break-words text-sm text-slate-600">{body}</p>
                                        <p class="mt-1 text-xs text-slate-500">{format!("{parameters} parameter(s)")}</p>
                                    </div>
                                    <button type="button" class=SECONDARY aria-label=format!("Remove template {label}") on:click=move |_| remove(template.clone())>
                                        "Remove"
                                    </button>
                                </li>
                            }
                        }
                    </For>
                </ul>
            </Show>
            <div class="mt-4 grid gap-4 sm:grid-cols-3">
                <div class="sm:col-span-2">
                    <TextField id="template-name" label="Template name" value=name error field="template_name" placeholder="order_update" />
                </div>
                <TextField id="template-language" label="Language" value=language error field="template_language" />
            </div>
            <div class="mt-4">
                <Field id="template-body" label="Body" error=error_of(error, "template_body")>
                    <textarea id="template-body" rows="2" bind:value=body placeholder="Your order {{1}} ships on {{2}}." class=INPUT></textarea>
                </Field>
            </div>
            <div class="mt-4 flex justify-end">
                <button type="button" class=PRIMARY disabled=move || busy.get() on:click=add>"Add template"</button>
            </div>
        </section>
    }
}
