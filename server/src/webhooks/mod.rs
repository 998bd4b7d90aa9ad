//! The webhook sender: takes queued events to customers' endpoints, signed (Standard
//! Webhooks), retried on a schedule of about a day with jitter, `Retry-After` honoured, 410 Gone
//! switching the webhook off, timeouts enforced and private addresses refused.

pub mod guard;
mod sign;
pub mod store;

use std::{sync::Arc, time::Duration};

use rand::Rng;
use reqwest::{Method, StatusCode, header::RETRY_AFTER};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::{sync::Notify, task::JoinHandle, time::Instant};

use app::{
    crypto::SecretKey, db::now_ms, egress::Egress, streams::settings::WebhookMethod,
    webhooks::Attempt,
};

use self::store::{Due, Next};
use crate::engine::Engine;

/// Webhook settings (`[webhooks]` in `sluice.toml`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookConfig {
    /// Let webhooks and HTTP SMS connections reach loopback and private addresses: for local
    /// development and tests only.
    pub allow_private: bool,
    /// How long an endpoint has to answer, in milliseconds.
    pub timeout_ms: u64,
    /// The waits before each retry, in milliseconds; after the last, the delivery fails.
    pub retry_delays_ms: Vec<u64>,
    /// How often the idle sender looks for due deliveries, in milliseconds.
    pub poll_ms: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            allow_private: false,
            timeout_ms: 10_000,
            // 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: about 27 hours in all.
            retry_delays_ms: vec![
                5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
            ],
            poll_ms: 1_000,
        }
    }
}

/// The longest wait a `Retry-After` may ask for.
const MAX_RETRY_AFTER_MS: i64 = 24 * 3_600_000;
/// Deliveries claimed at once, and for how long.
const BATCH: i64 = 20;
const LEASE_MS: i64 = 120_000;

/// Sends due deliveries until `stop`.
pub struct Sender {
    engine: Engine,
    key: Arc<SecretKey>,
    config: Arc<WebhookConfig>,
    client: guard::Client,
    wake: Arc<Notify>,
}

impl Sender {
    pub fn new(
        engine: Engine,
        key: Arc<SecretKey>,
        config: WebhookConfig,
        wake: Arc<Notify>,
    ) -> reqwest::Result<Self> {
        let client = guard::Client::new(
            Egress {
                allow_private: config.allow_private,
            },
            Duration::from_millis(config.timeout_ms.max(1)),
            concat!("Sluice-Webhooks/", env!("CARGO_PKG_VERSION")),
        )?;
        Ok(Self {
            engine,
            key,
            config: Arc::new(config),
            client,
            wake,
        })
    }

