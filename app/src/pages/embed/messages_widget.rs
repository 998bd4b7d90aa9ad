//! The `MessagesWidget` component: the stream's recent messages, newest first, each with its
//! status and its steps.

use super::*;
use crate::{pages::messages::status_badge, time::clock_utc};

#[component]
pub(super) fn MessagesWidget(
    #[prop(into)] snapshot: Signal<Snapshot>,
    look: Look,
) -> impl IntoView {
    let muted = if look.dark {
        "text-slate-400"
    } else {
        "text-slate-500"
    };
    let rule = if look.dark {
        "divide-slate-700"
    } else {
        "divide-slate-100"
    };
    view! {
        <section aria-labelledby="messages-title">
            <h1 id="messages-title" class="font-semibold">
                {move || format!("{} · recent messages", snapshot.read().stream_name)}
            </h1>
            <Show
                when=move || !snapshot.read().messages.is_empty()
                fallback=move || view! { <p class=format!("mt-2 {muted}")>"No messages yet."</p> }
            >
                <ul class=format!("mt-2 divide-y {rule}") aria-label="Recent messages" data-testid="widget-messages">
                    <For
                        each=move || snapshot.get().messages
                        key=|message| (message.id.clone(), message.status, message.history.len())
                        let:message
                    >
                        <li class="flex flex-wrap items-center justify-between gap-2 py-2" data-testid="widget-message">
                            <span class="font-mono tabular-nums">
                                {if message.direction == "inbound" { "← " } else { "→ " }}
                                {message.phone.clone()}
                            </span>
                            <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {}", status_badge(message.status))>
                                {message.status.as_str()}
                            </span>
                            <ol class=format!("w-full text-xs {muted}") aria-label="Steps">
                                {message
                                    .history
                                    .iter()
                                    .map(|(status, at)| view! { <li class="inline after:content-['_·_'] last:after:content-none">{format!("{} {}", status.as_str(), clock_utc(*at))}</li> })
                                    .collect_view()}
                            </ol>
                        </li>
                    </For>
                </ul>
            </Show>
        </section>
    }
}
