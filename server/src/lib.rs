//! The Sluice server: configuration, HTTP wiring and the process lifecycle.
#![recursion_limit = "512"]

pub mod api;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod engine;
pub mod http;
pub mod metrics;
pub mod retention;
pub mod telemetry;
pub mod webhooks;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use app::{
    db::Db,
    state::{AppState, Shared},
};
use leptos::config::LeptosOptions;
use tokio::net::TcpListener;

use crate::{config::Config, delivery::Delivery, engine::Engine, webhooks::Sender};

/// A mutex's guard, also after a task panicked while holding it: the maps it guards (caches,
/// counters) stay usable.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Rings the delivery workers and the webhook sender, so that they look for due work now
/// instead of at their next poll.
#[derive(Debug, Clone)]
pub struct Waker {
    delivery: Delivery,
    webhooks: Arc<tokio::sync::Notify>,
}

impl Waker {
    pub fn wake(&self) {
        self.delivery.wake();
        self.webhooks.notify_waiters();
    }
}

/// A bound, migrated, ready-to-serve Sluice.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    engine: Engine,
    trusted_proxies: Arc<[ipnet::IpNet]>,
    http: http::HttpConfig,
    limits: config::LimitsConfig,
    delivery: Delivery,
    webhooks: Sender,
    /// The metrics listener (`[metrics] addr`), when one is configured.
    metrics_listener: Option<TcpListener>,
    metrics_token: Option<config::Redacted>,
    /// Held while serving: the one process that delivers from a SQLite database.
    _workers_lock: Option<std::fs::File>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("database: {0}")]
    Db(#[from] app::db::DbError),
    #[error("database: {0}")]
    Storage(#[from] sqlx::Error),
    #[error("stored secrets: {0}")]
    Secrets(#[from] app::crypto::BindError),
    #[error("an HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("{0}")]
    PublicUrl(String),
    #[error("could not listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

impl Application {
    /// Connects to the database, applies migrations and binds the listener.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let (db, secret_key) = open_database(&config).await?;
        let secret_key = Arc::new(secret_key);
        let workers_lock = db.lock_for_workers()?;
        let engine = Engine::new(db.clone());
        app::phone::load_numbering_plan();

        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.addr,
            source,
        })?;

        let metrics_listener = match config.metrics.addr {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartError::Bind { addr, source })?,
            ),
            None => None,
        };

        let webhook_wake = Arc::default();
        let graph = app::whatsapp::GraphApi::new(config.whatsapp)?;
        let egress = app::egress::Egress {
            allow_private: config.webhooks.allow_private,
        };
        let upstreams = delivery::upstream::Upstreams::new(
            engine.clone(),
            secret_key.clone(),
            webhooks::guard::Client::new(
                egress,
                Duration::from_millis(config.webhooks.timeout_ms.max(1)),
                concat!("Sluice/", env!("CARGO_PKG_VERSION")),
            )?,
            egress,
            graph.clone(),
            Arc::clone(&webhook_wake),
            match db.backend() {
                app::db::Backend::Sqlite => delivery::binds::Binds::all(),
                app::db::Backend::Postgres => {
                    delivery::binds::Binds::shared(config.delivery.smpp_sessions_per_connection)
                }
            },
        );
        let webhooks = Sender::new(
            engine.clone(),
            secret_key.clone(),
            config.webhooks,
            Arc::clone(&webhook_wake),
        )?;
        let state = AppState::new(Shared {
            db,
            secret_key,
            leptos_options: leptos_options(addr),
            api_document: Arc::new(
                serde_json::to_value(<api::ApiDoc as utoipa::OpenApi>::openapi())
                    .unwrap_or_default(),
            ),
            webhook_wake: Arc::clone(&webhook_wake),
            graph,
            egress,
            public_url: public_url(config.http.public_url.as_deref(), addr)?.into(),
            whatsapp: config.features.whatsapp,
            retention: config.retention,
        });
        Ok(Self {
            listener,
            addr,
            state,
            engine,
            trusted_proxies: config.trusted_proxies.into(),
            http: config.http,
            limits: config.limits,
            delivery: Delivery::new(config.delivery, upstreams, webhook_wake),
            webhooks,
            metrics_listener,
            metrics_token: config.metrics.token,
            _workers_lock: workers_lock,
        })
    }

    /// The metrics listener's address, when `[metrics] addr` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
    }

    /// The address actually bound (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The database this server uses.
    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// The message engine this server runs.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Rings this server's delivery workers and webhook sender, as new work does.
    pub fn waker(&self) -> Waker {
        Waker {
            delivery: self.delivery.clone(),
            webhooks: Arc::clone(&self.state.webhook_wake),
        }
    }

    /// Serves until SIGINT or SIGTERM, then finishes in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` completes, then drains (`/readyz` answers 503 for `[http]
    /// drain_ms` while requests are still served) and finishes in-flight requests.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let ready = http::Ready::default();
        let drain = Duration::from_millis(self.http.drain_ms);
        let (stopping, stopped) = tokio::sync::watch::channel(false);
        let stop = {
            let ready = ready.clone();
            async move {
                stop.await;
                ready.drain();
                tokio::time::sleep(drain).await;
                let _ = stopping.send(true);
            }
        };
        let scrape = |access| http::metrics::Scrape {
            metrics: self.engine.metrics().clone(),
            delivery: self.delivery.clone(),
            access,
        };
        let operations = http::Operations {
            scrape: scrape(match &self.metrics_token {
                Some(config::Redacted(token)) => {
                    http::metrics::Access::Token(token.as_str().into())
                }
                None => http::metrics::Access::Closed,
            }),
            ready: ready.clone(),
        };
        let metrics_server = self.metrics_listener.map(|listener| {
            let router = http::operations_router(
                self.state.clone(),
                http::Operations {
                    scrape: scrape(http::metrics::Access::Open),
                    ready,
                },
            );
            let mut stopped = stopped.clone();
            let config = self.http.clone();
            tokio::spawn(async move {
                http::serve(listener, router, &config, async move {
                    let _ = stopped.wait_for(|stopped| *stopped).await;
                })
                .await
            })
        });
        let db = self.state.db.clone();
        let maintenance = tokio::spawn(maintenance(db.clone()));
        let retention = tokio::spawn(retention::every_hour(
            db.clone(),
            self.state.retention,
            self.engine.metrics().clone(),
        ));
        let (stop_workers, workers_stop) = tokio::sync::watch::channel(false);
        let mut workers = self
            .delivery
            .spawn_workers(self.engine.clone(), workers_stop.clone());
        let sender = self.webhooks;
        workers.spawn(async move {
            // The sender stops between deliveries; an event it was sending keeps its lease.
            let _ = sender.spawn(workers_stop).await;
        });
        let router = http::router(
            self.state,
            self.trusted_proxies,
            self.engine,
            self.delivery,
            operations,
            &self.http,
            &self.limits,
        );
        tracing::info!(addr = %self.addr, backend = ?db.backend(), "sluice is serving");
        let served = http::serve(self.listener, router, &self.http, stop).await;
        // Workers finish the messages they hold; whatever is left keeps its lease and is
        // claimed again after a restart.
        let _ = stop_workers.send(true);
        let drained = tokio::time::timeout(Duration::from_secs(10), async {
            while workers.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("delivery workers did not stop within 10 s");
            workers.abort_all();
        }
        maintenance.abort();
        retention.abort();
        if let Some(metrics_server) = metrics_server {
            let _ = metrics_server.await;
        }
        db.close().await;
        tracing::info!("sluice stopped");
        served
    }
}