    pub fn spawn(self, mut stop: tokio::sync::watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(async move {
            let poll = Duration::from_millis(self.config.poll_ms.max(10));
            while !*stop.borrow() {
                match store::claim(&self.engine, BATCH, LEASE_MS).await {
                    Ok(due) if !due.is_empty() => {
                        futures_util::future::join_all(due.iter().map(|d| self.deliver(d))).await;
                        continue;
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "claiming webhook deliveries failed"),
                }
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                    _ = stop.changed() => {}
                }
            }
        })
    }

    async fn deliver(&self, due: &Due) {
        let (attempt, next) = self.attempt(due).await;
        let result = match next {
            Next::Delivered => "delivered",
            Next::RetryAt { .. } => "retry",
            Next::Failed { .. } => "failed",
        };
        self.engine.metrics().webhook_attempt(result);
        match store::finish(&self.engine, &due.id, due.lease_until, Some(&attempt), next).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                delivery = %due.id,
                "a webhook attempt came back after its lease; another claim has the delivery"
            ),
            // The lease runs out and the delivery is tried again.
            Err(error) => {
                tracing::warn!(%error, delivery = %due.id, "recording a webhook attempt failed");
            }
        }
    }

    /// One HTTP try, and what follows from its answer.
    async fn attempt(&self, due: &Due) -> (Attempt, Next) {
        let started = Instant::now();
        let at = now_ms();
        let failed = |error: String| {
            let attempt = Attempt {
                at,
                status_code: None,
                latency_ms: elapsed_ms(started),
                response: None,
                error: Some(error.clone()),
            };
            (attempt, self.retry(due, error, None))
        };
        let request = match self.request(due, at) {
            Ok(request) => request,
            Err(error) => return failed(error),
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => return failed(describe(&error)),
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<i64>().ok())
            .map(|seconds| seconds.saturating_mul(1_000).clamp(0, MAX_RETRY_AFTER_MS));
        let text = guard::capped_text(response).await;
        let attempt = Attempt {
            at,
            status_code: Some(status.as_u16()),
            latency_ms: elapsed_ms(started),
            response: (!text.is_empty()).then_some(text),
            error: None,
        };
        let next = if status.is_success() {
            Next::Delivered
        } else if status == StatusCode::GONE {
            Next::Failed {
                error: "The endpoint answered 410 Gone: the webhook was switched off.".into(),
                disable_webhook: true,
            }
        } else {
            self.retry(due, format!("The endpoint answered {status}."), retry_after)
        };
        (attempt, next)
    }

    /// The signed request: POST with the JSON body, or GET with its fields as query parameters
    /// (signed over an empty body).
    fn request(&self, due: &Due, at: i64) -> Result<reqwest::RequestBuilder, String> {
        let mut url: url::Url = due
            .url
            .parse()
            .map_err(|error| format!("The webhook URL is not valid: {error}."))?;
        let secret = self
            .key
            .open_text(
                &due.secret_sealed,
                app::streams::settings_store::webhook_secret_place(&due.stream_id),
            )
            .map_err(|error| format!("The signing secret cannot be read: {error}."))?;
        let timestamp = at / 1_000;
        let (request, signed) = match due.method {
            WebhookMethod::Post => (
                self.client
                    .request(Method::POST, url.as_str())
                    .map_err(|refused| format!("The webhook URL is refused: {refused}."))?
                    .header("content-type", "application/json")
                    .body(due.body.clone()),
                due.body.as_str(),
            ),
            WebhookMethod::Get => {
                if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(&due.body) {
                    let mut query = url.query_pairs_mut();
                    for (name, value) in fields {
                        match value {
                            Value::String(text) => query.append_pair(&name, &text),
                            other => query.append_pair(&name, &other.to_string()),
                        };
                    }
                }
                let request = self
                    .client
                    .request(Method::GET, url.as_str())
                    .map_err(|refused| format!("The webhook URL is refused: {refused}."))?;
                (request, "")
            }
        };
        let signature = sign::signature(&secret, &due.id, timestamp, signed)?;
        let mut request = request
            .header("webhook-id", &due.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature);
        for header in &due.headers {
            request = request.header(header.name.as_str(), header.value.as_str());
        }
        Ok(request)
    }

    /// The next try after a failure: the schedule's wait for this attempt with ±20 % jitter
    /// (or the endpoint's `Retry-After`, when longer); failed once the schedule is spent.
    fn retry(&self, due: &Due, error: String, retry_after: Option<i64>) -> Next {
        let attempt = usize::try_from(due.attempts).unwrap_or(usize::MAX);
        let Some(&wait) = self.config.retry_delays_ms.get(attempt) else {
            return Next::Failed {
                error: format!("{error} Gave up after {} attempts.", attempt + 1),
                disable_webhook: false,
            };
        };
        let wait = i64::try_from(wait).unwrap_or(MAX_RETRY_AFTER_MS);
        let jittered = rand::thread_rng().gen_range(wait * 4 / 5..=wait * 6 / 5);
        Next::RetryAt {
            at: now_ms() + jittered.max(retry_after.unwrap_or(0)),
            error,
        }
    }
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// A transport error in words, with its cause (the guard's refusal, a timeout, a refusal).
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "The endpoint did not answer in time.".to_string()
    } else {
        format!("The request failed: {}", guard::with_causes(error))
    }
}
