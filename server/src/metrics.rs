//! What an operator's Prometheus scrapes at `/metrics`: counters, gauges and histograms of
//! this instance, in the OpenMetrics text format, every name prefixed `sluice_`. Counters
//! count from the instance's start; gauges of the shared queue (depth, oldest due message,
//! webhook backlog) are read from the database at each scrape, so every instance reports
//! the same figures for them. Who may read it is `[metrics]` (`http::metrics`).

use std::sync::{Arc, atomic::AtomicU64};

use app::{
    db::{Db, now_ms},
    streams::StreamKind,
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

use crate::engine::Channel;

/// The instance's metrics. Clones share them (one reference count).
#[derive(Debug, Clone)]
pub struct Metrics(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    registry: Registry,
    accepted: Family<MessageLabels, Counter>,
    steps: Family<StepLabels, Counter>,
    upstream_calls: Family<UpstreamLabels, Histogram, fn() -> Histogram>,
    http_requests: Family<RouteLabels, Histogram, fn() -> Histogram>,
    webhook_attempts: Family<ResultLabels, Counter>,
    live_reads: Family<FeedLabels, Counter>,
    smpp_sessions: Family<StateLabels, Gauge>,
    queue_depth: Gauge,
    oldest_due: Gauge<f64, AtomicU64>,
    webhook_backlog: Gauge,
    retained: Family<RetentionLabels, Counter>,
    retention_batches: Histogram,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RetentionLabels {
    action: String,
    table: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MessageLabels {
    channel: String,
    stream_type: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StepLabels {
    status: String,
    channel: String,
    stream_type: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    kind: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeedLabels {
    feed: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

/// Upstream calls take from milliseconds to the send timeout: 5 ms to about 20 s.
fn upstream_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 13))
}

/// Requests take from a tenth of a millisecond to the request timeout: 0.25 ms to about 16 s.
fn request_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 17))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("sluice");
        let inner = Inner {
            accepted: Family::default(),
            steps: Family::default(),
            upstream_calls: Family::new_with_constructor(upstream_histogram),
            http_requests: Family::new_with_constructor(request_histogram),
            webhook_attempts: Family::default(),
            live_reads: Family::default(),
            smpp_sessions: Family::default(),
            queue_depth: Gauge::default(),
            oldest_due: Gauge::default(),
            webhook_backlog: Gauge::default(),
            retained: Family::default(),
            retention_batches: request_histogram(),
            registry: Registry::default(),
        };
        registry.register(
            "messages_accepted",
            "Messages the API accepted and queued",
            inner.accepted.clone(),
        );
        registry.register(
            "message_steps",
            "Steps messages took after acceptance (sent, delivered, undelivered, sent_failed, expired, ...), by delivery workers and upstream reports",
            inner.steps.clone(),
        );
        registry.register_with_unit(
            "upstream_call_duration",
            "How long a call to an upstream (HTTP provider, WhatsApp Cloud API, SMSC) took",
            prometheus_client::registry::Unit::Seconds,
            inner.upstream_calls.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "How long this instance took to answer an HTTP request, by route",
            prometheus_client::registry::Unit::Seconds,
            inner.http_requests.clone(),
        );
        registry.register(
            "webhook_attempts",
            "Webhook delivery attempts, by result (delivered, retry, failed)",
            inner.webhook_attempts.clone(),
        );
        registry.register(
            "live_snapshot_reads",
            "Snapshots the live feeds (Realtime page, widgets) read from the database",
            inner.live_reads.clone(),
        );
        registry.register(
            "smpp_sessions",
            "This instance's SMPP sessions, by state (bound, unbound)",
            inner.smpp_sessions.clone(),
        );
        registry.register(
            "queue_depth",
            "Messages due now and waiting for a worker, on every instance",
            inner.queue_depth.clone(),
        );
        registry.register_with_unit(
            "queue_oldest_due_age",
            "How long the longest-waiting due message has been due",
            prometheus_client::registry::Unit::Seconds,
            inner.oldest_due.clone(),
        );
        registry.register(
            "webhook_backlog",
            "Webhook deliveries due now and not yet sent, on every instance",
            inner.webhook_backlog.clone(),
        );
        registry.register(
            "retention_rows",
            "Rows the retention pass redacted or deleted, by table",
            inner.retained.clone(),
        );
        registry.register_with_unit(
            "retention_batch_duration",
            "How long each retention batch held the database writer",
            prometheus_client::registry::Unit::Seconds,
            inner.retention_batches.clone(),
        );
        // Series of known labels exist from the start, at zero, so that dashboards and
        // alerts see them before the first event.
        for (action, table) in [
            ("redacted", "messages"),
            ("redacted", "webhook_deliveries"),
            ("deleted", "messages"),
            ("deleted", "webhook_deliveries"),
            ("deleted", "inbound_parts"),
        ] {
            let labels = RetentionLabels {
                action: action.into(),
                table: table.into(),
            };
            let _ = inner.retained.get_or_create(&labels);
        }
        for feed in ["realtime", "widget"] {
            let _ = inner
                .live_reads
                .get_or_create(&FeedLabels { feed: feed.into() });
        }
        for result in ["delivered", "retry", "failed"] {
            let labels = ResultLabels {
                result: result.into(),
            };
            let _ = inner.webhook_attempts.get_or_create(&labels);
        }
        for channel in [Channel::Http, Channel::Smpp, Channel::Whatsapp] {
            let labels = UpstreamLabels {
                kind: channel.as_str().into(),
            };
            let _ = inner.upstream_calls.get_or_create(&labels);
        }
        let metrics = Self(Arc::new(Inner { registry, ..inner }));
        metrics.smpp_sessions(0, 0);
        metrics
    }
}

