//! The side panel of one stream, opened from its name and deep-linked as
//! `/streams?stream=<id>&tab=<tab>`. Its tabs depend on the stream's type.

mod panel_tabs;
mod tab_body;

use self::{panel_tabs::PanelTabs, tab_body::TabBody};

mod embed;
mod events;
mod inbox;
mod info;
mod otp;
mod routing;
mod stats;
mod webhook_log;
mod webhooks;
mod whatsapp;

use leptos::{ev::KeyboardEvent, prelude::*};
use leptos_router::hooks::use_navigate;
use serde::{Deserialize, Serialize};

use self::{
    embed::EmbedTab, events::EventsTab, inbox::InboxTab, info::InfoTab, otp::OtpTab,
    webhooks::WebhooksTab, whatsapp::WhatsAppTab,
};
use super::filter::{panel_url, url};
use crate::messages::{
    StreamStats,
    api::{demo_inbox, get_stream_stats},
    inbox::Received,
};
use crate::{
    components::SidePanel,
    connections::{
        Connection,
        api::{InboundAddress, list_connections, stream_inbound},
    },
    embed::{EmbedKey, api::embed_keys},
    error::AppError,
    ids::StreamId,
    pages::streams::settings::RequestPreviewList,
    streams::{
        Stream, StreamFilter, StreamKind,
        api::{get_stream, list_sender_ids, list_tags},
        settings::{OtpSettings, StreamEvent, Webhook, WhatsAppSettings},
        settings_api::{get_otp_settings, get_webhook, get_whatsapp, list_events},
    },
};

/// One tab of the side panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Info,
    Settings,
    Events,
    WhatsApp,
    Webhooks,
    Embed,
    Inbox,
    Requests,
}

impl Tab {
    const ALL: [Self; 8] = [
        Self::Info,
        Self::Settings,
        Self::Events,
        Self::WhatsApp,
        Self::Webhooks,
        Self::Embed,
        Self::Inbox,
        Self::Requests,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Settings => "settings",
            Self::Events => "events",
            Self::WhatsApp => "whatsapp",
            Self::Webhooks => "webhooks",
            Self::Embed => "embed",
            Self::Inbox => "inbox",
            Self::Requests => "requests",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Info => "Info",
            Self::Settings => "Settings",
            Self::Events => "Events",
            Self::WhatsApp => "WhatsApp",
            Self::Webhooks => "Webhooks",
            Self::Embed => "Embed",
            Self::Inbox => "Inbox",
            Self::Requests => "Request API",
        }
    }

    /// The tabs `stream` has, in order: by its type, and an Inbox when it is a demo stream.
    pub fn for_stream(stream: &Stream) -> Vec<Self> {
        let kind = stream.kind;
        Self::ALL
            .into_iter()
            .filter(|tab| match tab {
                Self::Info | Self::Requests | Self::Webhooks | Self::Embed => true,
                Self::Settings => kind == StreamKind::SmsOtp,
                Self::Events => kind.has_events(),
                Self::WhatsApp => kind == StreamKind::Whatsapp,
                Self::Inbox => stream.demo,
            })
            .collect()
    }

    /// The tab named `key` if `stream` has it, else Info.
    fn pick(stream: &Stream, key: Option<&str>) -> Self {
        Self::for_stream(stream)
            .into_iter()
            .find(|tab| Some(tab.key()) == key)
            .unwrap_or(Self::Info)
    }
}

/// What the open tab shows, fetched with the stream in one request per tab.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum TabData {
    Info {
        tags: Vec<String>,
        sender_ids: Vec<String>,
        stats: StreamStats,
        /// SMS streams: the account's connections and the stream's inbound address.
        routing: Option<(Vec<Connection>, InboundAddress)>,
    },
    Settings(OtpSettings),
    Events(Vec<StreamEvent>),
    WhatsApp(WhatsAppSettings, InboundAddress),
    Webhooks(Option<Webhook>),
    Embed(Vec<EmbedKey>),
    Inbox(Vec<Received>),
    Requests,
}

