//! Retention (`[retention]`): once an hour, message bodies older than the configured days are
//! redacted (the text, a WhatsApp payload, and the text `message.received` webhook events
//! carried), and messages, their history and OTP codes, webhook deliveries and unfinished
//! inbound parts older than more days are deleted. Nothing still on its way is touched: a
//! message a worker will act on again, a webhook delivery still pending.
//!
//! Work goes stream by stream in batches of [`BATCH`] rows, each holding the writer (SQLite's
//! one writer) for a few milliseconds and letting it go before the next, so that requests
//! waiting for it go first. Redaction remembers per stream how far it got
//! (`retention_marks`), so a pass reads only what became old since the last one.

use std::time::{Duration, Instant};

use app::{
    db::{Db, now_ms, placeholders},
    messages::Retention,
};
use serde_json::Value;
use sqlx::{AnyConnection, Row};

use crate::metrics::Metrics;

/// Rows one batch reads or changes at most.
const BATCH: i64 = 500;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub redacted_messages: u64,
    pub redacted_events: u64,
    pub deleted_messages: u64,
    pub deleted_deliveries: u64,
    pub deleted_parts: u64,
    /// Batches run, and the longest any held the writer.
    pub batches: u64,
    pub longest_batch: Duration,
}

/// Applies `retention` once an hour, the first time now, until the task is dropped.
pub async fn every_hour(db: Db, retention: Retention, metrics: Metrics) {
    if retention == Retention::default() {
        return;
    }
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        match run(&db, retention, now_ms(), &metrics).await {
            Ok(pass) => tracing::info!(?pass, "retention pass done"),
            Err(error) => tracing::warn!(%error, "retention pass failed"),
        }
    }
}

/// One pass over every stream, as of `now` (ms).
pub async fn run(
    db: &Db,
    retention: Retention,
    now: i64,
    metrics: &Metrics,
) -> Result<Pass, sqlx::Error> {
    let mut pass = Pass::default();
    let (redact_before, delete_before) =
        (retention.redact_before(now), retention.delete_before(now));
    if redact_before.is_none() && delete_before.is_none() {
        return Ok(pass);
    }
    let streams: Vec<String> = sqlx::query_scalar("select id from streams order by id")
        .fetch_all(db.pool())
        .await?;
    let mut batches = Batches {
        db,
        metrics,
        pass: &mut pass,
    };
    for stream in &streams {
        if let Some(before) = delete_before {
            batches.delete(stream, before).await?;
        }
        if let Some(before) = redact_before {
            batches.redact(stream, before).await?;
        }
    }
    Ok(pass)
}

/// A pass's batches: each takes the writer, does one bounded piece of work, and is timed.
struct Batches<'a> {
    db: &'a Db,
    metrics: &'a Metrics,
    pass: &'a mut Pass,
}

/// Where a walk through a stream's rows in creation order is: past `(created_at, id)`.
#[derive(Debug, Clone)]
struct Position {
    created_at: i64,
    id: String,
}

/// The rows older than a cutoff that a deletion statement may take, per table, at most `$3` of
/// them; `$1` is the stream, `$2` the cutoff.
const DELETIONS: [(&str, &str); 3] = [
    (
        "messages",
        "delete from messages where id in (
             select id from messages
             where stream_id = $1 and created_at < $2 and next_at is null limit $3)",
    ),
    (
        "webhook_deliveries",
        "delete from webhook_deliveries where id in (
             select id from webhook_deliveries
             where stream_id = $1 and created_at < $2 and status <> 'pending' limit $3)",
    ),
    // Parts of a long message whose other parts never came.
    (
        "inbound_parts",
        "delete from inbound_parts where (stream_id, sender, reference, seq) in (
             select stream_id, sender, reference, seq from inbound_parts
             where stream_id = $1 and created_at < $2 limit $3)",
    ),
];

