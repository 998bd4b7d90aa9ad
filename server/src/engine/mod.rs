//! The message engine: what happens to a message from the moment the API accepts it until its
//! last status — the outbox and its group commit, leases, the lifecycle's steps, tracking for
//! `/status/`, OTP codes, delivery reports, inbound messages and opt-outs.
//!
//! The API (`crate::api`) parses requests and calls in here; the workers (`crate::delivery`)
//! claim and advance; the webhook sender (`crate::webhooks`) tells the customer. The console
//! reads the same tables through `app::messages::queries`.

pub mod accept;
mod channel;
mod inbound;
mod lease;
mod lifecycle;
pub mod otp;
mod outbox;
pub mod reports;
mod track;

use std::sync::Arc;

use app::{
    db::{Backend, Db, positional},
    messages::MessageStatus,
};
use sqlx::AnyConnection;

use crate::metrics::Metrics;

pub(crate) use self::outbox::{queue_one, touch_stream};
pub use self::{
    channel::Channel,
    inbound::{
        Inbound, Part, inbound_sender, opt_keyword, opted_out, provider_id_of, receive,
        receive_part, wrote_since,
    },
    lease::{Leased, Leases, Only},
    lifecycle::{
        Advanced, Claimed, Outcome, SmppScope, advance, advance_all, advance_leased, claim,
    },
    outbox::{AcceptError, NewMessage, Outbox, Queued, Receipt, Route, accept},
    track::{Step, Tracked, track},
};

/// The engine's handle: the database, and what this process keeps in memory beside it —
/// messages waiting for a group commit, the leases of SQLite's outbox rows, and the bell that
/// rings when messages are queued. One per process; clones share it (one reference count).
#[derive(Debug, Clone)]
pub struct Engine(Arc<Parts>);

#[derive(Debug)]
struct Parts {
    db: Db,
    metrics: Metrics,
    outbox: Outbox,
    leases: Leases,
    queued: tokio::sync::Notify,
}

impl Engine {
    pub fn new(db: Db) -> Self {
        Self(Arc::new(Parts {
            db,
            metrics: Metrics::default(),
            outbox: Outbox::default(),
            leases: Leases::default(),
            queued: tokio::sync::Notify::new(),
        }))
    }

    /// Rings every waiter once messages were queued (committed), by a group commit or an OTP
    /// code; a test inbox's long-poll waits on it. Ringing with no waiter costs nothing.
    pub fn queued(&self) -> &tokio::sync::Notify {
        &self.0.queued
    }

    pub fn db(&self) -> &Db {
        &self.0.db
    }

    /// This instance's metrics, which every part that holds the engine adds to.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// Leases up to `limit` due rows of an outbox `table` for `lease_ms` (see [`Leases`]).
    pub(crate) async fn lease_due(
        &self,
        table: &'static str,
        returning: &str,
        only: Option<&Only<'_>>,
        limit: i64,
        lease_ms: i64,
    ) -> Result<Leased, sqlx::Error> {
        self.0
            .leases
            .lease_due(&self.0.db, table, returning, only, limit, lease_ms)
            .await
    }

    /// Which of `ids` still carry the lease `until` (see [`Leased`]): on SQLite, call it
    /// holding the writer. On Postgres the step's statement checks it instead.
    pub(crate) fn still_held<'a>(
        &self,
        table: &'static str,
        ids: &[&'a str],
        until: i64,
    ) -> Vec<&'a str> {
        self.0.leases.still_held(table, ids, until)
    }

    /// Frees the leases of rows of `table` a committed step moved on (on Postgres the step's
    /// update cleared them). Call it after the commit.
    pub(crate) fn release<'a>(&self, table: &'static str, ids: impl IntoIterator<Item = &'a str>) {
        if self.0.db.backend() == Backend::Sqlite {
            self.0.leases.release(table, ids);
        }
    }
}

/// `count` new message ids.
fn new_message_ids(count: usize) -> Vec<String> {
    (0..count).map(|_| new_message_id()).collect()
}

/// A time-ordered id: new messages append to the primary-key and history indexes.
fn new_message_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Passes `result` on; when it is an error, first ends the transaction the failed statements
/// opened themselves ([`Framing::Own`]), so the writer is never left inside it. The rollback
/// fails harmlessly when SQLite already rolled back.
async fn rolled_back_on_error<T>(
    conn: &mut AnyConnection,
    result: Result<T, sqlx::Error>,
) -> Result<T, sqlx::Error> {
    if result.is_err() {
        let _ = sqlx::query("rollback").execute(conn).await;
    }
    result
}

/// Whether a write (accepting's insert, a worker's step) runs inside its caller's transaction
/// or, on SQLite, opens its own with its first statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Inside,
    Own,
}

/// Rows per insert statement: 16 parameters each stays under both backends' limits.
const ROWS_PER_INSERT: usize = 1_000;

/// Appends the same step to the history of each of `ids`, in one statement.
async fn record_all(
    conn: &mut AnyConnection,
    ids: &[impl AsRef<str>],
    status: MessageStatus,
    at: i64,
    detail: Option<&str>,
) -> Result<(), sqlx::Error> {
    for chunk in ids.chunks(ROWS_PER_INSERT) {
        let rows = (0..chunk.len())
            .map(|n| {
                format!(
                    "(${}, ${}, ${}, ${})",
                    4 * n + 1,
                    4 * n + 2,
                    4 * n + 3,
                    4 * n + 4
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = positional(
            conn,
            &format!("insert into message_history (message_id, status, at, detail) values {rows}"),
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query
                .bind(id.as_ref())
                .bind(status.as_str())
                .bind(at)
                .bind(detail);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