/// Opens the database as every command does: the data folder private to its owner,
/// migrations applied, and stored secrets each bound to its row.
pub async fn open_database(config: &Config) -> Result<(Db, app::crypto::SecretKey), StartError> {
    config.secure_data_dir();
    let key = config.secret_key()?;
    let db = Db::connect_with(&config.database_url, config.sqlite_synchronous).await?;
    db.migrate().await?;
    app::streams::store::keep_derived_inbound_keys(&db, &key).await?;
    let bound = app::crypto::bind_sealed_values(&db, &key).await?;
    if bound > 0 {
        tracing::info!(bound, "stored secrets sealed anew, each bound to its row");
    }
    Ok((db, key))
}

/// Where other sites reach this server: the configured URL (scheme, host, port and an
/// optional path prefix), else plain HTTP on the listen address.
pub(crate) fn public_url(configured: Option<&str>, addr: SocketAddr) -> Result<String, StartError> {
    let Some(url) = configured.map(str::trim).filter(|url| !url.is_empty()) else {
        return Ok(format!("http://{addr}"));
    };
    match url::Url::parse(url) {
        Ok(parsed)
            if matches!(parsed.scheme(), "http" | "https")
                && parsed.host_str().is_some()
                && parsed.query().is_none() =>
        {
            Ok(url.trim_end_matches('/').to_string())
        }
        _ => Err(StartError::PublicUrl(format!(
            "http.public_url `{url}` is not an http(s) address such as https://sluice.example.com"
        ))),
    }
}

/// Leptos's settings: the site's files come from `LEPTOS_SITE_ROOT` (cargo-leptos sets it).
/// A release build names them by their content's hash, listed in `hash.txt` beside the
/// binary; without that file (a dev build) they keep their plain names.
fn leptos_options(addr: SocketAddr) -> LeptosOptions {
    let site_root = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into());
    let site_pkg_dir = std::env::var("LEPTOS_SITE_PKG_DIR").unwrap_or_else(|_| "pkg".into());
    let hash_file = "hash.txt";
    let hashed = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(hash_file).is_file()))
        .unwrap_or(false);
    LeptosOptions::builder()
        .output_name("sluice")
        .site_root(site_root)
        .site_pkg_dir(site_pkg_dir)
        .site_addr(addr)
        .hash_file(std::sync::Arc::from(hash_file))
        .hash_files(hashed)
        .build()
}

/// Housekeeping that keeps tables small: expired sessions, old sign-in failures and
/// Idempotency-Keys past their day.
async fn maintenance(db: Db) {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        if let Err(error) = app::auth::store::prune(&db).await {
            tracing::warn!(%error, "pruning sessions failed");
        }
        if let Err(error) = api::idempotency::prune(&db).await {
            tracing::warn!(%error, "pruning idempotency keys failed");
        }
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
