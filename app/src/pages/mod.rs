//! One page per route.

mod account;
mod api_docs;
mod auth_form;
mod connections;
mod embed;
mod empty_state;
pub(crate) mod messages;
mod not_found;
mod page_header;
mod pagination;
mod realtime;
pub(crate) mod routes;
mod sender_ids;
mod sign_in;
mod sign_up;
mod streams;

pub use self::{
    account::AccountPage,
    api_docs::ApiDocsPage,
    connections::ConnectionsPage,
    embed::EmbedPage,
    messages::MessagesPage,
    not_found::NotFound,
    realtime::RealtimePage,
    sender_ids::SenderIdsPage,
    sign_in::SignInPage,
    sign_up::SignUpPage,
    streams::{EditStreamPage, NewStreamPage, StreamsPage},
};