impl TabData {
    async fn load(id: StreamId, key: Option<String>) -> Result<(Stream, TabData), AppError> {
        let stream = get_stream(id.clone()).await?;
        let data = match Tab::pick(&stream, key.as_deref()) {
            Tab::Info => TabData::Info {
                tags: list_tags().await?,
                sender_ids: list_sender_ids().await?,
                stats: get_stream_stats(id.clone()).await?,
                routing: match stream.kind {
                    StreamKind::Whatsapp => None,
                    _ => Some((list_connections().await?, stream_inbound(id).await?)),
                },
            },
            Tab::Settings => TabData::Settings(get_otp_settings(id).await?),
            Tab::Events => TabData::Events(list_events(id).await?),
            Tab::WhatsApp => {
                TabData::WhatsApp(get_whatsapp(id.clone()).await?, stream_inbound(id).await?)
            }
            Tab::Webhooks => TabData::Webhooks(get_webhook(id).await?),
            Tab::Embed => TabData::Embed(embed_keys(id).await?),
            Tab::Inbox => TabData::Inbox(demo_inbox(id, String::new(), None).await?),
            Tab::Requests => TabData::Requests,
        };
        Ok((stream, data))
    }
}

/// The panel over the streams table; `tab` follows the URL. Both resources are made here, not
/// inside a suspense, so a deep link hydrates exactly as the server rendered it.
#[component]
pub fn StreamPanel(
    id: StreamId,
    #[prop(into)] tab: Signal<Option<String>>,
    filter: StreamFilter,
    refresh: Callback<()>,
) -> impl IntoView {
    let stream = Resource::new(
        {
            let id = id.clone();
            move || id.clone()
        },
        get_stream,
    );
    let body = Resource::new(
        move || (id.clone(), tab.get()),
        |(id, key)| TabData::load(id, key),
    );
    let close_href = url(&filter, filter.page);
    let navigate = StoredValue::new(use_navigate());
    let close = {
        let close_href = close_href.clone();
        Callback::new(move |()| {
            let href = close_href.clone();
            navigate.with_value(|navigate| navigate(&href, Default::default()));
        })
    };
    // A change saved in a tab shows in the panel's title and in the table.
    let changed = Callback::new(move |()| {
        stream.refetch();
        body.refetch();
        refresh.run(());
    });
    let reload = Callback::new(move |()| body.refetch());
    let filter = StoredValue::new(filter);
    view! {
        <Transition fallback=|| ()>
            {move || {
                let close_href = close_href.clone();
                Suspend::new(async move {
                    let loaded = stream.await;
                    let title = loaded.as_ref().map_or_else(|_| "Stream".to_string(), |s| s.name.clone());
                    view! {
                        <SidePanel title close_href on_close=close>
                            {match loaded {
                                Ok(stream) => view! {
                                    <PanelTabs stream tab filter=filter.get_value() />
                                    <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
                                        {move || Suspend::new(async move {
                                            body.await.map(|(stream, data)| view! { <TabBody stream data changed reload /> })
                                        })}
                                    </Transition>
                                }.into_any(),
                                Err(error) => view! {
                                    <p role="alert" class="text-sm text-red-700">{error.message}</p>
                                }.into_any(),
                            }}
                        </SidePanel>
                    }
                })
            }}
        </Transition>
    }
}

/// Arrow keys, Home and End move between tabs (and open the tab they reach).
fn move_between_tabs(event: KeyboardEvent) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let Some(current) = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let Some(list) = current.parent_element() else {
            return;
        };
        let target = match event.key().as_str() {
            "ArrowRight" => current
                .next_element_sibling()
                .or_else(|| list.first_element_child()),
            "ArrowLeft" => current
                .previous_element_sibling()
                .or_else(|| list.last_element_child()),
            "Home" => list.first_element_child(),
            "End" => list.last_element_child(),
            _ => return,
        };
        if let Some(tab) = target.and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) {
            event.prevent_default();
            let _ = tab.focus();
            tab.click();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = event;
}
