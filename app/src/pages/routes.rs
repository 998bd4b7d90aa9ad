//! Every page as a lazily loaded route: a release build splits the code behind each split
//! point into files of its own (`cargo leptos build --split`), fetched the first time the
//! browser shows a page that needs them. Three split points: the sign-in and sign-up pages
//! (`#[lazy_route]`, each small), the widgets, and the whole console behind one
//! [`console_page`], so a visitor to sign-in or a widget loads neither the console nor the
//! other, and the console's pages, once one is shown, need nothing more.
//!
//! The split loaders these macros generate declare the chunk's imports in `extern` blocks,
//! which the `unsafe_code` lint counts as unsafe: it is allowed here, and nowhere else.
#![allow(unsafe_code)]

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

use super::{
    AccountPage, ApiDocsPage, ConnectionsPage, EditStreamPage, EmbedPage, MessagesPage,
    NewStreamPage, RealtimePage, SenderIdsPage, SignInPage, SignUpPage, StreamsPage,
};
use crate::layout::ConsoleLayout;

/// Declares `$route`, a lazily loaded route of its own split point that shows `$page`.
macro_rules! lazy_page {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        #[doc = concat!("The route that shows [`", stringify!($page), "`], loaded when first shown.")]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    )*};
}

lazy_page! {
    SignInRoute => SignInPage,
    SignUpRoute => SignUpPage,
    EmbedRoute => EmbedPage,
}

/// The signed-in console's layout and pages.
#[derive(Debug, Clone, Copy)]
pub enum ConsolePage {
    Layout,
    Streams,
    NewStream,
    EditStream,
    Realtime,
    Messages,
    SenderIds,
    Connections,
    ApiDocs,
    Account,
}

/// The console's one split point: every console page's code is behind it.
#[lazy]
fn console_page(page: ConsolePage) -> AnyView {
    match page {
        ConsolePage::Layout => view! { <ConsoleLayout /> }.into_any(),
        ConsolePage::Streams => view! { <StreamsPage /> }.into_any(),
        ConsolePage::NewStream => view! { <NewStreamPage /> }.into_any(),
        ConsolePage::EditStream => view! { <EditStreamPage /> }.into_any(),
        ConsolePage::Realtime => view! { <RealtimePage /> }.into_any(),
        ConsolePage::Messages => view! { <MessagesPage /> }.into_any(),
        ConsolePage::SenderIds => view! { <SenderIdsPage /> }.into_any(),
        ConsolePage::Connections => view! { <ConnectionsPage /> }.into_any(),
        ConsolePage::ApiDocs => view! { <ApiDocsPage /> }.into_any(),
        ConsolePage::Account => view! { <AccountPage /> }.into_any(),
    }
}

/// Declares `$route`, the lazily loaded route that shows the console's `$page`.
macro_rules! console_route {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        #[doc = concat!("The route of the console's [`ConsolePage::", stringify!($page), "`].")]
        pub struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            async fn view(_this: Self) -> AnyView {
                console_page(ConsolePage::$page).await
            }

            // Hydration needs the page's code before it starts: the router awaits this first.
            async fn preload() {
                #[cfg(feature = "hydrate")]
                __preload_console_page().await;
            }
        }
    )*};
}

console_route! {
    ConsoleRoute => Layout,
    StreamsRoute => Streams,
    NewStreamRoute => NewStream,
    EditStreamRoute => EditStream,
    RealtimeRoute => Realtime,
    MessagesRoute => Messages,
    SenderIdsRoute => SenderIds,
    ConnectionsRoute => Connections,
    ApiDocsRoute => ApiDocs,
    AccountRoute => Account,
}
