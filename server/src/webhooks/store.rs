//! The webhook sender's statements: claiming due deliveries under a lease, and finishing each
//! with its attempt logged, in one transaction.

use app::{
    db::{Writer, new_id, now_ms, placeholders},
    ids::StreamId,
    streams::settings::{WebhookHeader, WebhookMethod},
    webhooks::{Attempt, DeliveryStatus, RESPONSE_EXCERPT},
};
use sqlx::Row;

use crate::engine::Engine;

/// A delivery the sender holds, with where and how to send it.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: String,
    pub stream_id: StreamId,
    pub body: String,
    /// Attempts made before this one.
    pub attempts: i64,
    pub method: WebhookMethod,
    pub url: String,
    pub headers: Vec<WebhookHeader>,
    pub secret_sealed: String,
    /// The claim's lease mark: its attempt is recorded only while the delivery carries it.
    pub lease_until: i64,
}

/// Claims up to `limit` due deliveries for `lease_ms`. A delivery whose webhook was removed
/// fails here.
pub async fn claim(engine: &Engine, limit: i64, lease_ms: i64) -> Result<Vec<Due>, sqlx::Error> {
    let db = engine.db();
    let leased = engine
        .lease_due("webhook_deliveries", "id", None, limit, lease_ms)
        .await?;
    let lease_until = leased.until;
    let ids: Vec<String> = leased.rows.iter().map(|row| row.get("id")).collect();
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
            lease_until,
        })
        .collect();
    for orphan in ids.iter().filter(|id| !due.iter().any(|d| &d.id == *id)) {
        finish(
            engine,
            orphan,
            lease_until,
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

/// Records an attempt (when one was made) and the delivery's next state, in one transaction,
/// if the delivery still carries the claim's lease `lease_until` (no other claim took it
/// since: a sender that comes back late records nothing); answers whether it did.
pub async fn finish(
    engine: &Engine,
    id: &str,
    lease_until: i64,
    attempt: Option<&Attempt>,
    next: Next,
) -> Result<bool, sqlx::Error> {
    let (status, next_at, error) = match &next {
        Next::Delivered => (DeliveryStatus::Delivered, None, None),
        Next::RetryAt { at, error } => (DeliveryStatus::Pending, Some(*at), Some(error.as_str())),
        Next::Failed { error, .. } => (DeliveryStatus::Failed, None, Some(error.as_str())),
    };
    let mut writer = engine.db().writer().await?;
    let sqlite = matches!(writer, Writer::Sqlite(_));
    // SQLite's leases are in memory: checked under the writer, which no claim can pass.
    if sqlite
        && engine
            .still_held("webhook_deliveries", &[id], lease_until)
            .is_empty()
    {
        return Ok(false);
    }
    let mut tx = writer.begin().await?;
    let fence = if sqlite { "" } else { " and lease_until = $7" };
    let sql = format!(
        "update webhook_deliveries set status = $1, next_at = $2, lease_until = null,
             last_error = $3, attempts = attempts + $4, updated_at = $5
         where id = $6{fence}"
    );
    let mut update = sqlx::query(&sql)
        .bind(status.as_str())
        .bind(next_at)
        .bind(error)
        .bind(i64::from(attempt.is_some()))
        .bind(now_ms())
        .bind(id);
    if !sqlite {
        update = update.bind(lease_until);
    }
    if update.execute(&mut *tx).await?.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
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
    engine.release("webhook_deliveries", [id]);
    Ok(true)
}
