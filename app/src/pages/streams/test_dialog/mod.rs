//! *Test stream API*: sends one message through the stream's real public API from the browser,
//! with the stream's own token, then follows its status live.

mod template_picker;

use self::template_picker::TemplatePicker;

use leptos::{prelude::*, task::spawn_local};
use serde_json::{Value, json};

use crate::{
    components::{Dialog, Field, INPUT, TextField, Toasts},
    error::AppError,
    pages::streams::settings::{PRIMARY, SECONDARY},
    streams::{
        Stream, StreamKind, api::show_token, settings::WhatsAppTemplate, settings_api::get_whatsapp,
    },
};

/// Calls the public API like a customer's system would; answers the HTTP status and JSON.
async fn call_api(path: &str, token: &str, body: Option<Value>) -> Result<(u16, Value), String> {
    #[cfg(feature = "hydrate")]
    {
        use gloo_net::http::Request;
        let request = match body {
            Some(body) => Request::post(path)
                .header("Authorization", &format!("Bearer {token}"))
                .json(&body)
                .map_err(|e| e.to_string())?,
            None => Request::get(path)
                .header("Authorization", &format!("Bearer {token}"))
                .build()
                .map_err(|e| e.to_string())?,
        };
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let json = response.json::<Value>().await.map_err(|e| e.to_string())?;
        Ok((status, json))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (path, token, body);
        Err("The test runs in the browser.".into())
    }
}

async fn pause(ms: u32) {
    #[cfg(feature = "hydrate")]
    gloo_timers::future::TimeoutFuture::new(ms).await;
    #[cfg(not(feature = "hydrate"))]
    let _ = ms;
}

/// What the person filled in, by the kind of request the stream's test makes.
#[derive(Debug, Clone)]
enum TestInput {
    Sms {
        sender: String,
        text: String,
    },
    Otp {
        sender: String,
    },
    Template {
        template: WhatsAppTemplate,
        variables: Vec<String>,
    },
}

/// The endpoint and body of a test request to `phone`.
fn test_request(phone: &str, input: TestInput) -> (&'static str, Value) {
    let sender = |sender: String| (!sender.trim().is_empty()).then(|| sender.trim().to_string());
    match input {
        TestInput::Otp { sender: from } => (
            "/otp/auth",
            json!({ "recipient_phone": phone, "sender": sender(from) }),
        ),
        TestInput::Sms { sender: from, text } => (
            "/simple_send/",
            json!({ "messages": [{
                "recipient_phone": phone,
                "sender": sender(from),
                "message_content": text,
            }] }),
        ),
        TestInput::Template {
            template,
            variables,
        } => (
            "/whatsapp/template/",
            json!({
                "recipient_phone": phone,
                "template_name": template.name,
                "language": template.language,
                "template_variables": variables,
            }),
        ),
    }
}

fn test_path(kind: StreamKind) -> &'static str {
    match kind {
        StreamKind::SmsOtp => "/otp/auth",
        StreamKind::Whatsapp => "/whatsapp/template/",
        _ => "/simple_send/",
    }
}

/// What the test shows while and after it runs.
#[derive(Debug, Clone, PartialEq)]
enum Progress {
    Idle,
    Sending,
    Failed(String),
    Tracking {
        uuid: String,
        status: String,
        history: Vec<String>,
        segments: String,
    },
}

