//! Webhook deliveries in the database: queued with the event that caused them, listed with
//! every attempt for the console, sent again on request. The sender's own statements (claim,
//! finish) live beside it in the server.

use serde_json::Value;
use sqlx::{AnyConnection, Row};

use super::{Attempt, Delivery, DeliveryStatus};
use crate::{
    db::{Db, new_id, now_ms, placeholders},
    ids::{AccountId, StreamId},
    streams::{
        settings_store::{Setting, owned},
        store::StreamError,
    },
};

/// Queues `event` for the stream's webhook, inside the transaction that records what happened;
/// nothing when the stream has no enabled webhook. Answers the delivery's id when queued.
pub async fn enqueue(
    conn: &mut AnyConnection,
    account_id: &AccountId,
    stream_id: &StreamId,
    event: &str,
    body: &Value,
    now: i64,
) -> Result<Option<String>, sqlx::Error> {
    let id = new_id("msg");
    let queued = sqlx::query(
        "insert into webhook_deliveries (id, account_id, stream_id, event, body, status, attempts,
             next_at, created_at, updated_at)
         select $1, $2, $3, $4, $5, 'pending', 0, $6, $6, $6 from webhooks
         where stream_id = $3 and enabled = 1",
    )
    .bind(&id)
    .bind(account_id)
    .bind(stream_id)
    .bind(event)
    .bind(body.to_string())
    .bind(now)
    .execute(conn)
    .await?;
    Ok((queued.rows_affected() == 1).then_some(id))
}

/// The stream's latest deliveries, newest first, each with its attempts.
pub async fn recent(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
    limit: i64,
) -> Result<Vec<Delivery>, StreamError> {
    owned(db, account_id, stream_id, Some(Setting::Webhook)).await?;
    let rows = sqlx::query(
        "select id, event, status, next_at, last_error, created_at from webhook_deliveries
         where stream_id = $1 order by created_at desc, id desc limit $2",
    )
    .bind(stream_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    let mut deliveries: Vec<Delivery> = rows
        .iter()
        .map(|row| Delivery {
            id: row.get("id"),
            event: row.get("event"),
            status: DeliveryStatus::parse(row.get("status")).unwrap_or(DeliveryStatus::Pending),
            next_at: row.get("next_at"),
            last_error: row.get("last_error"),
            created_at: row.get("created_at"),
            attempts: Vec::new(),
        })
        .collect();
    if deliveries.is_empty() {
        return Ok(deliveries);
    }
    let sql = format!(
        "select delivery_id, at, status_code, latency_ms, response, error from webhook_attempts
         where delivery_id in ({}) order by at",
        placeholders(1, deliveries.len())
    );
    let mut query = sqlx::query(&sql);
    for delivery in &deliveries {
        query = query.bind(&delivery.id);
    }
    for row in query.fetch_all(db.pool()).await? {
        let delivery_id: String = row.get("delivery_id");
        if let Some(delivery) = deliveries.iter_mut().find(|d| d.id == delivery_id) {
            delivery.attempts.push(Attempt {
                at: row.get("at"),
                status_code: row
                    .get::<Option<i64>, _>("status_code")
                    .and_then(|code| u16::try_from(code).ok()),
                latency_ms: row.get("latency_ms"),
                response: row.get("response"),
                error: row.get("error"),
            });
        }
    }
    Ok(deliveries)
}

/// Sends a delivery again now, whatever became of it (the log's *Retry*).
pub async fn retry(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
    id: &str,
) -> Result<(), StreamError> {
    owned(db, account_id, stream_id, Some(Setting::Webhook)).await?;
    let now = now_ms();
    let updated = sqlx::query(
        "update webhook_deliveries set status = 'pending', next_at = $1, lease_until = null,
             updated_at = $1
         where id = $2 and stream_id = $3 and account_id = $4",
    )
    .bind(now)
    .bind(id)
    .bind(stream_id)
    .bind(account_id)
    .execute(&mut *db.writer().await?)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(StreamError::NotFound);
    }
    Ok(())
}

/// Queues a `webhook.test` event (the tab's *Test webhook*); answers its id, or `None` when the
/// stream has no enabled webhook.
pub async fn enqueue_test(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
) -> Result<Option<String>, StreamError> {
    owned(db, account_id, stream_id, Some(Setting::Webhook)).await?;
    let now = now_ms();
    let body = serde_json::json!({
        "type": "webhook.test",
        "stream_id": stream_id,
        "message": "This is a test event from Sluice.",
        "sent_at": crate::time::rfc3339(now),
    });
    let mut writer = db.writer().await?;
    let mut tx = writer.begin().await?;
    let queued = enqueue(&mut tx, account_id, stream_id, "webhook.test", &body, now).await?;
    tx.commit().await?;
    Ok(queued)
}