impl Batches<'_> {
    /// Runs one batch on the writer, timing how long it held it.
    async fn batch<T>(
        &mut self,
        work: impl AsyncFnOnce(&mut AnyConnection) -> Result<T, sqlx::Error>,
    ) -> Result<T, sqlx::Error> {
        let mut writer = self.db.writer().await?;
        let started = Instant::now();
        let done = work(&mut *writer).await;
        drop(writer);
        let held = started.elapsed();
        self.metrics.retention_batch(held.as_secs_f64());
        self.pass.batches += 1;
        self.pass.longest_batch = self.pass.longest_batch.max(held);
        // The writer's queue is first come, first served: requests that waited go first.
        tokio::task::yield_now().await;
        done
    }

    /// Counts `rows` of `table` redacted or deleted, in the pass and the metrics.
    fn counted(&mut self, action: &str, table: &str, rows: u64) {
        self.metrics.retained(action, table, rows);
        let pass = &mut *self.pass;
        *match (action, table) {
            ("redacted", "messages") => &mut pass.redacted_messages,
            ("redacted", _) => &mut pass.redacted_events,
            (_, "messages") => &mut pass.deleted_messages,
            (_, "webhook_deliveries") => &mut pass.deleted_deliveries,
            _ => &mut pass.deleted_parts,
        } += rows;
    }

    /// Deletes the stream's finished rows created before `before`.
    async fn delete(&mut self, stream: &str, before: i64) -> Result<(), sqlx::Error> {
        for (table, sql) in DELETIONS {
            loop {
                let deleted = self
                    .batch(async |conn| {
                        let done = sqlx::query(sql)
                            .bind(stream)
                            .bind(before)
                            .bind(BATCH)
                            .execute(conn)
                            .await?;
                        Ok(done.rows_affected())
                    })
                    .await?;
                self.counted("deleted", table, deleted);
                if deleted < BATCH as u64 {
                    break;
                }
            }
        }
        Ok(())
    }

    /// Redacts the text of the stream's finished messages and `message.received` events
    /// created before `before`, from where the last pass stopped.
    async fn redact(&mut self, stream: &str, before: i64) -> Result<(), sqlx::Error> {
        let marks = sqlx::query(
            "select messages_redacted_to, webhooks_redacted_to from retention_marks
             where stream_id = $1",
        )
        .bind(stream)
        .fetch_optional(self.db.pool())
        .await?;
        let (messages_from, webhooks_from) = marks.map_or((0, 0), |row| {
            (
                row.get::<i64, _>("messages_redacted_to"),
                row.get::<i64, _>("webhooks_redacted_to"),
            )
        });
        let messages_to = self
            .walk(stream, messages_from, before, Walk::Messages)
            .await?;
        let webhooks_to = self
            .walk(stream, webhooks_from, before, Walk::Events)
            .await?;
        if (messages_to, webhooks_to) == (messages_from, webhooks_from) {
            return Ok(());
        }
        let stored = sqlx::query(
            "insert into retention_marks (stream_id, messages_redacted_to, webhooks_redacted_to)
             select id, $2, $3 from streams where id = $1
             on conflict (stream_id) do update set
                 messages_redacted_to = excluded.messages_redacted_to,
                 webhooks_redacted_to = excluded.webhooks_redacted_to",
        )
        .bind(stream)
        .bind(messages_to)
        .bind(webhooks_to)
        .execute(&mut *self.db.writer().await?)
        .await;
        stored.map(drop)
    }

    /// Walks the stream's rows of one kind created in `[from, before)`, oldest first, and
    /// redacts the finished ones. Answers where the next pass starts: `before`, or the
    /// first row still on its way (redacted once it is finished).
    async fn walk(
        &mut self,
        stream: &str,
        from: i64,
        before: i64,
        kind: Walk,
    ) -> Result<i64, sqlx::Error> {
        let mut after = Position {
            created_at: from,
            id: String::new(),
        };
        let mut first_unfinished: Option<i64> = None;
        loop {
            let (read, last, unfinished, redacted) = self
                .batch(async |conn| {
                    let rows = sqlx::query(kind.window())
                        .bind(stream)
                        .bind(before)
                        .bind(after.created_at)
                        .bind(&after.id)
                        .bind(BATCH)
                        .fetch_all(&mut *conn)
                        .await?;
                    let last = rows.last().map(|row| Position {
                        created_at: row.get("created_at"),
                        id: row.get("id"),
                    });
                    let unfinished = rows
                        .iter()
                        .find(|row| row.get::<Option<i64>, _>("unfinished").is_some())
                        .map(|row| row.get::<i64, _>("created_at"));
                    let redacted = kind.redact(conn, &rows).await?;
                    Ok((rows.len(), last, unfinished, redacted))
                })
                .await?;
            first_unfinished = first_unfinished.or(unfinished);
            self.counted("redacted", kind.table(), redacted);
            match last {
                Some(last) if read as i64 == BATCH => after = last,
                _ => break,
            }
        }
        Ok(first_unfinished.unwrap_or(before).max(from))
    }
}