#[component]
pub fn TestStreamDialog(stream: Stream, on_close: Callback<()>) -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    let kind = stream.kind;
    let id = StoredValue::new(stream.id.clone());
    let customized = stream.default_sender.is_none();
    let phone = RwSignal::new(String::new());
    let sender = RwSignal::new(String::new());
    let text = RwSignal::new("Hello from Sluice! This is a test message.".to_string());
    // WhatsApp tests start a conversation with one of the stream's templates.
    let templates = LocalResource::new(move || {
        let id = id.get_value();
        async move {
            match kind {
                StreamKind::Whatsapp => get_whatsapp(id).await.map(|settings| settings.templates),
                _ => Ok(Vec::new()),
            }
        }
    });
    let template = RwSignal::new(None::<WhatsAppTemplate>);
    let variables = RwSignal::new(Vec::<String>::new());
    let progress = RwSignal::new(Progress::Idle);
    let error = RwSignal::new(None::<AppError>);

    let run = move || {
        progress.set(Progress::Sending);
        spawn_local(async move {
            let outcome: Result<(), String> = async {
                let token = show_token(id.get_value()).await.map_err(|e| e.message)?;
                let input = match kind {
                    StreamKind::SmsOtp => TestInput::Otp {
                        sender: sender.get_untracked(),
                    },
                    StreamKind::Whatsapp => TestInput::Template {
                        template: template
                            .get_untracked()
                            .ok_or("Choose a template to send.")?,
                        variables: variables.get_untracked(),
                    },
                    _ => TestInput::Sms {
                        sender: sender.get_untracked(),
                        text: text.get_untracked(),
                    },
                };
                let (path, body) = test_request(&phone.get_untracked(), input);
                let (status, answer) = call_api(path, &token, Some(body)).await?;
                let message = if path == "/otp/auth" {
                    answer["message"].clone()
                } else {
                    answer["messages"][0].clone()
                };
                let Some(uuid) = message["message_uuid"].as_str().map(str::to_string) else {
                    let error = message["error"]
                        .get("message")
                        .or_else(|| answer["error"].get("message"));
                    return Err(format!(
                        "HTTP {status}: {}",
                        error
                            .and_then(Value::as_str)
                            .unwrap_or("the API refused the message")
                    ));
                };
                let segments = format!(
                    "{} × {}",
                    message["segments"],
                    message["encoding"].as_str().unwrap_or_default()
                );
                // Follow the message until it is final, for at most a minute.
                for _ in 0..60 {
                    let (_, answer) =
                        call_api(&format!("/status/?message_uuid={uuid}"), &token, None).await?;
                    let tracked = &answer["messages"][0];
                    let status = tracked["status"].as_str().unwrap_or("queued").to_string();
                    let history = tracked["history"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|step| step["status"].as_str().map(str::to_string))
                        .collect();
                    let done = !matches!(status.as_str(), "queued" | "sent");
                    progress.set(Progress::Tracking {
                        uuid: uuid.clone(),
                        status,
                        history,
                        segments: segments.clone(),
                    });
                    if done {
                        break;
                    }
                    pause(1000).await;
                }
                Ok(())
            }
            .await;
            if let Err(message) = outcome {
                toasts.show(message.clone());
                progress.set(Progress::Failed(message));
            }
        });
    };
    let title = format!("Test {}", stream.name);
    let path = test_path(kind);
    // WhatsApp streams name their sender (a phone-number ID) in their settings.
    let customized = customized && kind != StreamKind::Whatsapp;
    view! {
        <Dialog title on_close wide=true>
            <p>
                "Sends one message through " <code>{path}</code>
                " with this stream's token, exactly as your system would, and follows its status."
            </p>
            <form class="mt-4 space-y-4" on:submit=move |event| { event.prevent_default(); run(); }>
                <TextField id="test-phone" label="Recipient phone" value=phone error field="recipient_phone" kind="tel" placeholder="+447700900123" />
                {customized.then(|| view! {
                    <TextField id="test-sender" label="Sender" hint="This stream's sender is Customized: name one." value=sender error field="sender" placeholder="Acme" />
                })}
                {(kind == StreamKind::Whatsapp).then(|| view! {
                        <TemplatePicker templates template variables />
                })}
                {(!matches!(kind, StreamKind::SmsOtp | StreamKind::Whatsapp)).then(|| view! {
                    <Field id="test-text" label="Message" error=Signal::stored(None::<String>)>
                        <textarea id="test-text" rows="3" bind:value=text class=INPUT></textarea>
                    </Field>
                })}
                <div class="flex justify-end gap-2">
                    <button type="button" class=SECONDARY on:click=move |_| on_close.run(())>"Close"</button>
                    <button type="submit" class=PRIMARY disabled=move || progress.get() == Progress::Sending>"Send test"</button>
                </div>
            </form>
            <div aria-live="polite" data-testid="test-result" class="mt-4">
                {move || match progress.get() {
                    Progress::Idle => ().into_any(),
                    Progress::Sending => view! { <p class="text-slate-500">"Sending…"</p> }.into_any(),
                    Progress::Failed(message) => view! { <p role="alert" class="text-red-700">{message}</p> }.into_any(),
                    Progress::Tracking { uuid, status, history, segments } => view! {
                        <dl class="grid grid-cols-3 gap-2 rounded-lg bg-slate-50 p-3">
                            <dt class="text-slate-500">"Message"</dt>
                            <dd class="col-span-2 truncate font-mono text-xs">{uuid}</dd>
                            <dt class="text-slate-500">"Status"</dt>
                            <dd class="col-span-2 font-medium" data-testid="test-status">{status}</dd>
                            <dt class="text-slate-500">"Parts"</dt>
                            <dd class="col-span-2">{segments}</dd>
                            <dt class="text-slate-500">"History"</dt>
                            <dd class="col-span-2">{history.join(" → ")}</dd>
                        </dl>
                    }.into_any(),
                }}
            </div>
        </Dialog>
    }
}
