//! What every request handler and server function can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::{crypto::SecretKey, db::Db};

/// Shared by every request: handlers, middleware and extractors each clone it, and a clone
/// is one reference count, whatever it holds.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

#[derive(Debug)]
pub struct Shared {
    pub db: Db,
    pub secret_key: Arc<SecretKey>,
    pub leptos_options: LeptosOptions,
    /// The public API's OpenAPI document, which the API docs page renders.
    pub api_document: Arc<serde_json::Value>,
    /// Rings the webhook sender when an event is queued from the console.
    pub webhook_wake: Arc<tokio::sync::Notify>,
    /// Meta's Graph API, for WhatsApp streams.
    pub graph: crate::whatsapp::GraphApi,
    /// Which addresses tenants' webhooks, providers and SMSCs may be.
    pub egress: crate::egress::Egress,
    /// Where other sites reach this server (embed snippets), without a trailing slash.
    pub public_url: Arc<str>,
    /// Who may create WhatsApp streams (`[features] whatsapp`).
    pub whatsapp: crate::streams::access::WhatsAppFeature,
    /// How long messages keep their text and are kept (`[retention]`).
    pub retention: crate::messages::Retention,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
