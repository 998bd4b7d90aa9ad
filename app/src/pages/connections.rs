//! The Connections page: the upstream SMS providers an account's non-demo SMS streams send
//! through, their health, and the account's default.

use leptos::{prelude::*, task::spawn_local};

use super::{empty_state::EmptyState, page_header::PageHeader};
use crate::{
    components::{ConfirmDialog, Field, INPUT, TextField, Toasts},
    connections::{
        BindMode, BodyFormat, Connection, ConnectionInput, ConnectionSettings, Health,
        HttpSettings, InboundFields, SmppSettings,
        api::{delete_connection, list_connections, save_connection},
    },
    error::AppError,
    streams::settings::WebhookMethod,
    time::short_utc,
};

/// The connection being added or edited.
#[derive(Debug, Clone, Copy)]
struct ConnectionForm {
    /// `None` while adding.
    editing: RwSignal<Option<String>>,
    has_secret: RwSignal<bool>,
    name: RwSignal<String>,
    /// "http" or "smpp".
    kind: RwSignal<&'static str>,
    host: RwSignal<String>,
    port: RwSignal<String>,
    system_id: RwSignal<String>,
    system_type: RwSignal<String>,
    bind_mode: RwSignal<BindMode>,
    max_rate: RwSignal<String>,
    tls: RwSignal<bool>,
    url: RwSignal<String>,
    method: RwSignal<WebhookMethod>,
    body_format: RwSignal<BodyFormat>,
    body_template: RwSignal<String>,
    auth_header: RwSignal<String>,
    secret: RwSignal<String>,
    id_pointer: RwSignal<String>,
    is_default: RwSignal<bool>,
    report_id: RwSignal<String>,
    report_status: RwSignal<String>,
    delivered_values: RwSignal<String>,
    undelivered_values: RwSignal<String>,
    from: RwSignal<String>,
    to: RwSignal<String>,
    text: RwSignal<String>,
    message_id: RwSignal<String>,
    part_reference: RwSignal<String>,
    part_total: RwSignal<String>,
    part_number: RwSignal<String>,
}

impl ConnectionForm {
    fn new() -> Self {
        let form = Self {
            editing: RwSignal::new(None),
            has_secret: RwSignal::new(false),
            name: RwSignal::default(),
            kind: RwSignal::new("http"),
            host: RwSignal::default(),
            port: RwSignal::default(),
            system_id: RwSignal::default(),
            system_type: RwSignal::default(),
            bind_mode: RwSignal::new(BindMode::Transceiver),
            max_rate: RwSignal::default(),
            tls: RwSignal::new(false),
            url: RwSignal::default(),
            method: RwSignal::new(WebhookMethod::Post),
            body_format: RwSignal::new(BodyFormat::Json),
            body_template: RwSignal::default(),
            auth_header: RwSignal::default(),
            secret: RwSignal::default(),
            id_pointer: RwSignal::default(),
            is_default: RwSignal::new(false),
            report_id: RwSignal::default(),
            report_status: RwSignal::default(),
            delivered_values: RwSignal::default(),
            undelivered_values: RwSignal::default(),
            from: RwSignal::default(),
            to: RwSignal::default(),
            text: RwSignal::default(),
            message_id: RwSignal::default(),
            part_reference: RwSignal::default(),
            part_total: RwSignal::default(),
            part_number: RwSignal::default(),
        };
        form.load(
            None,
            String::new(),
            ConnectionSettings::default(),
            false,
            false,
        );
        form
    }

    fn load(
        &self,
        id: Option<String>,
        name: String,
        settings: ConnectionSettings,
        is_default: bool,
        has_secret: bool,
    ) {
        self.editing.set(id);
        self.has_secret.set(has_secret);
        self.name.set(name);
        self.kind.set(settings.kind());
        let (settings, smpp) = match settings {
            ConnectionSettings::Http(http) => (*http, SmppSettings::default()),
            ConnectionSettings::Smpp(smpp) => (HttpSettings::default(), smpp),
        };
        self.host.set(smpp.host);
        self.port.set(smpp.port.to_string());
        self.system_id.set(smpp.system_id);
        self.system_type.set(smpp.system_type);
        self.bind_mode.set(smpp.bind_mode);
        self.max_rate.set(smpp.max_rate.to_string());
        self.tls.set(smpp.tls);
        self.url.set(settings.url);
        self.method.set(settings.method);
        self.body_format.set(settings.body_format);
        self.body_template.set(settings.body_template);
        self.auth_header.set(settings.auth_header);
        self.secret.set(String::new());
        self.id_pointer.set(settings.id_pointer);
        self.is_default.set(is_default);
        let inbound = settings.inbound;
        self.report_id.set(inbound.report_id);
        self.report_status.set(inbound.report_status);
        self.delivered_values.set(inbound.delivered_values);
        self.undelivered_values.set(inbound.undelivered_values);
        self.from.set(inbound.from);
        self.to.set(inbound.to);
        self.text.set(inbound.text);
        self.message_id.set(inbound.message_id);
        self.part_reference.set(inbound.part_reference);
        self.part_total.set(inbound.part_total);
        self.part_number.set(inbound.part_number);
    }

