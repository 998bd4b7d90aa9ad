//! Delivery: workers claim due messages from the outbox and hand them to a channel.

mod demo;
mod pace;

use std::{collections::HashMap, sync::Arc, time::Duration};

use serde::{Deserialize, Serialize};
use tokio::{sync::Notify, task::JoinSet};

use self::pace::{Backoff, Pacer};
use app::{
    db::{Db, now_ms},
    messages::{
        MessageStatus,
        store::{self, Claimed, Outcome},
    },
    streams::{Stream, store::max_rates},
};

/// Delivery settings (`[delivery]` in `sluice.toml`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DeliveryConfig {
    /// How long the demo channel takes to report delivery, in milliseconds.
    pub demo_delay_ms: u64,
    /// The share of demo messages reported undelivered, 0.0 to 1.0.
    pub demo_failure_ratio: f64,
    /// The share of delivered demo messages of Two-way and WhatsApp streams that get a
    /// simulated reply, 0.0 to 1.0.
    pub demo_reply_ratio: f64,
    /// The share of demo send attempts that fail as a busy provider would, and are retried.
    pub demo_transient_ratio: f64,
    /// Attempts before a message that keeps failing transiently is failed.
    pub max_attempts: i64,
    /// The wait before the first retry, in milliseconds; it doubles per attempt.
    pub retry_base_ms: u64,
    /// The longest wait between two attempts, in milliseconds.
    pub retry_max_ms: u64,
    /// How long an accepted message may wait before it expires, in seconds.
    pub validity_secs: u64,
    /// Messages a worker claims at once.
    pub batch_size: i64,
    /// How long a claim lasts; a crashed worker's messages are claimed again after it.
    pub lease_ms: i64,
    /// How often an idle worker looks for due messages, in milliseconds.
    pub poll_ms: u64,
    /// Workers per process.
    pub workers: usize,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            demo_delay_ms: 2_000,
            demo_failure_ratio: 0.05,
            demo_reply_ratio: 0.3,
            demo_transient_ratio: 0.0,
            max_attempts: 6,
            retry_base_ms: 2_000,
            retry_max_ms: 600_000,
            validity_secs: 48 * 3600,
            batch_size: 200,
            lease_ms: 30_000,
            poll_ms: 250,
            workers: 2,
        }
    }
}

/// The handle the API uses: which channel a stream sends through, and waking the workers.
#[derive(Debug, Clone)]
pub struct Delivery {
    config: Arc<DeliveryConfig>,
    wake: Arc<Notify>,
    pacer: Arc<Pacer>,
}

impl Delivery {
    pub fn new(config: DeliveryConfig) -> Self {
        Self {
            config: Arc::new(config),
            wake: Arc::new(Notify::new()),
            pacer: Arc::default(),
        }
    }

    /// Until upstream connections exist, every stream sends through the demo channel.
    pub fn channel_for(&self, _stream: &Stream) -> &'static str {
        demo::NAME
    }

    pub fn validity_ms(&self) -> i64 {
        i64::try_from(self.config.validity_secs.saturating_mul(1_000)).unwrap_or(i64::MAX)
    }

    /// Tells idle workers there is new work.
    pub fn wake(&self) {
        self.wake.notify_waiters();
    }

    /// Starts the workers; they stop, finishing what they hold, when `stop` resolves.
    pub fn spawn_workers(&self, db: Db, stop: tokio::sync::watch::Receiver<bool>) -> JoinSet<()> {
        let mut workers = JoinSet::new();
        for _ in 0..self.config.workers.max(1) {
            let worker = Worker {
                db: db.clone(),
                config: self.config.clone(),
                wake: self.wake.clone(),
                pacer: self.pacer.clone(),
            };
            workers.spawn(worker.run(stop.clone()));
        }
        workers
    }
}

/// How long a worker waits after a partial batch before claiming again.
const LINGER: Duration = Duration::from_millis(10);

