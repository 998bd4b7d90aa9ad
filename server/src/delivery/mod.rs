//! Delivery: workers claim due messages from the outbox and hand them to a channel.

mod demo;
mod pace;
mod smpp;
pub mod upstream;

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::{sync::Notify, task::JoinSet};

use self::{
    pace::{Backoff, Pacer},
    upstream::{Sent, Upstreams},
};
use crate::engine::{self, Channel, Claimed, Engine, Outcome, reports};
use app::{
    db::{Backend, Db, now_ms},
    ids::AccountId,
    messages::MessageStatus,
    streams::{
        Stream, StreamKind,
        store::{DeliveryFacts, delivery_facts},
    },
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
    /// Workers per process. Unset: one on SQLite, where every worker's steps take turns on the
    /// one writer (a second adds waiting, not throughput), two on Postgres.
    pub workers: Option<usize>,
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
            workers: None,
        }
    }
}

/// Upstream sends a worker makes at once.
const SEND_CONCURRENCY: usize = 64;

/// The handle the API uses: which channel a stream sends through, and waking the workers.
/// Cloned for every request: one reference count.
#[derive(Debug, Clone)]
pub struct Delivery(Arc<Parts>);

#[derive(Debug)]
struct Parts {
    config: Arc<DeliveryConfig>,
    wake: Arc<Notify>,
    /// Rings the webhook sender when a step queued `message.status` events.
    webhooks: Arc<Notify>,
    pacer: Arc<Pacer>,
    upstreams: Arc<Upstreams>,
}

/// The channel (and connection) a stream's messages are queued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    pub channel: Channel,
    pub connection_id: Option<String>,
}

impl Delivery {
    pub fn new(config: DeliveryConfig, upstreams: Upstreams, webhooks: Arc<Notify>) -> Self {
        Self(Arc::new(Parts {
            config: Arc::new(config),
            wake: Arc::new(Notify::new()),
            webhooks,
            pacer: Arc::default(),
            upstreams: Arc::new(upstreams),
        }))
    }

    /// Demo streams use the demo channel; WhatsApp streams Meta's Cloud API; SMS streams the
    /// connection they chose or the account's default, and the demo channel when the account
    /// has none.
    pub async fn channel_for(
        &self,
        db: &Db,
        account_id: &AccountId,
        stream: &Stream,
    ) -> Result<Via, sqlx::Error> {
        let demo = Via {
            channel: Channel::Demo,
            connection_id: None,
        };
        if stream.demo {
            return Ok(demo);
        }
        if stream.kind == StreamKind::Whatsapp {
            return Ok(Via {
                channel: Channel::Whatsapp,
                connection_id: None,
            });
        }
        let route =
            app::connections::store::route(db, account_id, stream.connection_id.as_deref()).await?;
        Ok(match route {
            Some((id, kind)) => Via {
                channel: if kind == Channel::Smpp.as_str() {
                    Channel::Smpp
                } else {
                    Channel::Http
                },
                connection_id: Some(id),
            },
            None => demo,
        })
    }

    pub fn validity_ms(&self) -> i64 {
        i64::try_from(self.0.config.validity_secs.saturating_mul(1_000)).unwrap_or(i64::MAX)
    }

    /// Tells idle workers there is new work.
    pub fn wake(&self) {
        self.0.wake.notify_waiters();
    }

    /// Starts the workers; they stop, finishing what they hold, when `stop` resolves.
    pub fn spawn_workers(
        &self,
        engine: Engine,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> JoinSet<()> {
        let mut workers = JoinSet::new();
        let upstreams = self.0.upstreams.clone();
        workers.spawn(async move { upstreams.open_sessions().await });
        let count = self
            .0
            .config
            .workers
            .unwrap_or(match engine.db().backend() {
                Backend::Sqlite => 1,
                Backend::Postgres => 2,
            });
        for _ in 0..count.max(1) {
            let worker = Worker {
                engine: engine.clone(),
                config: self.0.config.clone(),
                wake: self.0.wake.clone(),
                webhooks: self.0.webhooks.clone(),
                pacer: self.0.pacer.clone(),
                upstreams: self.0.upstreams.clone(),
            };
            workers.spawn(worker.run(stop.clone()));
        }
        workers.spawn(apply_held_reports(engine, stop));
        workers
    }
}

/// How often delivery reports that came before their send was recorded are tried again.
const HELD_REPORTS_EVERY: Duration = Duration::from_millis(500);

/// Applies held delivery reports once their sends are recorded, until `stop` changes.
async fn apply_held_reports(engine: Engine, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut every = tokio::time::interval(HELD_REPORTS_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !*stop.borrow() {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.changed() => continue,
        }
        if let Err(error) = reports::apply_held(&engine, now_ms()).await {
            tracing::warn!(%error, "applying held delivery reports failed");
        }
    }
}

/// The time a worker's claim gives it: sends must be answered by `finish_by`, leaving the
/// lease's last quarter to record them before another worker may claim the messages again.
#[derive(Debug, Clone, Copy)]
struct Lease {
    claimed_at: Instant,
    finish_by: Instant,
}

impl Lease {
    fn new(claimed_at: Instant, lease_ms: i64) -> Self {
        let lease = Duration::from_millis(u64::try_from(lease_ms).unwrap_or(0));
        Self {
            claimed_at,
            finish_by: claimed_at + lease * 3 / 4,
        }
    }

