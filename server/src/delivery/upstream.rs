//! Channels that leave the machine: an account's HTTP SMS provider and Meta's WhatsApp Cloud
//! API. Each send is one HTTP call; the answer says whether the message is on its way (with the
//! upstream's id, which its delivery reports name), refused for good, or worth another try.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use reqwest::Method;
use serde_json::Value;

use super::{
    binds::{Binds, LOOK_EVERY},
    demo::Transient,
    smpp::Sessions,
};
use crate::{
    engine::{self as messages, Channel, Claimed, Engine, SmppScope},
    lock,
    metrics::Metrics,
    webhooks::guard,
};
use app::{
    connections::{
        BodyFormat, ConnectionSettings, Fill, Health, HttpSettings, form_escape, json_escape,
        store::{self as connections, Upstream},
    },
    crypto::SecretKey,
    db::Db,
    egress::{self, Egress},
    messages::{MessageStatus, inbox::text_place},
    streams::settings::WebhookMethod,
    whatsapp::GraphApi,
};

/// How long settings and secrets read for sending are reused.
const CACHE_TTL: Duration = Duration::from_secs(5);
/// How often an unchanged health is written again.
const HEALTH_EVERY: Duration = Duration::from_secs(30);
/// How much of a provider's answer an error message quotes.
const EXCERPT: usize = 200;

/// A send that will not succeed by trying again.
#[derive(Debug, Clone)]
pub struct Refused {
    pub code: &'static str,
    pub message: String,
    /// `rejected` or `no_routes`.
    pub status: MessageStatus,
}

impl Refused {
    /// Refused for good by the upstream or by Sluice's own rules: the message is `rejected`.
    pub fn rejected(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status: MessageStatus::Rejected,
        }
    }

    /// Nothing can carry the message (no connection, no WhatsApp access): `no_routes`.
    pub fn no_route(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status: MessageStatus::NoRoutes,
        }
    }
}

/// What one send came to.
#[derive(Debug)]
pub enum Sent {
    /// Accepted, with the upstream's id when it gave one.
    Accepted(Option<String>),
    Refused(Refused),
    Transient(Transient),
}

impl Sent {
    /// The upstream answered no: for now (`busy`, tried again later) or for good.
    pub fn refusal(busy: bool, message: String) -> Self {
        if busy {
            Self::Transient(Transient {
                code: "provider_busy",
                message,
            })
        } else {
            Self::Refused(Refused::rejected("provider_rejected", message))
        }
    }
}

#[derive(Debug)]
pub struct Upstreams {
    db: Db,
    key: Arc<SecretKey>,
    http: guard::Client,
    graph: GraphApi,
    smpp: Sessions,
    /// The SMPP connections this instance may bind.
    binds: Binds,
    metrics: Metrics,
    connections: Cache<Option<Arc<Upstream>>>,
    tokens: Cache<Option<String>>,
    health: Cache<Health>,
}

/// Values by key, with when each was read.
type Cache<T> = Mutex<HashMap<String, (Instant, T)>>;

/// A cached value younger than [`CACHE_TTL`].
fn fresh<T: Clone>(cache: &Cache<T>, key: &str) -> Option<T> {
    let cache = lock(cache);
    let (at, value) = cache.get(key)?;
    (at.elapsed() < CACHE_TTL).then(|| value.clone())
}

impl Upstreams {
    pub fn new(
        engine: Engine,
        key: Arc<SecretKey>,
        http: guard::Client,
        egress: Egress,
        graph: GraphApi,
        wake_webhooks: Arc<tokio::sync::Notify>,
        binds: Binds,
    ) -> Self {
        Self {
            db: engine.db().clone(),
            metrics: engine.metrics().clone(),
            smpp: Sessions::new(engine, egress, wake_webhooks),
            binds,
            key,
            http,
            graph,
            connections: Mutex::default(),
            tokens: Mutex::default(),
            health: Mutex::default(),
        }
    }

    /// How long an HTTP send may take before it counts as unanswered.
    pub fn http_timeout(&self) -> Duration {
        self.http.timeout()
    }

    /// Sends one queued message through its channel, timing the call in the metrics.
    pub async fn send(&self, message: &Claimed) -> Sent {
        let started = Instant::now();
        let sent = match message.channel {
            Some(Channel::Http | Channel::Smpp) => self.send_upstream(message).await,
            Some(Channel::Whatsapp) => self.send_whatsapp(message).await,
            Some(Channel::Demo) | None => {
                return Sent::Refused(Refused::no_route(
                    "no_routes",
                    "This server has no upstream channel for this message.",
                ));
            }
        };
        if let Some(channel) = message.channel {
            self.metrics
                .upstream_call(channel.as_str(), started.elapsed().as_secs_f64());
        }
        sent
    }

    /// This instance's SMPP sessions: how many are bound, how many not.
    pub fn smpp_sessions(&self) -> (i64, i64) {
        self.smpp.counts()
    }