    fn edit(&self, connection: &Connection) {
        self.load(
            Some(connection.id.clone()),
            connection.name.clone(),
            connection.settings.clone(),
            connection.is_default,
            connection.has_secret,
        );
    }

    fn input(&self) -> ConnectionInput {
        let secret = self.secret.get_untracked();
        let settings = if self.kind.get_untracked() == "smpp" {
            ConnectionSettings::Smpp(SmppSettings {
                host: self.host.get_untracked(),
                // Not a number: refused by the server's check with the field's own message.
                port: self.port.with_untracked(|p| p.trim().parse().unwrap_or(0)),
                system_id: self.system_id.get_untracked(),
                system_type: self.system_type.get_untracked(),
                bind_mode: self.bind_mode.get_untracked(),
                max_rate: self
                    .max_rate
                    .with_untracked(|r| {
                        if r.trim().is_empty() {
                            Ok(0)
                        } else {
                            r.trim().parse()
                        }
                    })
                    .unwrap_or(u32::MAX),
                tls: self.tls.get_untracked(),
            })
        } else {
            ConnectionSettings::Http(Box::new(self.http()))
        };
        ConnectionInput {
            name: self.name.get_untracked(),
            settings,
            secret: (!secret.trim().is_empty()).then_some(secret),
            is_default: self.is_default.get_untracked(),
        }
    }

    fn http(&self) -> HttpSettings {
        HttpSettings {
            url: self.url.get_untracked(),
            method: self.method.get_untracked(),
            body_format: self.body_format.get_untracked(),
            body_template: self.body_template.get_untracked(),
            auth_header: self.auth_header.get_untracked(),
            id_pointer: self.id_pointer.get_untracked(),
            inbound: InboundFields {
                report_id: self.report_id.get_untracked(),
                report_status: self.report_status.get_untracked(),
                delivered_values: self.delivered_values.get_untracked(),
                undelivered_values: self.undelivered_values.get_untracked(),
                from: self.from.get_untracked(),
                to: self.to.get_untracked(),
                text: self.text.get_untracked(),
                message_id: self.message_id.get_untracked(),
                part_reference: self.part_reference.get_untracked(),
                part_total: self.part_total.get_untracked(),
                part_number: self.part_number.get_untracked(),
            },
        }
    }
}

