//! Every page as a lazily loaded route: a release build splits each page's code into its own
//! file (`cargo leptos build --split`), fetched the first time the browser shows the page, so
//! the first page loads the router and itself, not the whole console.
//!
//! The split loaders that `#[lazy_route]` generates declare the chunk's imports in `extern`
//! blocks, which the `unsafe_code` lint counts as unsafe: it is allowed here, and nowhere else.
#![allow(unsafe_code)]

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

use super::{
    AccountPage, ApiDocsPage, ConnectionsPage, EditStreamPage, EmbedPage, MessagesPage,
    NewStreamPage, RealtimePage, SenderIdsPage, SignInPage, SignUpPage, StreamsPage,
};
use crate::layout::ConsoleLayout;

/// Declares `$route`, the lazily loaded route that shows `$page`. Pages load their own data,
/// so a route's data is nothing.
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
    ConsoleRoute => ConsoleLayout,
    StreamsRoute => StreamsPage,
    NewStreamRoute => NewStreamPage,
    EditStreamRoute => EditStreamPage,
    RealtimeRoute => RealtimePage,
    MessagesRoute => MessagesPage,
    SenderIdsRoute => SenderIdsPage,
    ConnectionsRoute => ConnectionsPage,
    ApiDocsRoute => ApiDocsPage,
    AccountRoute => AccountPage,
}
