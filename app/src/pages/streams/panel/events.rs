use leptos::{prelude::*, task::spawn_local};

use crate::{
    components::{ConfirmDialog, Field, INPUT, TextField, Toasts, error_of},
    error::AppError,
    ids::StreamId,
    pages::streams::settings::{PRIMARY, SECONDARY, submit},
    streams::{
        settings::{EventInput, StreamEvent, template_variables},
        settings_api::{delete_event, save_event},
    },
};

/// The event form: empty for a new event, filled when editing one.
#[derive(Debug, Clone, Copy)]
struct EventForm {
    editing: RwSignal<Option<String>>,
    key: RwSignal<String>,
    body: RwSignal<String>,
    sender: RwSignal<String>,
    active: RwSignal<bool>,
}

impl EventForm {
    fn new() -> Self {
        Self {
            editing: RwSignal::new(None),
            key: RwSignal::new(String::new()),
            body: RwSignal::new(String::new()),
            sender: RwSignal::new(String::new()),
            active: RwSignal::new(true),
        }
    }

    fn load(&self, event: Option<StreamEvent>) {
        let (id, input) = match event {
            Some(event) => (Some(event.id), event.input),
            None => (
                None,
                EventInput {
                    active: true,
                    ..Default::default()
                },
            ),
        };
        self.editing.set(id);
        self.key.set(input.key);
        self.body.set(input.body);
        self.sender.set(input.sender.unwrap_or_default());
        self.active.set(input.active);
    }

    fn input(&self) -> EventInput {
        EventInput {
            key: self.key.get_untracked(),
            body: self.body.get_untracked(),
            sender: Some(self.sender.get_untracked()),
            active: self.active.get_untracked(),
        }
    }
}

/// The stream's event templates: list, create, edit, delete.
#[component]
pub fn EventsTab(id: StreamId, events: Vec<StreamEvent>, reload: Callback<()>) -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    let stream_id = StoredValue::new(id);
    let form = EventForm::new();
    let (busy, error) = (RwSignal::new(false), RwSignal::new(None::<AppError>));
    let deleting = RwSignal::new(None::<StreamEvent>);
    let save = move |_| {
        let work = save_event(
            stream_id.get_value(),
            form.editing.get_untracked(),
            form.input(),
        );
        submit(busy, error, work, move |saved| {
            toasts.show(format!("Event {} saved.", saved.input.key));
            form.load(None);
            reload.run(());
        });
    };
    let remove = Callback::new(move |()| {
        let Some(event) = deleting.get_untracked() else {
            return;
        };
        deleting.set(None);
        spawn_local(async move {
            match delete_event(stream_id.get_value(), event.id.clone()).await {
                Ok(()) => {
                    toasts.show(format!("Event {} deleted.", event.input.key));
                    reload.run(());
                }
                Err(error) => toasts.show(error.message),
            }
        });
    });
    let variables = move || match template_variables(&form.body.get()) {
        Ok(names) if names.is_empty() => {
            "No variables yet: write {{name}} where a value goes.".to_string()
        }
        Ok(names) => format!("Variables: {}", names.join(", ")),
        Err(error) => error.message,
    };

    view! {
        {if events.is_empty() {
                        view! {
                            <p class="rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-600" data-testid="events-empty">
                                "No events yet. An event is a named message template that "
                                <code>"/event_send/"</code>
                                " fills with your variables."
                            </p>
                        }.into_any()
                    } else {
                    view! {
                        <ul class="divide-y divide-slate-100 rounded-lg border border-slate-200" aria-label="Events">
                            {events.into_iter().map(|event| {
                                let (edit, delete) = (event.clone(), event.clone());
                                let key = event.input.key.clone();
                                view! {
                                    <li class="flex items-start justify-between gap-3 p-3" data-testid="event-row">
                                        <div class="min-w-0">
                                            <p class="font-mono text-sm font-medium text-slate-900">
                                                {key.clone()}
                                                {(!event.input.active).then(|| view! {
                                                    <span class="ml-2 rounded bg-slate-100 px-1.5 py-0.5 font-sans text-xs text-slate-600">"Inactive"</span>
                                                })}
                                            </p>
                                            <p class="mt-1 break-words text-sm text-slate-600">{event.input.body.clone()}</p>
                                            <p class="mt-1 text-xs text-slate-500">
                                                {format!("Sender: {}", event.input.sender.clone().unwrap_or_else(|| "stream default".into()))}
                                            </p>
                                        </div>
                                        <div class="flex shrink-0 gap-2">
                                            <button type="button" class=SECONDARY aria-label=format!("Edit {key}") on:click=move |_| form.load(Some(edit.clone()))>"Edit"</button>
                                            <button type="button" class=SECONDARY aria-label=format!("Delete {key}") on:click=move |_| deleting.set(Some(delete.clone()))>"Delete"</button>
                                        </div>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
        }}
        <section class="mt-6 rounded-lg border border-slate-200 p-4" aria-labelledby="event-form-title">
            <h3 id="event-form-title" class="mb-4 text-sm font-semibold text-slate-900">
                {move || if form.editing.get().is_some() { "Edit event" } else { "New event" }}
            </h3>
            <div class="space-y-4">
                <TextField id="event-key" label="Event key" hint="The event field of requests, such as login_otp." value=form.key error field="key" placeholder="login_otp" />
                <Field id="event-body" label="Message template" error=error_of(error, "body")>
                    <textarea id="event-body" rows="3" bind:value=form.body placeholder="Hi {{name}}, your code is {{code}}." class=INPUT></textarea>
                </Field>
                <p class="-mt-2 text-xs text-slate-500" data-testid="event-variables">{variables}</p>
                <TextField id="event-sender" label="Sender (optional)" hint="Empty: the stream's default sender." value=form.sender error field="sender" />
                <label class="flex items-center gap-2 text-sm font-medium text-slate-700">
                    <input type="checkbox" bind:checked=form.active class="h-4 w-4" />
                    "Active"
                </label>
            </div>
            <div class="mt-4 flex justify-end gap-2">
                <Show when=move || form.editing.get().is_some()>
                    <button type="button" class=SECONDARY on:click=move |_| { error.set(None); form.load(None); }>"Cancel"</button>
                </Show>
                <button type="button" class=PRIMARY disabled=move || busy.get() on:click=save>"Save event"</button>
            </div>
        </section>
        {move || deleting.get().map(|event| view! {
            <ConfirmDialog
                title=format!("Delete the event {}?", event.input.key)
                message="Requests naming this event will be refused.".to_string()
                confirm_label="Delete event"
                on_confirm=remove
                on_close=Callback::new(move |()| deleting.set(None))
            />
        })}
    }
}
