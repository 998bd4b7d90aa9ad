//! The widgets a product team frames in its own tools: `/embed/{stats|messages|send}?key=…`,
//! themed by `theme`, `accent` and `compact`. Rendered whole on the server (a complete
//! snapshot without JavaScript), then kept live by the key's event stream; the page tells the
//! page that frames it its height, so the loader can size the frame.

mod closed_notice;
mod messages_widget;
mod send_widget;
mod stats_widget;

use self::{
    closed_notice::ClosedNotice, messages_widget::MessagesWidget, send_widget::SendWidget,
    stats_widget::StatsWidget,
};

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::embed::{Closed, Look, Snapshot, Widget, api::widget_snapshot};

/// Answers the widget's page with the status its key deserves: 404 for no such widget or key,
/// 410 for a revoked or expired key.
#[cfg(feature = "ssr")]
fn set_status(closed: Closed) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(match closed {
            Closed::NotFound => axum::http::StatusCode::NOT_FOUND,
            Closed::Revoked | Closed::Expired => axum::http::StatusCode::GONE,
        });
    }
}

#[component]
pub fn EmbedPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let widget = params
        .read_untracked()
        .get("widget")
        .and_then(|w| Widget::parse(&w));
    let (key, look, sent, error) = query.with_untracked(|query| {
        let look = Look::parse(
            query.get("theme").as_deref(),
            query.get("accent").as_deref(),
            query.get("compact").as_deref(),
        );
        (
            query.get("key").unwrap_or_default(),
            look,
            query.get("sent"),
            query.get("error"),
        )
    });
    // Nothing is read for an address that names no widget.
    let snapshot = Resource::new_blocking(
        {
            let key = key.clone();
            move || key.clone()
        },
        move |key| async move {
            match widget {
                Some(_) => widget_snapshot(key).await,
                None => Ok(Err(Closed::NotFound)),
            }
        },
    );
    let live = RwSignal::new(None::<Snapshot>);
    let closed = RwSignal::new(None::<Closed>);
    #[cfg(feature = "hydrate")]
    follow(&key, widget, live, closed);

    let surface = if look.dark {
        "bg-slate-900 text-slate-100"
    } else {
        "bg-white text-slate-900"
    };
    let padding = if look.compact {
        "p-2 text-xs"
    } else {
        "p-4 text-sm"
    };
    let style = format!("--accent: {}", look.accent_css());
    let key = StoredValue::new(key);
    let look = StoredValue::new(look);
    let (sent, error) = (StoredValue::new(sent), StoredValue::new(error));
    view! {
        <Title text=widget.map_or("Widget", Widget::title) />
        <main
            class=format!("{surface} {padding}")
            style=style
            data-testid="widget"
            data-widget=widget.map_or("", Widget::as_str)
        >
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let first = snapshot.await;
                    let state = match (widget, first) {
                        (Some(widget), Ok(Ok(snapshot))) => Ok((widget, snapshot)),
                        (Some(_), Ok(Err(closed))) => Err(closed),
                        _ => Err(Closed::NotFound),
                    };
                    #[cfg(feature = "ssr")]
                    if let Err(closed) = &state {
                        set_status(*closed);
                    }
                    match state {
                        Ok((widget, first)) => {
                            let current = Signal::derive(move || {
                                live.get().unwrap_or_else(|| first.clone())
                            });
                            view! {
                                <Show
                                    when=move || closed.get().is_none()
                                    fallback=move || view! {
                                        <ClosedNotice closed=closed.get().unwrap_or(Closed::Revoked) />
                                    }
                                >
                                    {match widget {
                                        Widget::Stats => view! { <StatsWidget snapshot=current look=look.get_value() /> }.into_any(),
                                        Widget::Messages => view! { <MessagesWidget snapshot=current look=look.get_value() /> }.into_any(),
                                        Widget::Send => view! {
                                            <SendWidget
                                                snapshot=current
                                                key=key.get_value()
                                                look=look.get_value()
                                                sent=sent.get_value()
                                                error=error.get_value()
                                            />
                                        }.into_any(),
                                    }}
                                </Show>
                            }
                            .into_any()
                        }
                        Err(closed) => view! { <ClosedNotice closed /> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

/// Follows the key's event stream: each snapshot replaces the page's, a closed key closes the
/// widget and the stream; the framing page hears the new height each time.
#[cfg(feature = "hydrate")]
fn follow(
    key: &str,
    widget: Option<Widget>,
    live: RwSignal<Option<Snapshot>>,
    closed: RwSignal<Option<Closed>>,
) {
    use leptos::wasm_bindgen::{JsCast, closure::Closure};

    let Some(widget) = widget else {
        return;
    };
    Effect::new(move |_| {
        live.track();
        closed.track();
        request_animation_frame(move || tell_height(widget));
    });
    let query = serde_urlencoded::to_string([("key", key)]).unwrap_or_default();
    let Ok(source) = web_sys::EventSource::new(&format!("/api/embed/events?{query}")) else {
        return;
    };
    let on_snapshot =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let snapshot = event
                .data()
                .as_string()
                .and_then(|text| serde_json::from_str::<Snapshot>(&text).ok());
            if let Some(snapshot) = snapshot {
                live.set(Some(snapshot));
            }
        });
    let source_for_close = source.clone();
    let on_closed =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let why = event
                .data()
                .as_string()
                .and_then(|text| serde_json::from_str::<Closed>(&text).ok())
                .unwrap_or(Closed::Revoked);
            source_for_close.close();
            closed.set(Some(why));
        });
    let _ =
        source.add_event_listener_with_callback("snapshot", on_snapshot.as_ref().unchecked_ref());
    let _ = source.add_event_listener_with_callback("closed", on_closed.as_ref().unchecked_ref());
    let kept = StoredValue::new_local(Some((source, on_snapshot, on_closed)));
    on_cleanup(move || {
        kept.try_with_value(|kept| {
            if let Some((source, _, _)) = kept {
                source.close();
            }
        });
    });
}

/// Tells the framing page (the loader) how tall the widget is now.
#[cfg(feature = "hydrate")]
fn tell_height(widget: Widget) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let height = window
        .document()
        .and_then(|document| document.query_selector("main").ok().flatten())
        .map_or(0, |main| main.scroll_height());
    let Ok(Some(parent)) = window.parent() else {
        return;
    };
    let message =
        serde_json::json!({ "sluice": "resize", "widget": widget.as_str(), "height": height });
    let _ = parent.post_message(
        &leptos::wasm_bindgen::JsValue::from_str(&message.to_string()),
        "*",
    );
}
