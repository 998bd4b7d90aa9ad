//! Webhook deliveries in the database: queued with the event that caused them, claimed by the
//! sender with leases, finished with a log of every attempt.

use serde_json::Value;
use sqlx::{AnyConnection, Row};

use super::{Attempt, Delivery, DeliveryStatus, RESPONSE_EXCERPT};
use crate::{
    db::{Db, new_id, now_ms, placeholders},
    streams::{
        settings::{WebhookHeader, WebhookMethod},
        settings_store::{Setting, owned},
        store::StreamError,
    },
};

/// Queues `event` for the stream's webhook, inside the transaction that records what happened;
/// nothing when the stream has no enabled webhook. Answers the delivery's id when queued.
pub async fn enqueue(
    conn: &mut AnyConnection,
    account_id: &str,
    stream_id: &str,
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

/// A delivery the sender holds, with where and how to send it.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: String,
    pub stream_id: String,
    pub body: String,
    /// Attempts made before this one.
    pub attempts: i64,
    pub method: WebhookMethod,
    pub url: String,
    pub headers: Vec<WebhookHeader>,
    pub secret_sealed: String,
}

/// Claims up to `limit` due deliveries for `lease_ms`. A delivery whose webhook was removed
/// fails here.
pub async fn claim(db: &Db, limit: i64, lease_ms: i64) -> Result<Vec<Due>, sqlx::Error> {
    let ids: Vec<String> = db
        .lease_due("webhook_deliveries", "id", limit, lease_ms)
        .await?
        .iter()
        .map(|row| row.get("id"))
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "select d.id, d.stream_id, d.body, d.attempts, w.method, w.url, w.headers, w.secret_sealed
         from webhook_deliveries d join webhooks w on w.stream_id = d.stream_id
         where d.id in ({})",
        placeholders(1, ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in &ids {
        query = query.bind(id);
    }
    let due: Vec<Due> = query
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|row| Due {
            id: row.get("id"),
            stream_id: row.get("stream_id"),
            body: row.get("body"),
            attempts: row.get("attempts"),
            method: WebhookMethod::parse(row.get("method")).unwrap_or_default(),
            url: row.get("url"),
            headers: serde_json::from_str(row.get("headers")).unwrap_or_default(),
            secret_sealed: row.get("secret_sealed"),
        })
        .collect();
    for orphan in ids.iter().filter(|id| !due.iter().any(|d| &d.id == *id)) {
        finish(
            db,
            orphan,
            None,
            Next::Failed {
                error: "The stream's webhook was removed.".into(),
                disable_webhook: false,
            },
        )
        .await?;
    }
    Ok(due)
}

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Delivered,
    RetryAt {
        at: i64,
        error: String,
    },
    Failed {
        error: String,
        disable_webhook: bool,
    },
}

/// Records an attempt (when one was made) and the delivery's next state, in one transaction.
pub async fn finish(
    db: &Db,
    id: &str,
    attempt: Option<&Attempt>,
    next: Next,
) -> Result<(), sqlx::Error> {
    let (status, next_at, error) = match &next {
        Next::Delivered => (DeliveryStatus::Delivered, None, None),
        Next::RetryAt { at, error } => (DeliveryStatus::Pending, Some(*at), Some(error.as_str())),
        Next::Failed { error, .. } => (DeliveryStatus::Failed, None, Some(error.as_str())),
    };
    let mut writer = db.writer().await?;
    let mut tx = writer.begin().await?;
    if let Some(attempt) = attempt {
        sqlx::query(
            "insert into webhook_attempts (id, delivery_id, at, status_code, latency_ms, response,
                 error)
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new_id("att"))
        .bind(id)
        .bind(attempt.at)
        .bind(attempt.status_code.map(i64::from))
        .bind(attempt.latency_ms)
        .bind(
            attempt
                .response
                .as_deref()
                .map(|text| text.chars().take(RESPONSE_EXCERPT).collect::<String>()),
        )
        .bind(&attempt.error)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "update webhook_deliveries set status = $1, next_at = $2, lease_until = null,
             last_error = $3, attempts = attempts + $4, updated_at = $5
         where id = $6",
    )
    .bind(status.as_str())
    .bind(next_at)
    .bind(error)
    .bind(i64::from(attempt.is_some()))
    .bind(now_ms())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if let Next::Failed {
        disable_webhook: true,
        ..
    } = next
    {
        sqlx::query(
            "update webhooks set enabled = 0 where stream_id =
                 (select stream_id from webhook_deliveries where id = $1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    drop(writer);
    db.release("webhook_deliveries", [id]);
    Ok(())
}

/// The stream's latest deliveries, newest first, each with its attempts.
pub async fn recent(
    db: &Db,
    account_id: &str,
    stream_id: &str,
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
    account_id: &str,
    stream_id: &str,
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
    db.release("webhook_deliveries", [id]);
    Ok(())
}

/// Queues a `webhook.test` event (the tab's *Test webhook*); answers its id, or `None` when the
/// stream has no enabled webhook.
pub async fn enqueue_test(
    db: &Db,
    account_id: &str,
    stream_id: &str,
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
