//! The Sluice console: routes, pages and server functions shared by SSR and hydration.
#![recursion_limit = "256"]

pub mod api_docs;
pub mod auth;
mod components;
pub mod connections;
pub mod egress;
pub mod embed;
pub mod error;
pub mod ids;
mod layout;
pub mod messages;
mod pages;
pub mod phone;
pub mod streams;
pub mod time;
pub mod webhooks;

#[cfg(feature = "ssr")]
pub mod changes;
#[cfg(feature = "ssr")]
pub mod crypto;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod whatsapp;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, Link, MetaTags, Title, provide_meta_context};
use leptos_router::{
    Lazy, SsrMode,
    components::{ParentRoute, Redirect, Route, Router, Routes},
    path,
};

use crate::pages::{NotFound, routes::*};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en" class="h-full">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <AutoReload options=options.clone() />
                // Named by their content's hash in release builds, so browsers keep them.
                <HashedStylesheet id="leptos" options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="h-full bg-slate-50 text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

/// The console's routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg" />
        <Title formatter=|text: String| {
            if text.is_empty() { "Sluice".to_string() } else { format!("{text} · Sluice") }
        } />
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/sign-in") view={Lazy::<SignInRoute>::new()} />
                <Route path=path!("/sign-up") view={Lazy::<SignUpRoute>::new()} />
                <Route path=path!("/embed/:widget") view={Lazy::<EmbedRoute>::new()} ssr=SsrMode::Async />
                // Async: the whole page, user menu included, arrives without JavaScript.
                <ParentRoute path=path!("") view={Lazy::<ConsoleRoute>::new()} ssr=SsrMode::Async>
                    <Route path=path!("/") view=|| view! { <Redirect path="/streams" /> } />
                    <Route path=path!("/streams") view={Lazy::<StreamsRoute>::new()} />
                    <Route path=path!("/streams/new") view={Lazy::<NewStreamRoute>::new()} />
                    <Route path=path!("/streams/:id/edit") view={Lazy::<EditStreamRoute>::new()} />
                    <Route path=path!("/realtime") view={Lazy::<RealtimeRoute>::new()} />
                    <Route path=path!("/messages") view={Lazy::<MessagesRoute>::new()} />
                    <Route path=path!("/sender-ids") view={Lazy::<SenderIdsRoute>::new()} />
                    <Route path=path!("/connections") view={Lazy::<ConnectionsRoute>::new()} />
                    <Route path=path!("/api-docs") view={Lazy::<ApiDocsRoute>::new()} />
                    <Route path=path!("/account") view={Lazy::<AccountRoute>::new()} />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
