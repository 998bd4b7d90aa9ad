//! The side panel's Inbox tab on demo streams: what the stream "sent", as the recipients'
//! phones show it — the whole text, its one-time code highlighted with a copy button — filtered
//! by recipient and age, and kept current while the tab is open.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    components::{CopyButton, INPUT},
    error::AppError,
    ids::StreamId,
    messages::{MessageStatus, api::demo_inbox, inbox::Received},
    pages::messages::status_badge,
    time::short_utc,
};

/// How far back the Since filter looks: (minutes, label); `None` is any time.
const SINCE: [(Option<u32>, &str); 4] = [
    (None, "Any time"),
    (Some(5), "Last 5 minutes"),
    (Some(60), "Last hour"),
    (Some(24 * 60), "Last 24 hours"),
];

/// How often an open Inbox looks for new messages, in milliseconds.
#[cfg(feature = "hydrate")]
const REFRESH_MS: u64 = 2_000;

#[component]
pub fn InboxTab(id: StreamId, messages: Vec<Received>) -> impl IntoView {
    let stream_id = StoredValue::new(id);
    let messages = RwSignal::new(messages);
    let recipient = RwSignal::new(String::new());
    let since = RwSignal::new(None::<u32>);
    let error = RwSignal::new(None::<AppError>);
    let load = move || {
        let (to, minutes) = (recipient.get_untracked(), since.get_untracked());
        spawn_local(async move {
            match demo_inbox(stream_id.get_value(), to.clone(), minutes).await {
                // A slower answer to an older filter must not replace a newer one's.
                Ok(list) if to == recipient.get_untracked() && minutes == since.get_untracked() => {
                    error.set(None);
                    if messages.with_untracked(|shown| *shown != list) {
                        messages.set(list);
                    }
                }
                Ok(_) => {}
                Err(problem) => error.set(Some(problem)),
            }
        });
    };
    #[cfg(feature = "hydrate")]
    {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                let hidden = web_sys::window()
                    .and_then(|window| window.document())
                    .is_some_and(|document| document.hidden());
                if !hidden {
                    load();
                }
            },
            std::time::Duration::from_millis(REFRESH_MS),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
    let since_options = SINCE
        .iter()
        .map(|(minutes, label)| {
            let value = minutes.map(|m| m.to_string()).unwrap_or_default();
            view! { <option value=value>{*label}</option> }
        })
        .collect_view();
    view! {
        <p class="text-sm text-slate-600">
            "What this demo stream sent, as the recipients' phones show it. Your test suite reads the same messages from "
            <code class="font-mono text-xs">"GET /demo/messages"</code>
            "; nothing here reached a real phone."
        </p>
        <form
            class="mt-4 flex flex-wrap items-end gap-3"
            role="search"
            aria-label="Filter the inbox"
            on:submit=move |event| {
                event.prevent_default();
                load();
            }
        >
            <label class="grid gap-1 text-sm font-medium text-slate-700">
                "Recipient"
                <input
                    type="search"
                    inputmode="tel"
                    placeholder="+447700900123"
                    class=INPUT
                    prop:value=move || recipient.get()
                    on:change=move |event| {
                        recipient.set(event_target_value(&event));
                        load();
                    }
                />
            </label>
            <label class="grid gap-1 text-sm font-medium text-slate-700">
                "Since"
                <select
                    class=INPUT
                    on:change=move |event| {
                        since.set(event_target_value(&event).parse().ok());
                        load();
                    }
                >
                    {since_options}
                </select>
            </label>
        </form>
        {move || error.get().map(|error| view! {
            <p role="alert" class="mt-3 text-sm text-red-700">{error.message}</p>
        })}
        <Show
            when=move || !messages.read().is_empty()
            fallback=|| view! {
                <p class="mt-4 rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-600" data-testid="inbox-empty">
                    "No messages yet. Send one through this stream's API and it appears here."
                </p>
            }
        >
            <ol class="mt-4 space-y-3" aria-label="Messages received" data-testid="inbox">
                <For
                    each=move || messages.get()
                    key=|message| (message.message_uuid.clone(), message.status.clone())
                    let:message
                >
                    <InboxMessage message />
                </For>
            </ol>
        </Show>
    }
}

/// One message as a phone shows it: who sent it to whom, the text in a bubble with its code
/// marked, and where its delivery is.
#[component]
fn InboxMessage(message: Received) -> impl IntoView {
    let status = MessageStatus::parse(&message.status);
    let badge = status.map_or("bg-slate-100 text-slate-700", status_badge);
    let text = highlighted(&message.content, message.code.as_deref());
    let copy = message.code.clone().map(|code| {
        view! {
            <div class="mt-2 flex items-center gap-2 text-sm">
                <span class="text-slate-600">"Code"</span>
                <span class="font-mono text-base font-semibold tracking-widest text-slate-900" data-testid="inbox-code">
                    {code.clone()}
                </span>
                <CopyButton text=code label="Copy the code" />
            </div>
        }
    });
    view! {
        <li class="rounded-lg border border-slate-200 p-3" data-testid="inbox-message">
            <div class="flex flex-wrap items-center justify-between gap-2 text-xs text-slate-600">
                <span>
                    <span class="font-medium text-slate-900">{message.sender.clone().unwrap_or_else(|| "Sluice".into())}</span>
                    " → "
                    <span class="font-mono tabular-nums" data-testid="inbox-recipient">{message.recipient.clone()}</span>
                </span>
                <span class="flex items-center gap-2">
                    <time>{short_utc(message.created_at)}</time>
                    <span class=format!("rounded-full px-2 py-0.5 font-medium {badge}")>{message.status.clone()}</span>
                </span>
            </div>
            <p class="mt-2 whitespace-pre-wrap break-words rounded-2xl rounded-tl-sm bg-slate-100 px-3 py-2 text-sm text-slate-900" data-testid="inbox-text">
                {text}
            </p>
            {copy}
            {message.internal_id.clone().map(|internal| view! {
                <p class="mt-1 text-xs text-slate-500">"internal_id " <span class="font-mono">{internal}</span></p>
            })}
        </li>
    }
}

/// `content` with its first occurrence of `code` marked.
fn highlighted(content: &str, code: Option<&str>) -> AnyView {
    match code.and_then(|code| content.find(code).map(|at| (at, at + code.len()))) {
        Some((start, end)) => view! {
            {content[..start].to_string()}
            <mark class="rounded bg-amber-200 px-0.5 font-semibold text-slate-900">{content[start..end].to_string()}</mark>
            {content[end..].to_string()}
        }
        .into_any(),
        None => content.to_string().into_any(),
    }
}
