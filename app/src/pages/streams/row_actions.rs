use leptos::{ev::KeyboardEvent, prelude::*, task::spawn_local};

use super::{recipients_dialog::RecipientsDialog, test_dialog::TestStreamDialog};
use crate::{
    components::{ConfirmDialog, Toasts, TokenDialog},
    error::AppError,
    streams::{
        Stream, StreamStatus,
        api::{StreamAction, apply_stream_action, reset_token, show_token},
    },
};

/// The dialog a row's menu opened.
#[derive(Debug, Clone, PartialEq)]
enum Open {
    Token(String),
    ConfirmReset,
    ConfirmDelete,
    Recipients,
    Test,
}

/// The ⋯ menu of one stream. Drafts get Edit and Delete only.
#[component]
pub fn RowActions(stream: Stream, refresh: Callback<()>) -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    let open = RwSignal::new(None::<Open>);
    let menu = NodeRef::<leptos::html::Details>::new();
    let expanded = RwSignal::new(false);
    let close_menu = move || {
        if let Some(details) = menu.get_untracked() {
            details.set_open(false);
        }
    };
    let id = StoredValue::new(stream.id.clone());
    let name = stream.name.clone();
    let report = move |result: Result<(), AppError>, done: &'static str| match result {
        Ok(()) => {
            toasts.show(done);
            refresh.run(());
        }
        Err(error) => toasts.show(error.message),
    };
    let act = move |action: StreamAction, done: &'static str| {
        close_menu();
        open.set(None);
        spawn_local(async move {
            report(apply_stream_action(id.get_value(), action).await, done);
        });
    };
    let reveal = move |_| {
        close_menu();
        spawn_local(async move {
            match show_token(id.get_value()).await {
                Ok(token) => open.set(Some(Open::Token(token))),
                Err(error) => toasts.show(error.message),
            }
        });
    };
    let reset = Callback::new(move |()| {
        spawn_local(async move {
            match reset_token(id.get_value()).await {
                Ok(token) => {
                    open.set(Some(Open::Token(token)));
                    toasts.show("Token reset. The old token no longer works.");
                }
                Err(error) => toasts.show(error.message),
            }
        });
    });
    let item = "block w-full rounded-md px-3 py-2 text-left text-sm text-slate-700 hover:bg-slate-100 focus-visible:bg-slate-100";
    let is_draft = stream.status == StreamStatus::Draft;
    let (enable, enable_label, enable_done) = if stream.status == StreamStatus::Disabled {
        (StreamAction::Enable, "Enable", "Stream enabled.")
    } else {
        (
            StreamAction::Disable,
            "Disable",
            "Stream disabled: its API refuses sends.",
        )
    };
    let restricted = stream.restricted;
    let restrict_item = move || {
        if restricted {
            view! {
                <button type="button" role="menuitem" class=item on:click=move |_| act(StreamAction::Unrestrict, "Stream unrestricted.")>"Unrestrict"</button>
                <button type="button" role="menuitem" class=item on:click=move |_| { close_menu(); open.set(Some(Open::Recipients)); }>"Test recipients"</button>
            }
            .into_any()
        } else {
            view! {
                <button type="button" role="menuitem" class=item on:click=move |_| { close_menu(); open.set(Some(Open::Recipients)); }>"Restrict"</button>
            }
            .into_any()
        }
    };

    view! {
        <details
            class="relative inline-block text-left"
            node_ref=menu
            on:keydown=menu_keys
            on:toggle=move |_| expanded.set(menu.get_untracked().is_some_and(|details| details.open()))
        >
            // A button to assistive technology and test suites alike (a bare summary is a
            // disclosure triangle), saying whether its menu is open.
            <summary
                class="inline-flex cursor-pointer list-none rounded-md px-2 py-1 text-slate-500 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-indigo-600"
                role="button"
                aria-haspopup="menu"
                aria-expanded=move || expanded.get().to_string()
                aria-label=format!("Actions for {name}")
            >
                "⋯"
            </summary>
            <div role="menu" class="absolute right-0 z-20 mt-1 w-48 rounded-lg border border-slate-200 bg-white p-1 shadow-lg">
                {(!is_draft).then(|| view! {
                    <button type="button" role="menuitem" class=item on:click=reveal>"Show token"</button>
                    <button type="button" role="menuitem" class=item on:click=move |_| { close_menu(); open.set(Some(Open::Test)); }>
                        "Test stream API"
                    </button>
                    <button type="button" role="menuitem" class=item on:click=move |_| { close_menu(); open.set(Some(Open::ConfirmReset)); }>
                        "Reset token"
                    </button>
                    <button type="button" role="menuitem" class=item on:click=move |_| act(enable, enable_done)>{enable_label}</button>
                    {restrict_item()}
                })}
                <a role="menuitem" class=item href=format!("/streams/{}/edit", stream.id)>"Edit stream"</a>
                <button
                    type="button"
                    role="menuitem"
                    class=format!("{item} text-red-700")
                    on:click=move |_| { close_menu(); open.set(Some(Open::ConfirmDelete)); }
                >
                    "Delete"
                </button>
            </div>
        </details>
        {move || {
            let close = Callback::new(move |()| open.set(None));
            let name = stream.name.clone();
            open.get().map(|dialog| match dialog {
                Open::Token(token) => view! {
                    <TokenDialog
                        title=format!("Token of {name}")
                        intro="Send it in the Authorization header of every API request. Keep it secret."
                        token
                        on_done=close
                    />
                }.into_any(),
                Open::ConfirmReset => view! {
                    <ConfirmDialog
                        title=format!("Reset the token of {name}?")
                        message="A new token is issued and the current one stops working at once.".to_string()
                        confirm_label="Reset token"
                        on_confirm=reset
                        on_close=close
                    />
                }.into_any(),
                Open::Test => view! { <TestStreamDialog stream=stream.clone() on_close=close /> }.into_any(),
                Open::Recipients => view! {
                    <RecipientsDialog id=id.get_value() name restricted on_close=close refresh />
                }.into_any(),
                Open::ConfirmDelete => view! {
                    <ConfirmDialog
                        title=format!("Delete {name}?")
                        message="The stream and its settings are removed and its token stops working. This cannot be undone.".to_string()
                        confirm_label="Delete stream"
                        on_confirm=Callback::new(move |()| act(StreamAction::Delete, "Stream deleted."))
                        on_close=close
                    />
                }.into_any(),
            })
        }}
    }
}