struct Worker {
    db: Db,
    config: Arc<DeliveryConfig>,
    wake: Arc<Notify>,
    pacer: Arc<Pacer>,
}

impl Worker {
    async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.config.poll_ms.max(10));
        while !*stop.borrow() {
            let claimed =
                match store::claim(&self.db, self.config.batch_size, self.config.lease_ms).await {
                    Ok(claimed) => claimed,
                    Err(error) => {
                        tracing::warn!(%error, "claiming messages failed; retrying");
                        Vec::new()
                    }
                };
            if !claimed.is_empty() {
                if let Err(error) = self.process(&claimed).await {
                    // The leases run out and another pass picks the messages up again.
                    tracing::warn!(%error, count = claimed.len(), "delivery step failed");
                }
                // A full batch means more is due now; after a partial one, a short pause lets
                // work gather, so that a busy API's trickle is claimed in batches.
                if claimed.len() < usize::try_from(self.config.batch_size).unwrap_or(0) {
                    tokio::time::sleep(LINGER).await;
                }
                continue;
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Decides each claimed message's next step and records them all in one transaction.
    async fn process(&self, claimed: &[Claimed]) -> Result<(), sqlx::Error> {
        let now = now_ms();
        // Only sending is paced; reports of sent messages need no limits.
        let stream_ids: Vec<&str> = claimed
            .iter()
            .filter(|m| m.status == MessageStatus::Queued)
            .map(|m| m.stream_id.as_str())
            .collect();
        let rates = max_rates(&self.db, &stream_ids).await?;
        let steps: Vec<(&str, Outcome<'static>)> = claimed
            .iter()
            .map(|message| (message.id.as_str(), self.decide(message, &rates, now)))
            .collect();
        let moved = store::advance_all(&self.db, &steps).await?;
        for ((message, (_, outcome)), moved) in claimed.iter().zip(&steps).zip(moved) {
            if moved && outcome.status == MessageStatus::Delivered {
                demo::maybe_reply(&self.db, &self.config, message).await?;
            }
        }
        Ok(())
    }

    fn decide(
        &self,
        message: &Claimed,
        rates: &HashMap<String, u32>,
        now: i64,
    ) -> Outcome<'static> {
        if message.status != MessageStatus::Queued {
            return demo::report(&self.config);
        }
        if now >= message.expires_at {
            return Outcome {
                status: MessageStatus::Expired,
                next_at: None,
                error: Some((
                    "expired",
                    "The message waited longer than its validity period.",
                )),
                attempted: false,
            };
        }
        if let Some(&rate) = rates.get(&message.stream_id)
            && let Some(at) = self.pacer.slot(&message.stream_id, &message.id, rate, now)
        {
            // Over the stream's throughput limit: it waits for its slot, still queued.
            return Outcome {
                status: MessageStatus::Queued,
                next_at: Some(at),
                error: None,
                attempted: false,
            };
        }
        demo::send(&self.config, now).unwrap_or_else(|error| self.retry(message, error, now))
    }

    /// After a transient failure: queued again after a backoff, or failed once the attempts
    /// are spent.
    fn retry(&self, message: &Claimed, error: demo::Transient, now: i64) -> Outcome<'static> {
        let attempt = message.attempts + 1;
        if attempt >= self.config.max_attempts {
            return Outcome {
                status: MessageStatus::SentFailed,
                next_at: None,
                error: Some((error.code, error.message)),
                attempted: true,
            };
        }
        let backoff = Backoff {
            base_ms: self.config.retry_base_ms,
            max_ms: self.config.retry_max_ms,
        };
        let wait = backoff.delay_ms(
            u32::try_from(attempt).unwrap_or(u32::MAX),
            &mut rand::thread_rng(),
        );
        Outcome {
            status: MessageStatus::Queued,
            next_at: Some(now.saturating_add(i64::try_from(wait).unwrap_or(i64::MAX))),
            error: Some((error.code, error.message)),
            attempted: true,
        }
    }
}
