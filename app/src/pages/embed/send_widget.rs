//! The `SendWidget` component: a test message through the stream's own rules, for keys that
//! may send. A plain form that works without JavaScript; hydrated, it sends in place.

use super::*;

#[component]
pub(super) fn SendWidget(
    #[prop(into)] snapshot: Signal<Snapshot>,
    key: String,
    look: Look,
    sent: Option<String>,
    error: Option<String>,
) -> impl IntoView {
    let field = if look.dark {
        "mt-1 w-full rounded-md border border-slate-600 bg-slate-800 px-2 py-1.5"
    } else {
        "mt-1 w-full rounded-md border border-slate-300 bg-white px-2 py-1.5"
    };
    let result = RwSignal::new(match (sent, error) {
        (Some(uuid), _) => Some(Ok(format!("Queued as {uuid}."))),
        (None, Some(error)) => Some(Err(error)),
        (None, None) => None,
    });
    let back = serde_urlencoded::to_string([
        ("theme", if look.dark { "dark" } else { "light" }),
        ("accent", look.accent.as_deref().unwrap_or_default()),
        ("compact", if look.compact { "1" } else { "" }),
    ])
    .unwrap_or_default();
    let busy = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    let submit = {
        let key = StoredValue::new(key.clone());
        move |event: leptos::ev::SubmitEvent| {
            use leptos::wasm_bindgen::JsCast;
            event.prevent_default();
            let Some(form) = event
                .target()
                .and_then(|target| target.dyn_into::<web_sys::HtmlFormElement>().ok())
            else {
                return;
            };
            let value = |name: &str| {
                form.elements()
                    .named_item(name)
                    .and_then(|item| item.dyn_into::<web_sys::HtmlInputElement>().ok())
                    .map(|input| input.value())
                    .unwrap_or_default()
            };
            let body = serde_urlencoded::to_string([
                ("key", key.get_value().as_str()),
                ("sender", value("sender").as_str()),
                ("recipient_phone", value("recipient_phone").as_str()),
                ("message_content", value("message_content").as_str()),
            ])
            .unwrap_or_default();
            busy.set(true);
            leptos::task::spawn_local(async move {
                let answer = gloo_net::http::Request::post("/api/embed/send")
                    .header("accept", "application/json")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .map(|request| request.send());
                let outcome = match answer {
                    Ok(sending) => match sending.await {
                        Ok(response) => response
                            .json::<serde_json::Value>()
                            .await
                            .map_err(|error| error.to_string()),
                        Err(error) => Err(error.to_string()),
                    },
                    Err(error) => Err(error.to_string()),
                };
                busy.set(false);
                result.set(Some(match outcome {
                    Ok(body) if body["status"] == true => {
                        Ok(body["message"].as_str().unwrap_or("Queued.").to_string())
                    }
                    Ok(body) => Err(body["message"].as_str().unwrap_or("Refused.").to_string()),
                    Err(error) => Err(format!("The message could not be sent: {error}")),
                }));
            });
        }
    };
    #[cfg(not(feature = "hydrate"))]
    let submit = |_: leptos::ev::SubmitEvent| {};
    view! {
        <section aria-labelledby="send-title">
            <h1 id="send-title" class="font-semibold">
                {move || format!("Send a test message · {}", snapshot.read().stream_name)}
            </h1>
            <Show
                when=move || snapshot.read().can_send
                fallback=|| view! { <p class="mt-2" role="status">"This widget's key may not send messages."</p> }
            >
                <form class="mt-2 space-y-2" method="post" action="/api/embed/send" on:submit=submit>
                    <input type="hidden" name="key" value=key.clone() />
                    <input type="hidden" name="back" value=back.clone() />
                    <label class="block">
                        "Sender"
                        <input class=field name="sender" type="text" autocomplete="off" placeholder=move || snapshot.read().default_sender.clone().unwrap_or_default() />
                    </label>
                    <label class="block">
                        "Phone number"
                        <input class=field name="recipient_phone" type="tel" required placeholder="+447700900123" autocomplete="off" />
                    </label>
                    <label class="block">
                        "Message"
                        <input class=field name="message_content" type="text" required maxlength="1530" />
                    </label>
                    <button
                        type="submit"
                        class="rounded-md px-3 py-1.5 font-medium text-white disabled:opacity-60"
                        style="background: var(--accent)"
                        disabled=move || busy.get()
                    >
                        "Send test message"
                    </button>
                </form>
            </Show>
            {move || result.get().map(|result| match result {
                Ok(text) => view! { <p class="mt-2 text-emerald-600" role="status" data-testid="send-result">{text}</p> }.into_any(),
                Err(text) => view! { <p class="mt-2 text-rose-600" role="alert" data-testid="send-result">{text}</p> }.into_any(),
            })}
        </section>
    }
}
