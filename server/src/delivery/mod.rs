//! Delivery: workers claim due messages from the outbox and hand them to a channel.

pub mod binds;
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
    pace::{Backoff, Slots},
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
    /// Sessions an SMPP connection may have open at once across every instance on one
    /// Postgres database (an SMSC allows an account a set number of binds).
    pub smpp_sessions_per_connection: u32,
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
            smpp_sessions_per_connection: 1,
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

    /// This instance's SMPP sessions: how many are bound, how many not.
    pub fn smpp_sessions(&self) -> (i64, i64) {
        self.0.upstreams.smpp_sessions()
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
        let sessions_stop = stop.clone();
        workers.spawn(async move { upstreams.keep_sessions(sessions_stop).await });
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
    /// The claim's mark in the database: steps are recorded only for messages that still
    /// carry it (`engine::advance_leased`).
    until: i64,
}

impl Lease {
    fn new(claimed_at: Instant, lease_ms: i64, until: i64) -> Self {
        let lease = Duration::from_millis(u64::try_from(lease_ms).unwrap_or(0));
        Self {
            claimed_at,
            finish_by: claimed_at + lease * 3 / 4,
            until,
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

#[derive(Clone)]
struct Worker {
    engine: Engine,
    config: Arc<DeliveryConfig>,
    wake: Arc<Notify>,
    webhooks: Arc<Notify>,
    upstreams: Arc<Upstreams>,
}

/// How far ahead a worker reserves a stream's send slots for the messages it claimed; the
/// rest go back to the queue until their turn.
const PACE_HORIZON: Duration = Duration::from_secs(1);

/// What a worker does with a claimed message.
enum Step {
    Decided(Outcome),
    /// Hand it to its channel: now, or at its throughput slot (ms).
    Send(Option<i64>),
}

/// A claimed message's place under its stream's throughput limit.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// It goes at this time (ms), within this claim.
    At(i64),
    /// Its turn comes after this claim: back to the queue until then (ms).
    Later(i64),
}

impl Worker {
    async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.config.poll_ms.max(10));
        // Sends waiting for their throughput slots, each claim's in a task of its own.
        let mut paced = JoinSet::new();
        while !*stop.borrow() {
            while paced.try_join_next().is_some() {}
            let claimed_at = Instant::now();
            let (claimed, lease) = match engine::claim(
                &self.engine,
                &self.upstreams.smpp_scope(),
                self.config.batch_size,
                self.config.lease_ms,
            )
            .await
            {
                Ok((claimed, until)) => {
                    (claimed, Lease::new(claimed_at, self.config.lease_ms, until))
                }
                Err(error) => {
                    tracing::warn!(%error, "claiming messages failed; retrying");
                    (Vec::new(), Lease::new(claimed_at, 0, 0))
                }
            };
            if !claimed.is_empty() {
                if let Err(error) = self.process(&claimed, lease, &mut paced).await {
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
        while paced.join_next().await.is_some() {}
    }

    /// Decides each claimed message's next step and records the decided ones in one
    /// transaction; then sends those due through their channels, recording their outcomes as
    /// they come: those due now before it returns, those waiting for their throughput slots
    /// in a task of `paced`, so that the worker claims again meanwhile. A send starts only
    /// while it can end, and be recorded, inside the claim's `lease`: one left over is handed
    /// back, so no other worker can claim a message this one is still sending.
    async fn process(
        &self,
        claimed: &[Claimed],
        lease: Lease,
        paced: &mut JoinSet<()>,
    ) -> Result<(), sqlx::Error> {
        let now = now_ms();
        let stream_ids: Vec<&str> = claimed.iter().map(|m| m.stream_id.as_str()).collect();
        let streams = delivery_facts(self.engine.db(), &stream_ids).await?;
        let start_by = lease.start_by(self.upstreams.http_timeout());
        let slots = self.pace(claimed, &streams, now, start_by).await?;
        let mut decided = Vec::new();
        let mut steps = Vec::new();
        let mut due = Vec::new();
        for message in claimed {
            let slot = slots.get(message.id.as_str()).copied();
            match self.decide(message, &streams, slot, now) {
                Step::Decided(outcome) => {
                    decided.push(message);
                    steps.push((message.id.as_str(), outcome));
                }
                Step::Send(at) => due.push((message, at)),
            }
        }
        self.record(&decided, &steps, &streams, lease).await?;
        let (now_due, mut slotted): (Vec<_>, Vec<_>) =
            due.into_iter().partition(|(_, at)| at.is_none());
        if !slotted.is_empty() {
            slotted.sort_by_key(|(_, at)| *at);
            let slotted: Vec<(Claimed, Option<i64>)> = slotted
                .into_iter()
                .map(|(message, at)| (message.clone(), at))
                .collect();
            let (worker, streams) = (self.clone(), streams.clone());
            paced.spawn(async move {
                let due = slotted.iter().map(|(message, at)| (message, *at)).collect();
                if let Err(error) = worker.send_all(due, &streams, lease).await {
                    tracing::warn!(%error, "recording paced sends failed");
                }
            });
        }
        self.send_all(now_due, &streams, lease).await
    }

    /// Sends `due` messages through their channels, up to SEND_CONCURRENCY calls in flight,
    /// the next starting as soon as one returns; whatever has come back is recorded
    /// together, while the rest are still on their way.
    async fn send_all(
        &self,
        due: Vec<(&Claimed, Option<i64>)>,
        streams: &HashMap<String, DeliveryFacts>,
        lease: Lease,
    ) -> Result<(), sqlx::Error> {
        let start_by = lease.start_by(self.upstreams.http_timeout());
        let calls: Vec<_> = due
            .into_iter()
            .map(|(message, at)| self.send(message, at, streams, start_by, lease.finish_by))
            .collect();
        let mut answers = futures_util::stream::iter(calls)
            .buffer_unordered(SEND_CONCURRENCY)
            .ready_chunks(SEND_CONCURRENCY);
        while let Some(answered) = answers.next().await {
            let (sent, steps): (Vec<_>, Vec<_>) = answered
                .into_iter()
                .map(|(message, outcome)| (message, (message.id.as_str(), outcome)))
                .unzip();
            self.record(&sent, &steps, streams, lease).await?;
        }
        Ok(())
    }

    /// Reserves send slots for the claimed messages of streams with a throughput limit
    /// (`pace::reserve`, shared by every instance): a message whose slot comes before
    /// `start_by` (and within [`PACE_HORIZON`]) waits for it in this claim, the others go
    /// back to the queue, due when their turn should come. Only sending is paced: reports of
    /// sent messages, and expired messages, need no slot.
    async fn pace<'m>(
        &self,
        claimed: &'m [Claimed],
        streams: &HashMap<String, DeliveryFacts>,
        now: i64,
        start_by: Instant,
    ) -> Result<HashMap<&'m str, Slot>, sqlx::Error> {
        let mut paced: HashMap<&str, (u32, Vec<&str>)> = HashMap::new();
        for message in claimed {
            let rate = streams
                .get(message.stream_id.as_str())
                .and_then(|facts| facts.max_rate);
            if let Some(rate) = rate
                && message.status == MessageStatus::Queued
                && now < message.expires_at
            {
                let (_, ids) = paced
                    .entry(message.stream_id.as_str())
                    .or_insert((rate, Vec::new()));
                ids.push(message.id.as_str());
            }
        }
        let horizon = start_by
            .saturating_duration_since(Instant::now())
            .min(PACE_HORIZON);
        let horizon = i64::try_from(horizon.as_millis()).unwrap_or(0);
        let mut slots = HashMap::new();
        for (stream_id, (rate, ids)) in paced {
            let reserved: Slots =
                pace::reserve(self.engine.db(), stream_id, rate, ids.len(), now, horizon).await?;
            let granted = reserved.at.len();
            for (n, id) in ids.into_iter().enumerate() {
                let slot = match reserved.at.get(n) {
                    Some(at) => Slot::At(*at),
                    None => Slot::Later(reserved.later(n - granted)),
                };
                slots.insert(id, slot);
            }
        }
        Ok(slots)
    }

    /// Records the steps of `messages` in one transaction, for those still under the claim's
    /// `lease`, and gives delivered demo messages of streams that receive replies their
    /// chance of one.
    async fn record(
        &self,
        messages: &[&Claimed],
        steps: &[(&str, Outcome)],
        streams: &HashMap<String, DeliveryFacts>,
        lease: Lease,
    ) -> Result<(), sqlx::Error> {
        let advanced = engine::advance_leased(&self.engine, steps, lease.until).await?;
        if advanced.events_queued {
            self.webhooks.notify_one();
        }
        for ((message, (_, outcome)), moved) in messages.iter().zip(steps).zip(advanced.moved) {
            let facts = streams.get(message.stream_id.as_str());
            if moved {
                self.count(message, outcome, facts);
            }
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

    /// Counts a recorded step in the instance's metrics: a retry as `retry`, a message handed
    /// back to wait for its turn not at all.
    fn count(&self, message: &Claimed, outcome: &Outcome, facts: Option<&DeliveryFacts>) {
        let status = match (outcome.status, &outcome.error) {
            (MessageStatus::Queued, None) => return,
            (MessageStatus::Queued, Some(_)) => "retry",
            (status, _) => status.as_str(),
        };
        let kind = facts.map(|facts| facts.kind);
        self.engine.metrics().step(status, message.channel, kind);
    }

    fn decide(
        &self,
        message: &Claimed,
        streams: &HashMap<String, DeliveryFacts>,
        slot: Option<Slot>,
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
        let at = match slot {
            // Over the stream's throughput limit: it waits for its turn, still queued.
            Some(Slot::Later(at)) => return Step::Decided(Outcome::handed_back(at)),
            Some(Slot::At(at)) if at > now => Some(at),
            _ => None,
        };
        if message.channel != Some(Channel::Demo) || at.is_some() {
            return Step::Send(at);
        }
        Step::Decided(self.demo_send(message, facts, now))
    }

    /// The demo channel's answer for a message, now.
    fn demo_send(&self, message: &Claimed, facts: Option<&DeliveryFacts>, now: i64) -> Outcome {
        demo::send(&self.config, self.odds(facts), message, now)
            .unwrap_or_else(|error| self.retry(message, error, now))
    }

    /// The demo channel's chances for a message of a stream (a deleted stream's: the
    /// configured ones).
    fn odds(&self, facts: Option<&DeliveryFacts>) -> demo::Odds {
        demo::Odds::of(
            &self.config,
            facts.is_some_and(|facts| facts.demo_predictable),
        )
    }

    /// Sends a message through its channel, at its throughput slot `at` (ms) if it has one:
    /// sent (its delivery report comes from the upstream), failed, or retried later; or, when
    /// its turn comes after `start_by`, handed back unsent for the next claim. A send still
    /// unanswered at `finish_by` is retried later.
    async fn send<'m>(
        &self,
        message: &'m Claimed,
        at: Option<i64>,
        streams: &HashMap<String, DeliveryFacts>,
        start_by: Instant,
        finish_by: Instant,
    ) -> (&'m Claimed, Outcome) {
        if let Some(at) = at {
            let wait = u64::try_from(at - now_ms()).unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
        if Instant::now() > start_by {
            return (message, Outcome::handed_back(now_ms()));
        }
        if message.channel == Some(Channel::Demo) {
            let facts = streams.get(message.stream_id.as_str());
            return (message, self.demo_send(message, facts, now_ms()));
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
        (message, outcome)
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