impl Metrics {
    /// The retention pass redacted or deleted `rows` of `table`.
    pub fn retained(&self, action: &str, table: &str, rows: u64) {
        let labels = RetentionLabels {
            action: action.into(),
            table: table.into(),
        };
        self.0.retained.get_or_create(&labels).inc_by(rows);
    }

    /// A retention batch held the writer `seconds`.
    pub fn retention_batch(&self, seconds: f64) {
        self.0.retention_batches.observe(seconds);
    }

    /// `count` messages of a `kind` stream accepted for `channel`.
    pub fn accepted(&self, channel: Channel, kind: StreamKind, count: u64) {
        let labels = MessageLabels {
            channel: channel.as_str().into(),
            stream_type: kind.as_str().into(),
        };
        self.0.accepted.get_or_create(&labels).inc_by(count);
    }

    /// A message of a `kind` stream (unknown: a deleted one) moved to `status`.
    pub fn step(&self, status: &str, channel: Option<Channel>, kind: Option<StreamKind>) {
        let labels = StepLabels {
            status: status.into(),
            channel: channel.map_or("unknown", Channel::as_str).into(),
            stream_type: kind.map_or("unknown", StreamKind::as_str).into(),
        };
        self.0.steps.get_or_create(&labels).inc();
    }

    /// A call to an upstream of `kind` (`http`, `whatsapp`, `smpp`) took `seconds`.
    pub fn upstream_call(&self, kind: &str, seconds: f64) {
        let labels = UpstreamLabels { kind: kind.into() };
        self.0
            .upstream_calls
            .get_or_create(&labels)
            .observe(seconds);
    }

    /// A request to `route` (its pattern, never the raw path) took `seconds`.
    pub fn request(&self, route: &str, method: &str, seconds: f64) {
        let labels = RouteLabels {
            route: route.into(),
            method: method.into(),
        };
        self.0.http_requests.get_or_create(&labels).observe(seconds);
    }

    /// A webhook attempt ended: `delivered`, `retry` or `failed`.
    pub fn webhook_attempt(&self, result: &str) {
        let labels = ResultLabels {
            result: result.into(),
        };
        self.0.webhook_attempts.get_or_create(&labels).inc();
    }

    /// A live feed of `feed` (`realtime`, `widget`) read a snapshot.
    pub fn live_read(&self, feed: &str) {
        let labels = FeedLabels { feed: feed.into() };
        self.0.live_reads.get_or_create(&labels).inc();
    }

    /// How many of this instance's SMPP sessions are bound and how many are not.
    pub fn smpp_sessions(&self, bound: i64, unbound: i64) {
        for (state, count) in [("bound", bound), ("unbound", unbound)] {
            let labels = StateLabels {
                state: state.into(),
            };
            self.0.smpp_sessions.get_or_create(&labels).set(count);
        }
    }

    /// Reads the shared queue's gauges and answers every metric as OpenMetrics text.
    pub async fn scrape(&self, db: &Db) -> Result<String, sqlx::Error> {
        let now = now_ms();
        let (depth, oldest): (i64, Option<i64>) = sqlx::query_as(
            "select count(*), min(next_at) from messages
             where status = 'queued' and next_at is not null and next_at <= $1",
        )
        .bind(now)
        .fetch_one(db.pool())
        .await?;
        let backlog: i64 = sqlx::query_scalar(
            "select count(*) from webhook_deliveries
             where status = 'pending' and next_at is not null and next_at <= $1",
        )
        .bind(now)
        .fetch_one(db.pool())
        .await?;
        self.0.queue_depth.set(depth);
        self.0
            .oldest_due
            .set(oldest.map_or(0.0, |at| (now - at).max(0) as f64 / 1_000.0));
        self.0.webhook_backlog.set(backlog);
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &self.0.registry);
        Ok(text)
    }
}