    async fn connection(&self, id: &str) -> Result<Option<Arc<Upstream>>, Transient> {
        if let Some(found) = fresh(&self.connections, id) {
            return Ok(found);
        }
        let found = connections::upstream(&self.db, &self.key, id)
            .await
            .map_err(|error| {
                tracing::warn!(%error, connection = id, "reading a connection failed");
                storage_busy()
            })?
            .map(Arc::new);
        lock(&self.connections).insert(id.into(), (Instant::now(), found.clone()));
        Ok(found)
    }

    /// Which SMPP messages this instance's workers may claim.
    pub fn smpp_scope(&self) -> SmppScope {
        self.binds.scope()
    }

    /// Keeps the sessions of the SMPP connections this instance holds open, so that receipts
    /// and replies arrive before anything is sent: looks every [`LOOK_EVERY`] for
    /// connections to take (several instances share each one's slots), closes those it lost
    /// and opens those it holds, until `stop` changes.
    pub async fn keep_sessions(&self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut locks = None;
        while !*stop.borrow() {
            match connections::smpp_ids(&self.db).await {
                Ok(ids) => {
                    let looked = self.binds.look(&self.db, &mut locks, &ids).await;
                    for id in &looked.lost {
                        self.smpp.close(id).await;
                    }
                    for id in ids.iter().filter(|id| self.binds.holds(id)) {
                        if let Ok(Some(upstream)) = self.connection(id).await
                            && let ConnectionSettings::Smpp(settings) = &upstream.settings
                        {
                            self.smpp
                                .open(id, settings, upstream.secret.as_deref())
                                .await;
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "listing SMPP connections failed"),
            }
            tokio::select! {
                () = tokio::time::sleep(LOOK_EVERY) => {}
                _ = stop.changed() => {}
            }
        }
    }

    async fn send_upstream(&self, message: &Claimed) -> Sent {
        let upstream = match message.connection_id.as_deref() {
            Some(id) => match self.connection(id).await {
                Ok(found) => found,
                Err(transient) => return Sent::Transient(transient),
            },
            None => None,
        };
        let Some(upstream) = upstream else {
            return Sent::Refused(Refused::no_route(
                "no_routes",
                "The connection this message was queued for was deleted.",
            ));
        };
        // A message that carries a code is stored masked; its text is sealed beside it.
        let unmasked;
        let message = match message.payload.as_deref() {
            Some(sealed) => match self.key.open_text(sealed, text_place(&message.id)) {
                Ok(content) => {
                    unmasked = Claimed {
                        content,
                        ..message.clone()
                    };
                    &unmasked
                }
                Err(_) => {
                    return Sent::Refused(Refused::rejected(
                        "unreadable_message",
                        "The message's text cannot be opened with this server's key.",
                    ));
                }
            },
            None => message,
        };
        let http = match &upstream.settings {
            ConnectionSettings::Http(http) => http,
            ConnectionSettings::Smpp(_) if !self.binds.holds(&upstream.id) => {
                // Claimed just before the slot went to another instance: it sends it later.
                return Sent::Transient(Transient {
                    code: "provider_unreachable",
                    message: "Another instance holds this connection's SMPP session.".into(),
                });
            }
            ConnectionSettings::Smpp(smpp) => {
                return self
                    .smpp
                    .send(&upstream.id, smpp, upstream.secret.as_deref(), message)
                    .await;
            }
        };
        let sent = self
            .call_provider(http, upstream.secret.as_deref(), message)
            .await;
        let health = match &sent {
            Sent::Accepted(_) => (Health::Up, None),
            Sent::Refused(refused) => (Health::Up, Some(refused.message.clone())),
            Sent::Transient(transient) => (Health::Down, Some(transient.message.to_string())),
        };
        self.record_health(&upstream.id, health.0, health.1.as_deref())
            .await;
        sent
    }

    async fn call_provider(
        &self,
        settings: &HttpSettings,
        secret: Option<&str>,
        message: &Claimed,
    ) -> Sent {
        let fill = Fill {
            to: message.recipient.as_str(),
            from: message.sender.as_deref().unwrap_or_default(),
            text: &message.content,
            message_id: &message.id,
        };
        // The filled URL is checked: a sender or recipient can be part of its host.
        let url = fill.apply(&settings.url, form_escape);
        let method = match settings.method {
            WebhookMethod::Get => Method::GET,
            WebhookMethod::Post => Method::POST,
        };
        let request = match self.http.request(method, &url) {
            Ok(request) if !egress::is_framing_header(&settings.auth_header) => request,
            Ok(_) => {
                return Sent::Refused(Refused::rejected(
                    "address_not_allowed",
                    format!(
                        "{} cannot carry the connection's secret: it frames the request.",
                        settings.auth_header
                    ),
                ));
            }
            Err(refused) => {
                return Sent::Refused(Refused::rejected(
                    "address_not_allowed",
                    format!("The SMS provider's URL is refused: {refused}."),
                ));
            }
        };
        let mut request = match settings.method {
            WebhookMethod::Get => request,
            WebhookMethod::Post => {
                let (body, kind) = match settings.body_format {
                    BodyFormat::Json => (
                        fill.apply(&settings.body_template, json_escape),
                        "application/json",
                    ),
                    BodyFormat::Form => (
                        fill.apply(&settings.body_template, form_escape),
                        "application/x-www-form-urlencoded",
                    ),
                };
                request.header("content-type", kind).body(body)
            }
        };
        if let (false, Some(secret)) = (settings.auth_header.is_empty(), secret) {
            request = request.header(settings.auth_header.as_str(), secret);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                return Sent::Transient(Transient {
                    code: "provider_unreachable",
                    message: if error.is_timeout() {
                        "The SMS provider did not answer in time.".into()
                    } else {
                        format!(
                            "The SMS provider could not be reached: {}",
                            guard::with_causes(&error)
                        )
                    },
                });
            }
        };
        let status = response.status();
        let text = guard::capped_text(response).await;
        if status.is_success() {
            let id = (!settings.id_pointer.is_empty())
                .then(|| serde_json::from_str::<Value>(&text).ok())
                .flatten()
                .and_then(|body| body.pointer(&settings.id_pointer).cloned())
                .and_then(|id| match id {
                    Value::String(id) => Some(id),
                    Value::Number(id) => Some(id.to_string()),
                    _ => None,
                });
            return Sent::Accepted(id);
        }
        let message = format!(
            "The SMS provider answered HTTP {}: {}",
            status.as_u16(),
            excerpt(&text)
        );
        let busy = status.is_server_error() || matches!(status.as_u16(), 408 | 429);
        Sent::refusal(busy, message)
    }

    async fn access_token(&self, message: &Claimed) -> Result<Option<String>, Transient> {
        if let Some(token) = fresh(&self.tokens, &message.stream_id) {
            return Ok(token);
        }
        let (token, _) = app::streams::settings_store::whatsapp_secrets(
            &self.db,
            &self.key,
            &message.account_id,
            &message.stream_id,
        )
        .await
        .map_err(|error| {
            tracing::warn!(%error, stream = %message.stream_id, "reading a WhatsApp token failed");
            storage_busy()
        })?;
        lock(&self.tokens).insert(
            message.stream_id.to_string(),
            (Instant::now(), token.clone()),
        );
        Ok(token)
    }

    async fn send_whatsapp(&self, message: &Claimed) -> Sent {
        let token = match self.access_token(message).await {
            Ok(Some(token)) => token,
            Ok(None) => {
                return Sent::Refused(Refused::no_route(
                    "whatsapp_not_configured",
                    "The stream has no WhatsApp access token: add it in the WhatsApp tab.",
                ));
            }
            Err(transient) => return Sent::Transient(transient),
        };
        let Some(mut body) = message
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str::<Value>(p).ok())
        else {
            return Sent::Refused(Refused::rejected(
                "invalid_payload",
                "The message has no WhatsApp request body.",
            ));
        };
        // A reply names the message it answers by our uuid; Meta knows it by its own id.
        if let Some(uuid) = body.pointer("/context/message_id").and_then(Value::as_str) {
            match messages::provider_id_of(&self.db, &message.stream_id, uuid).await {
                Ok(Some(wamid)) => body["context"]["message_id"] = Value::String(wamid),
                Ok(None) => {
                    if let Some(object) = body.as_object_mut() {
                        object.remove("context");
                    }
                }
                Err(_) => return Sent::Transient(storage_busy()),
            }
        }
        let phone_number_id = message.sender.as_deref().unwrap_or_default();
        match self.graph.send(phone_number_id, &token, &body).await {
            Ok(wamid) => Sent::Accepted(Some(wamid)),
            Err(error) => Sent::refusal(error.transient, error.to_string()),
        }
    }

    /// Writes a connection's health when it changed, or every [`HEALTH_EVERY`].
    async fn record_health(&self, id: &str, health: Health, detail: Option<&str>) {
        {
            let mut seen = lock(&self.health);
            if let Some((at, last)) = seen.get(id)
                && *last == health
                && at.elapsed() < HEALTH_EVERY
            {
                return;
            }
            seen.insert(id.into(), (Instant::now(), health));
        }
        if let Err(error) = connections::record_health(&self.db, id, health, detail).await {
            tracing::warn!(%error, connection = id, "recording a connection's health failed");
        }
    }
}

fn storage_busy() -> Transient {
    Transient {
        code: "storage_busy",
        message: "The message's settings could not be read; it will be tried again.".into(),
    }
}

/// The start of a provider's answer, on one line.
fn excerpt(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(EXCERPT) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None if line.is_empty() => "(no body)".into(),
        None => line,
    }
}