    /// The last moment a send taking up to `timeout` may start. A lease shorter than one
    /// send still lets sends start, cut off at `finish_by`.
    fn start_by(self, timeout: Duration) -> Instant {
        self.finish_by
            .checked_sub(timeout)
            .filter(|start_by| *start_by > self.claimed_at)
            .unwrap_or(self.finish_by)
    }
}

/// How long a worker waits after a partial batch before claiming again.
const LINGER: Duration = Duration::from_millis(50);

struct Worker {
    engine: Engine,
    config: Arc<DeliveryConfig>,
    wake: Arc<Notify>,
    webhooks: Arc<Notify>,
    pacer: Arc<Pacer>,
    upstreams: Arc<Upstreams>,
}

/// What a worker does with a claimed message.
enum Step {
    Decided(Outcome),
    /// Hand it to its upstream now.
    Send,
}

impl Worker {
    async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.config.poll_ms.max(10));
        while !*stop.borrow() {
            let lease = Lease::new(Instant::now(), self.config.lease_ms);
            let claimed =
                match engine::claim(&self.engine, self.config.batch_size, self.config.lease_ms)
                    .await
                {
                    Ok(claimed) => claimed,
                    Err(error) => {
                        tracing::warn!(%error, "claiming messages failed; retrying");
                        Vec::new()
                    }
                };
            if !claimed.is_empty() {
                if let Err(error) = self.process(&claimed, lease).await {
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

    /// Decides each claimed message's next step and records the decided ones in one
    /// transaction; then sends those due to their upstreams, recording their outcomes as they
    /// come. A send starts only while it can end, and be recorded, inside the claim's `lease`:
    /// one left over is handed back, so no other worker can claim a message this one is still
    /// sending.
    async fn process(&self, claimed: &[Claimed], lease: Lease) -> Result<(), sqlx::Error> {
        let now = now_ms();
        let stream_ids: Vec<&str> = claimed.iter().map(|m| m.stream_id.as_str()).collect();
        let streams = delivery_facts(self.engine.db(), &stream_ids).await?;
        let mut decided = Vec::new();
        let mut steps = Vec::new();
        let mut due = Vec::new();
        for message in claimed {
            match self.decide(message, &streams, now) {
                Step::Decided(outcome) => {
                    decided.push(message);
                    steps.push((message.id.as_str(), outcome));
                }
                Step::Send => due.push(message),
            }
        }
        self.record_decided(&decided, &steps, &streams).await?;
        let start_by = lease.start_by(self.upstreams.http_timeout());
        // Up to SEND_CONCURRENCY calls in flight, the next starting as soon as one returns;
        // whatever has come back is recorded together, while the rest are still on their way.
        let calls: Vec<_> = due
            .into_iter()
            .map(|message| self.send(message, start_by, lease.finish_by))
            .collect();
        let mut answers = futures_util::stream::iter(calls)
            .buffer_unordered(SEND_CONCURRENCY)
            .ready_chunks(SEND_CONCURRENCY);
        while let Some(outcomes) = answers.next().await {
            let advanced = engine::advance_all(&self.engine, &outcomes).await?;
            if advanced.events_queued {
                self.webhooks.notify_one();
            }
        }
        Ok(())
    }

    /// Records the steps of the `decided` messages, taken without a send, and gives delivered
    /// demo messages of streams that receive replies their chance of one.
    async fn record_decided(
        &self,
        decided: &[&Claimed],
        steps: &[(&str, Outcome)],
        streams: &HashMap<String, DeliveryFacts>,
    ) -> Result<(), sqlx::Error> {
        let advanced = engine::advance_all(&self.engine, steps).await?;
        if advanced.events_queued {
            self.webhooks.notify_one();
        }
        for ((message, (_, outcome)), moved) in decided.iter().zip(steps).zip(advanced.moved) {
            let facts = streams.get(message.stream_id.as_str());
            let replies = facts.is_some_and(|facts| facts.kind.receives_messages());
            if moved
                && replies
                && outcome.status == MessageStatus::Delivered
                && message.channel == Some(Channel::Demo)
            {
                demo::maybe_reply(self.engine.db(), self.odds(facts), message).await?;
            }
        }
        Ok(())
    }

    fn decide(
        &self,
        message: &Claimed,
        streams: &HashMap<String, DeliveryFacts>,
        now: i64,
    ) -> Step {
        let facts = streams.get(message.stream_id.as_str());
        if message.status != MessageStatus::Queued {
            return Step::Decided(demo::report(self.odds(facts), message));
        }
        if now >= message.expires_at {
            return Step::Decided(Outcome {
                status: MessageStatus::Expired,
                next_at: None,
                error: Some((
                    "expired",
                    "The message waited longer than its validity period.".into(),
                )),
                attempted: false,
                provider_id: None,
            });
        }
        // Only sending is paced; reports of sent messages need no limits.
        if let Some(rate) = facts.and_then(|facts| facts.max_rate)
            && let Some(at) = self.pacer.slot(&message.stream_id, &message.id, rate, now)
        {
            // Over the stream's throughput limit: it waits for its slot, still queued.
            return Step::Decided(Outcome {
                status: MessageStatus::Queued,
                next_at: Some(at),
                error: None,
                attempted: false,
                provider_id: None,
            });
        }
        if message.channel != Some(Channel::Demo) {
            return Step::Send;
        }
        Step::Decided(
            demo::send(&self.config, self.odds(facts), message, now)
                .unwrap_or_else(|error| self.retry(message, error, now)),
        )
    }

    /// The demo channel's chances for a message of a stream (a deleted stream's: the
    /// configured ones).
    fn odds(&self, facts: Option<&DeliveryFacts>) -> demo::Odds {
        demo::Odds::of(
            &self.config,
            facts.is_some_and(|facts| facts.demo_predictable),
        )
    }

    /// Sends a message to its upstream: sent (its delivery report comes from the upstream),
    /// failed, or retried later; or, when its turn comes after `start_by`, handed back unsent
    /// for the next claim. A send still unanswered at `finish_by` is retried later.
    async fn send<'m>(
        &self,
        message: &'m Claimed,
        start_by: Instant,
        finish_by: Instant,
    ) -> (&'m str, Outcome) {
        if Instant::now() > start_by {
            return (message.id.as_str(), Outcome::handed_back(now_ms()));
        }
        let sent = tokio::time::timeout_at(finish_by.into(), self.upstreams.send(message)).await;
        let outcome = match sent {
            Ok(Sent::Accepted(provider_id)) => Outcome {
                status: MessageStatus::Sent,
                next_at: None,
                error: None,
                attempted: true,
                provider_id,
            },
            Ok(Sent::Refused(refused)) => Outcome {
                status: refused.status,
                next_at: None,
                error: Some((refused.code, refused.message)),
                attempted: true,
                provider_id: None,
            },
            Ok(Sent::Transient(error)) => self.retry(message, error, now_ms()),
            Err(_elapsed) => self.retry(
                message,
                demo::Transient {
                    code: "provider_unreachable",
                    message: "The upstream did not answer in time.".into(),
                },
                now_ms(),
            ),
        };
        (message.id.as_str(), outcome)
    }

    /// After a transient failure: queued again after a backoff, or failed once the attempts
    /// are spent.
    fn retry(&self, message: &Claimed, error: demo::Transient, now: i64) -> Outcome {
        let attempt = message.attempts + 1;
        if attempt >= self.config.max_attempts {
            return Outcome {
                status: MessageStatus::SentFailed,
                next_at: None,
                error: Some((error.code, error.message)),
                attempted: true,
                provider_id: None,
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
            provider_id: None,
        }
    }
}
