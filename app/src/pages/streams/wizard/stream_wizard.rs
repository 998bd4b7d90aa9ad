//! The `StreamWizard` component.

use super::*;

#[component]
pub(super) fn StreamWizard(
    kind: StreamKind,
    existing: Option<Stream>,
    tags: Vec<String>,
    sender_ids: Vec<String>,
    settings: StoredSettings,
) -> impl IntoView {
    let steps = StoredValue::new(steps(kind));
    let resume_at = existing
        .as_ref()
        .filter(|stream| stream.status == StreamStatus::Draft)
        .and_then(|stream| {
            steps.with_value(|s| s.iter().position(|(key, _)| *key == stream.wizard_step))
        })
        .unwrap_or(0);
    let state = WizardState::new(kind, existing, settings);
    let step = RwSignal::new(resume_at);
    let created = RwSignal::new(None::<CreatedStream>);
    let toasts = expect_context::<Toasts>();
    let navigate = StoredValue::new(use_navigate());
    let go_to_streams =
        move || navigate.with_value(|navigate| navigate("/streams", Default::default()));
    let last = steps.with_value(Vec::len) - 1;
    let step_key = move |index: usize| steps.with_value(|s| s[index].0);

    // Saves what the current step shows. The Details step creates the stream as a draft the
    // first time and updates it afterwards; later steps save the stream's settings.
    let save = move || async move {
        state.error.set(None);
        let Some(id) = state.id.get_untracked() else {
            let created = create_stream(kind, state.input(), true).await?;
            state.id.set(Some(created.stream.id.clone()));
            return Ok(created.stream.id);
        };
        match step_key(step.get_untracked()) {
            "details" => drop(update_stream(id.clone(), state.input()).await?),
            "otp" => drop(save_otp_settings(id.clone(), state.otp.settings()).await?),
            "whatsapp" => {
                let saved = save_whatsapp(id.clone(), state.whatsapp.input()).await?;
                state.whatsapp.saved(&saved);
            }
            "webhook" if state.webhook.is_empty() => delete_webhook(id.clone()).await?,
            "webhook" => drop(save_webhook(id.clone(), state.webhook.input()).await?),
            _ => {}
        }
        Ok(id)
    };
    let run = move |work: std::pin::Pin<Box<dyn Future<Output = Result<(), AppError>>>>| {
        state.busy.set(true);
        spawn_local(async move {
            if let Err(error) = work.await {
                if error.field.is_none() {
                    toasts.show(error.message.clone());
                }
                state.error.set(Some(error));
            }
            state.busy.set(false);
        });
    };
    let next = move |_| {
        run(Box::pin(async move {
            let id = save().await?;
            let to = step.get_untracked() + 1;
            if !state.finished {
                save_wizard_step(id, step_key(to).to_string()).await?;
            }
            step.set(to);
            Ok(())
        }))
    };
    let save_draft = move |_| {
        run(Box::pin(async move {
            let id = save().await?;
            save_wizard_step(id, step_key(step.get_untracked()).to_string()).await?;
            toasts.show("Saved as a draft. Resume it from the table with Edit stream.");
            go_to_streams();
            Ok(())
        }))
    };
    let create = move |_| {
        run(Box::pin(async move {
            let id = save().await?;
            if state.finished {
                toasts.show("Stream saved.");
                go_to_streams();
            } else {
                created.set(Some(finish_stream(id).await?));
            }
            Ok(())
        }))
    };
    let button = "rounded-md px-4 py-2 text-sm font-semibold disabled:opacity-50";
    let heading = if state.finished {
        "Edit Stream"
    } else {
        "Create New Stream"
    };

    view! {
        <Title text=heading />
        <div class="mb-6">
            <a href="/streams" class="text-sm text-indigo-600 hover:underline">"← Streams API"</a>
            <h1 class="mt-2 text-2xl font-semibold tracking-tight">{heading}</h1>
            <p class="text-sm text-slate-600">{format!("{} stream", kind.label())}</p>
        </div>
        <ol class="mb-6 flex flex-wrap gap-2 text-sm" aria-label="Steps">
            {steps.get_value().into_iter().enumerate().map(|(index, (_, label))| view! {
                <li
                    aria-current=move || (step.get() == index).then_some("step")
                    class="rounded-full border border-slate-200 px-3 py-1 text-slate-500 aria-[current=step]:border-indigo-600 aria-[current=step]:bg-indigo-50 aria-[current=step]:text-indigo-700"
                >
                    {format!("{}. {label}", index + 1)}
                </li>
            }).collect_view()}
        </ol>
        <div class="rounded-xl border border-slate-200 bg-white p-6">
            {move || match step_key(step.get()) {
                "summary" => view! { <SummaryStep state /> }.into_any(),
                "otp" => view! { <OtpFields form=state.otp error=state.error /> }.into_any(),
                "whatsapp" => view! { <WhatsAppFields form=state.whatsapp error=state.error /> }.into_any(),
                "webhook" => view! {
                    <p class="mb-4 text-sm text-slate-600">
                        "Optional. Sluice forwards replies to this URL. Leave the URL empty and press Save & Next to skip."
                    </p>
                    <WebhookFields form=state.webhook error=state.error />
                }.into_any(),
                _ => view! { <DetailsStep state tags=tags.clone() sender_ids=sender_ids.clone() /> }.into_any(),
            }}
            <div class="mt-8 flex flex-wrap items-center justify-between gap-3 border-t border-slate-100 pt-4">
                <div>
                    <Show when=move || step.get() != 0>
                        <button type="button" class=format!("{button} border border-slate-300 text-slate-700") on:click=move |_| step.update(|s| *s -= 1)>
                            "Back"
                        </button>
                    </Show>
                </div>
                <div class="flex gap-2">
                    {(!state.finished).then(|| view! {
                        <button type="button" class=format!("{button} border border-slate-300 text-slate-700") disabled=move || state.busy.get() on:click=save_draft>
                            "Save as draft"
                        </button>
                    })}
                    {move || if step.get() < last {
                        view! {
                            <button type="button" class=format!("{button} bg-indigo-600 text-white") disabled=move || state.busy.get() on:click=next>
                                "Save & Next"
                            </button>
                        }.into_any()
                    } else {
                        view! {
                            <button type="button" class=format!("{button} bg-indigo-600 text-white") disabled=move || state.busy.get() on:click=create>
                                {if state.finished { "Save changes" } else { "Create Stream" }}
                            </button>
                        }.into_any()
                    }}
                </div>
            </div>
        </div>
        {move || created.get().map(|created| {
            let done = Callback::new(move |()| go_to_streams());
            view! {
                <TokenDialog
                    title="The stream was created successfully".to_string()
                    intro="Copy the authorization token now; it goes in the Authorization header of every request."
                    token=created.token
                    on_done=done
                />
            }
        })}
    }
}
