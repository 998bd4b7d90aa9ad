//! The `MessagesTable` component.

use super::*;

#[component]
pub(super) fn MessagesTable(messages: Vec<MessageRow>) -> impl IntoView {
    view! {
        <DataTable testid="messages-table" headers=&["Time", "Stream", "From → To", "Message", "Status", "Parts"]>
                    {messages.into_iter().map(|message| {
                        let arrow = if message.direction == "inbound" { "← " } else { "→ " };
                        view! {
                            <tr data-testid="message-row">
                                <td class="whitespace-nowrap px-4 py-3 text-slate-600">{short_utc(message.created_at)}</td>
                                <td class="px-4 py-3 text-slate-900">{message.stream_name}</td>
                                <td class="whitespace-nowrap px-4 py-3 font-mono text-xs text-slate-600">
                                    {message.sender.unwrap_or_else(|| "—".into())} " " {arrow} {message.recipient}
                                </td>
                                {if message.redacted {
                                    view! {
                                        <td class="px-4 py-3 italic text-slate-400" data-testid="message-redacted" title="Removed after the days this server keeps message text">"Text redacted"</td>
                                    }.into_any()
                                } else {
                                    view! {
                                        <td class="max-w-xs truncate px-4 py-3 text-slate-700" title=message.content.clone()>{message.content.clone()}</td>
                                    }.into_any()
                                }}
                                <td class="whitespace-nowrap px-4 py-3">
                                    <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {}", status_badge(message.status))>
                                        {message.status.as_str()}
                                    </span>
                                    {message.error.map(|error| view! { <p class="mt-1 max-w-[16rem] text-xs text-red-700">{error}</p> })}
                                </td>
                                <td class="whitespace-nowrap px-4 py-3 text-xs text-slate-600">{format!("{} × {}", message.segments, message.encoding)}</td>
                            </tr>
                        }
                    }).collect_view()}
        </DataTable>
    }
}