#[component]
pub fn ConnectionsPage() -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    let list = Resource::new(|| (), |_| list_connections());
    let form = ConnectionForm::new();
    let open = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let deleting = RwSignal::new(None::<(String, String)>);

    let save = move || {
        let id = form.editing.get_untracked();
        let input = form.input();
        spawn_local(async move {
            match save_connection(id.clone(), input).await {
                Ok(saved) => {
                    error.set(None);
                    open.set(false);
                    let verb = if id.is_some() { "saved" } else { "added" };
                    toasts.show(format!("Connection {} {verb}.", saved.name));
                    list.refetch();
                }
                Err(failure) => error.set(Some(failure)),
            }
        });
    };
    let make_default = move |connection: Connection| {
        let input = ConnectionInput {
            name: connection.name.clone(),
            settings: connection.settings.clone(),
            secret: None,
            is_default: true,
        };
        spawn_local(async move {
            match save_connection(Some(connection.id), input).await {
                Ok(saved) => {
                    toasts.show(format!("{} is now the default connection.", saved.name));
                    list.refetch();
                }
                Err(failure) => toasts.show(failure.message),
            }
        });
    };
    let confirm_delete = Callback::new(move |()| {
        let Some((id, name)) = deleting.get_untracked() else {
            return;
        };
        deleting.set(None);
        spawn_local(async move {
            match delete_connection(id).await {
                Ok(()) => {
                    toasts.show(format!("Connection {name} deleted."));
                    list.refetch();
                }
                Err(failure) => toasts.show(failure.message),
            }
        });
    });

    view! {
        <PageHeader
            title="Connections"
            description="The SMS providers (HTTP APIs and SMPP SMSCs) your non-demo SMS streams send through. Streams use the default unless their Info tab picks another; with no connection, messages go to the demo channel."
        />
        <div class="mb-4">
            <button
                type="button"
                class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500"
                on:click=move |_| {
                    form.load(None, String::new(), ConnectionSettings::default(), false, false);
                    error.set(None);
                    open.set(true);
                }
            >
                "Add connection"
            </button>
        </div>
        <Show when=move || open.get()>
            <ConnectionEditor form error on_save=Callback::new(move |()| save()) on_cancel=Callback::new(move |()| open.set(false)) />
        </Show>
        <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                list.await.map(|connections| {
                    if connections.is_empty() {
                        return view! {
                            <EmptyState title="No connections yet">
                                "Add your SMS provider's HTTP API to send real messages. Until then, every stream uses the demo channel."
                            </EmptyState>
                        }.into_any();
                    }
                    view! {
                        <ul class="space-y-3" aria-label="Connections">
                            {connections.into_iter().map(|connection| {
                                let (edit_target, default_target) = (connection.clone(), connection.clone());
                                let delete_target = (connection.id.clone(), connection.name.clone());
                                let health_class = match connection.health {
                                    Health::Up => "bg-emerald-50 text-emerald-700",
                                    Health::Down => "bg-red-50 text-red-700",
                                    Health::Unknown => "bg-slate-100 text-slate-600",
                                };
                                let seen = connection.health_at.map(|at| format!(" · {}", short_utc(at))).unwrap_or_default();
                                view! {
                                    <li class="rounded-xl border border-slate-200 bg-white p-4" data-testid="connection">
                                        <div class="flex flex-wrap items-center gap-2">
                                            <h2 class="text-base font-semibold">{connection.name.clone()}</h2>
                                            {connection.is_default.then(|| view! {
                                                <span class="rounded-full bg-indigo-50 px-2 py-0.5 text-xs font-medium text-indigo-700">"Default"</span>
                                            })}
                                            <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {health_class}") data-testid="health">
                                                {connection.health.label()}{seen}
                                            </span>
                                        </div>
                                        <p class="mt-1 break-all font-mono text-xs text-slate-600">
                                            {connection.settings.summary()}
                                        </p>
                                        {connection.health_detail.clone().map(|detail| view! {
                                            <p class="mt-1 text-sm text-slate-700" data-testid="health-detail">{detail}</p>
                                        })}
                                        <div class="mt-3 flex flex-wrap gap-2">
                                            <button
                                                type="button"
                                                aria-label=format!("Edit {}", connection.name)
                                                class="rounded-md border border-slate-300 px-3 py-1 text-sm hover:bg-slate-50"
                                                on:click=move |_| {
                                                    form.edit(&edit_target);
                                                    error.set(None);
                                                    open.set(true);
                                                }
                                            >
                                                "Edit"
                                            </button>
                                            {(!connection.is_default).then(|| view! {
                                                <button
                                                    type="button"
                                                    aria-label=format!("Make {} the default", connection.name)
                                                    class="rounded-md border border-slate-300 px-3 py-1 text-sm hover:bg-slate-50"
                                                    on:click=move |_| make_default(default_target.clone())
                                                >
                                                    "Make default"
                                                </button>
                                            })}
                                            <button
                                                type="button"
                                                aria-label=format!("Delete {}", connection.name)
                                                class="rounded-md px-3 py-1 text-sm text-red-700 hover:bg-red-50"
                                                on:click=move |_| deleting.set(Some(delete_target.clone()))
                                            >
                                                "Delete"
                                            </button>
                                        </div>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                })
            })}
        </Transition>
        {move || deleting.get().map(|(_, name)| view! {
            <ConfirmDialog
                title=format!("Delete the connection {name}?")
                message="Streams that chose it use the default connection; messages already queued for it fail with no_routes.".to_string()
                confirm_label="Delete connection"
                on_confirm=confirm_delete
                on_close=Callback::new(move |()| deleting.set(None))
            />
        })}
    }
}

/// The fields of the folded "Delivery reports and replies" section.
const INBOUND_FIELDS: [&str; 11] = [
    "report_id",
    "report_status",
    "delivered_values",
    "undelivered_values",
    "from",
    "to",
    "text",
    "message_id",
    "part_reference",
    "part_total",
    "part_number",
];

/// The add/edit form.
#[component]
fn ConnectionEditor(
    form: ConnectionForm,
    error: RwSignal<Option<AppError>>,
    on_save: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let no_error = Signal::stored(None::<String>);
    view! {
        <form
            class="mb-6 space-y-5 rounded-xl border border-slate-200 bg-white p-5"
            aria-label="Connection"
            on:submit=move |event| {
                event.prevent_default();
                on_save.run(());
            }
        >
            <h2 class="text-base font-semibold">
                {move || if form.editing.get().is_some() { "Edit connection" } else { "New connection" }}
            </h2>
            <div class="grid gap-4 sm:grid-cols-4">
                <Field id="connection-kind" label="Kind" error=no_error>
                    <select
                        id="connection-kind"
                        class=INPUT
                        prop:value=move || form.kind.get()
                        on:change=move |event| {
                            form.kind.set(if event_target_value(&event) == "smpp" { "smpp" } else { "http" });
                        }
                    >
                        <option value="http">"HTTP API"</option>
                        <option value="smpp">"SMPP (SMSC)"</option>
                    </select>
                </Field>
                <div class="sm:col-span-3">
                    <TextField id="connection-name" label="Name" value=form.name error field="name" placeholder="My SMS provider" />
                </div>
            </div>
            <Show when=move || form.kind.get() == "smpp" fallback=move || view! { <HttpFields form error /> }>
                <SmppFields form error />
            </Show>
            <label class="flex items-center gap-2 text-sm font-medium text-slate-700">
                <input type="checkbox" bind:checked=form.is_default class="h-4 w-4" />
                "The account's default connection"
            </label>
            <div class="flex gap-2">
                <button type="submit" class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500">
                    "Save connection"
                </button>
                <button
                    type="button"
                    class="rounded-md border border-slate-300 px-4 py-2 text-sm font-medium hover:bg-slate-50"
                    on:click=move |_| on_cancel.run(())
                >
                    "Cancel"
                </button>
            </div>
        </form>
    }
}

/// The SMSC's address, credentials and session.
#[component]
fn SmppFields(form: ConnectionForm, error: RwSignal<Option<AppError>>) -> impl IntoView {
    let no_error = Signal::stored(None::<String>);
    let password_hint = move || {
        if form.has_secret.get() {
            "Stored encrypted. Leave empty to keep it."
        } else {
            "Stored encrypted."
        }
    };
    view! {
        <div class="grid gap-4 sm:grid-cols-4">
            <div class="sm:col-span-3">
                <TextField id="smpp-host" label="Host" value=form.host error field="host" placeholder="smsc.example.com" />
            </div>
            <TextField id="smpp-port" label="Port" value=form.port error field="port" inputmode="numeric" />
        </div>
        <div class="grid gap-4 sm:grid-cols-3">
            <TextField id="smpp-system-id" label="System ID" value=form.system_id error field="system_id" />
            <Field id="smpp-password" label="Password" error=crate::components::error_of(error, "secret")>
                <input id="smpp-password" type="password" autocomplete="off" class=INPUT bind:value=form.secret />
                <p class="mt-1 text-xs text-slate-500">{password_hint}</p>
            </Field>
            <TextField id="smpp-system-type" label="System type" value=form.system_type error field="system_type" hint="Usually empty." />
        </div>
        <div class="grid gap-4 sm:grid-cols-3">
            <Field id="smpp-bind" label="Bind mode" error=no_error>
                <select
                    id="smpp-bind"
                    class=INPUT
                    prop:value=move || form.bind_mode.get().as_str()
                    on:change=move |event| {
                        if let Some(mode) = BindMode::parse(&event_target_value(&event)) {
                            form.bind_mode.set(mode);
                        }
                    }
                >
                    <option value="transceiver">"Transceiver (send and receive)"</option>
                    <option value="transmitter">"Transmitter (send only)"</option>
                </select>
            </Field>
            <TextField
                id="smpp-max-rate"
                label="Throughput limit (messages/s)"
                value=form.max_rate
                error
                field="max_rate"
                inputmode="numeric"
                hint="0: as fast as the SMSC answers."
            />
            <label class="mt-7 flex items-center gap-2 text-sm font-medium text-slate-700">
                <input type="checkbox" bind:checked=form.tls class="h-4 w-4" />
                "TLS"
            </label>
        </div>
    }
}

/// The provider's send request, auth and how its callbacks read.
#[component]
fn HttpFields(form: ConnectionForm, error: RwSignal<Option<AppError>>) -> impl IntoView {
    let no_error = Signal::stored(None::<String>);
    let secret_hint = move || {
        if form.has_secret.get() {
            "Stored encrypted. Leave empty to keep it."
        } else {
            "Sent as the header's value, such as Bearer sk_live_…; stored encrypted."
        }
    };
    let body_error = crate::components::error_of(error, "body_template");
    // An error in the folded section unfolds it.
    let details = NodeRef::<leptos::html::Details>::new();
    Effect::new(move |_| {
        let inbound = error
            .get()
            .and_then(|e| e.field)
            .is_some_and(|field| INBOUND_FIELDS.contains(&field.as_str()));
        if let (true, Some(details)) = (inbound, details.get()) {
            details.set_open(true);
        }
    });
    view! {
            <div class="grid gap-4 sm:grid-cols-4">
                <Field id="connection-method" label="Method" error=no_error>
                    <select
                        id="connection-method"
                        class=INPUT
                        prop:value=move || form.method.get().as_str()
                        on:change=move |event| {
                            if let Some(method) = WebhookMethod::parse(&event_target_value(&event)) {
                                form.method.set(method);
                            }
                        }
                    >
                        <option value="POST">"POST"</option>
                        <option value="GET">"GET"</option>
                    </select>
                </Field>
                <div class="sm:col-span-3">
                    <TextField
                        id="connection-url"
                        label="Send URL"
                        value=form.url
                        error
                        field="url"
                        placeholder="https://api.example.com/sms"
                        hint="{to}, {from}, {text} and {message_id} are replaced for each message."
                    />
                </div>
            </div>
            <Show when=move || form.method.get() == WebhookMethod::Post>
                <div class="grid gap-4 sm:grid-cols-4">
                    <Field id="connection-format" label="Body format" error=no_error>
                        <select
                            id="connection-format"
                            class=INPUT
                            prop:value=move || form.body_format.get().as_str()
                            on:change=move |event| {
                                if let Some(format) = BodyFormat::parse(&event_target_value(&event)) {
                                    form.body_format.set(format);
                                }
                            }
                        >
                            <option value="json">"JSON"</option>
                            <option value="form">"Form (URL-encoded)"</option>
                        </select>
                    </Field>
                    <div class="sm:col-span-3">
                        <Field id="connection-body" label="Body template" error=body_error>
                            <textarea
                                id="connection-body"
                                rows="3"
                                class=format!("{INPUT} font-mono")
                                bind:value=form.body_template
                                aria-invalid=move || body_error.get().is_some().then_some("true")
                            />
                        </Field>
                    </div>
                </div>
            </Show>
            <div class="grid gap-4 sm:grid-cols-2">
                <TextField id="connection-auth-header" label="Auth header" value=form.auth_header error field="auth_header" placeholder="Authorization" />
                <Field id="connection-secret" label="Auth header value" error=crate::components::error_of(error, "secret")>
                    <input id="connection-secret" type="password" autocomplete="off" class=INPUT bind:value=form.secret />
                    <p class="mt-1 text-xs text-slate-500">{secret_hint}</p>
                </Field>
            </div>
            <TextField
                id="connection-id-pointer"
                label="Message id in the answer"
                value=form.id_pointer
                error
                field="id_pointer"
                placeholder="/id"
                hint="A JSON Pointer such as /id or /messages/0/id: delivery reports name messages by it."
            />
            <details node_ref=details class="rounded-md border border-slate-200 p-3">
                <summary class="cursor-pointer text-sm font-medium text-slate-700">"Delivery reports and replies: the provider's field names"</summary>
                <div class="mt-3 grid gap-4 sm:grid-cols-2">
                    <TextField id="inbound-report-id" label="Report: message id" value=form.report_id error field="report_id" />
                    <TextField id="inbound-report-status" label="Report: status" value=form.report_status error field="report_status" />
                    <TextField id="inbound-delivered" label="Statuses meaning delivered" value=form.delivered_values error field="delivered_values" />
                    <TextField id="inbound-undelivered" label="Statuses meaning undelivered" value=form.undelivered_values error field="undelivered_values" />
                    <TextField id="inbound-from" label="Reply: from" value=form.from error field="from" />
                    <TextField id="inbound-to" label="Reply: to" value=form.to error field="to" />
                    <TextField id="inbound-text" label="Reply: text" value=form.text error field="text" />
                    <TextField id="inbound-message-id" label="Reply: message id" value=form.message_id error field="message_id" />
                    <TextField id="inbound-part-ref" label="Long reply: shared reference" value=form.part_reference error field="part_reference" />
                    <TextField id="inbound-part-total" label="Long reply: number of parts" value=form.part_total error field="part_total" />
                    <TextField id="inbound-part-number" label="Long reply: part number" value=form.part_number error field="part_number" />
                </div>
            </details>
    }
}