/// Keys in an open ⋯ menu: arrows move between items (wrapping, as Tab does), Escape closes it
/// and returns focus to its button.
fn menu_keys(event: KeyboardEvent) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let Some(details) = event
            .current_target()
            .and_then(|target| target.dyn_into::<web_sys::HtmlDetailsElement>().ok())
        else {
            return;
        };
        if !details.open() {
            return;
        }
        let items: Vec<web_sys::HtmlElement> = details
            .query_selector_all("[role=menuitem]")
            .map(|nodes| {
                (0..nodes.length())
                    .filter_map(|index| nodes.item(index))
                    .filter_map(|node| node.dyn_into().ok())
                    .collect()
            })
            .unwrap_or_default();
        let summary = details
            .query_selector("summary")
            .ok()
            .flatten()
            .and_then(|summary| summary.dyn_into::<web_sys::HtmlElement>().ok());
        let active = web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.active_element());
        let position = items
            .iter()
            .position(|item| active.as_ref().is_some_and(|a| a == item.as_ref()));
        let count = items.len();
        let step = |forward: bool| match (position, forward) {
            (None, true) => 0,
            (None, false) => count.saturating_sub(1),
            (Some(at), true) => (at + 1) % count,
            (Some(at), false) => (at + count - 1) % count,
        };
        let target = match event.key().as_str() {
            "Escape" => {
                event.prevent_default();
                details.set_open(false);
                if let Some(summary) = summary {
                    let _ = summary.focus();
                }
                return;
            }
            "ArrowDown" => step(true),
            "ArrowUp" => step(false),
            "Tab" => step(!event.shift_key()),
            "Home" => 0,
            "End" => count.saturating_sub(1),
            _ => return,
        };
        if let Some(item) = items.get(target) {
            event.prevent_default();
            let _ = item.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = event;
}