/// The rows a redaction walk reads.
#[derive(Debug, Clone, Copy)]
enum Walk {
    Messages,
    Events,
}

impl Walk {
    fn table(self) -> &'static str {
        match self {
            Self::Messages => "messages",
            Self::Events => "webhook_deliveries",
        }
    }

    /// A batch of rows created before `$2`, past `($3, $4)` in `(created_at, id)` order, of
    /// stream `$1`, at most `$5`; `unfinished` is set for a row still on its way.
    fn window(self) -> &'static str {
        match self {
            Self::Messages => {
                "select id, created_at, next_at as unfinished, redacted_at from messages
                 where stream_id = $1 and created_at < $2
                   and (created_at > $3 or (created_at = $3 and id > $4))
                 order by created_at, id limit $5"
            }
            Self::Events => {
                "select id, created_at, body,
                     case when status = 'pending' then created_at end as unfinished
                 from webhook_deliveries
                 where stream_id = $1 and created_at < $2
                   and (created_at > $3 or (created_at = $3 and id > $4))
                   and event = 'message.received'
                 order by created_at, id limit $5"
            }
        }
    }

    /// Redacts the finished rows among `rows`; answers how many it changed.
    async fn redact(
        self,
        conn: &mut AnyConnection,
        rows: &[sqlx::any::AnyRow],
    ) -> Result<u64, sqlx::Error> {
        let finished = rows
            .iter()
            .filter(|row| row.get::<Option<i64>, _>("unfinished").is_none());
        match self {
            Self::Messages => {
                let ids: Vec<String> = finished
                    .filter(|row| row.get::<Option<i64>, _>("redacted_at").is_none())
                    .map(|row| row.get("id"))
                    .collect();
                if ids.is_empty() {
                    return Ok(0);
                }
                let sql = format!(
                    "update messages set content = '', payload = null, redacted_at = $1
                     where id in ({}) and next_at is null and redacted_at is null",
                    placeholders(2, ids.len())
                );
                let mut query = sqlx::query(&sql).bind(now_ms());
                for id in &ids {
                    query = query.bind(id);
                }
                Ok(query.execute(conn).await?.rows_affected())
            }
            Self::Events => {
                let mut redacted = 0;
                for row in finished {
                    let Some(body) = redacted_event(row.get("body")) else {
                        continue;
                    };
                    redacted += sqlx::query(
                        "update webhook_deliveries set body = $1
                         where id = $2 and status <> 'pending'",
                    )
                    .bind(body)
                    .bind(row.get::<String, _>("id"))
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                }
                Ok(redacted)
            }
        }
    }
}

/// A `message.received` event's body without the message's text, or `None` when it has none
/// left (redacted before).
fn redacted_event(body: &str) -> Option<String> {
    let mut event: Value = serde_json::from_str(body).ok()?;
    let content = event.get_mut("message_content")?;
    if content.as_str().is_some_and(str::is_empty) {
        return None;
    }
    *content = Value::String(String::new());
    Some(event.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_received_event_loses_its_text_once() {
        let body =
            r#"{"type":"message.received","message_uuid":"m1","message_content":"my PIN is 1234"}"#;
        let redacted = redacted_event(body).unwrap();
        let event: Value = serde_json::from_str(&redacted).unwrap();
        assert_eq!(event["message_content"], "");
        assert_eq!(event["message_uuid"], "m1");
        assert_eq!(redacted_event(&redacted), None);
        assert_eq!(redacted_event("not json"), None);
    }
}
