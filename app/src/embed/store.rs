//! Embed keys in the database, and the one stream's snapshot a key opens.

use sqlx::{Row, any::AnyRow};

use super::{
    CHART_MINUTES, Closed, EmbedKey, EmbedKeyInput, HourCounts, Minute, RECENT_MESSAGES, Snapshot,
    WidgetMessage, mask_phone,
};
use crate::{
    crypto::{random_token, sha256_hex},
    db::{Db, now_ms, placeholders},
    ids::{AccountId, EmbedKeyId, StreamId},
    messages::MessageStatus,
    streams::{settings_store::owned, store::StreamError},
    time::DAY_MS,
};

/// What every key starts with, so one found in a log or a page is recognised.
pub const KEY_PREFIX: &str = "ek_";
/// Characters of the key the console shows to tell keys apart.
const HINT: usize = 10;
const MINUTE_MS: i64 = 60_000;

/// What an open key lets a widget see and do: one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub key_id: EmbedKeyId,
    pub account_id: AccountId,
    pub stream_id: StreamId,
    pub origins: Vec<String>,
    pub can_send: bool,
    pub shows_numbers: bool,
    /// When the key stops opening anything, if it expires.
    pub expires_at: Option<i64>,
}

/// Which key to revoke: by its id (the console) or by the key itself (the CLI).
#[derive(Debug, Clone, Copy)]
pub enum KeyRef<'a> {
    Id(&'a EmbedKeyId),
    Key(&'a str),
}

const COLUMNS: &str = "id, name, origins, can_send, shows_numbers, key_hint, expires_at, \
                       revoked_at, created_at, last_used_at";

fn key_from_row(row: &AnyRow) -> EmbedKey {
    EmbedKey {
        id: row.get("id"),
        name: row.get("name"),
        origins: split_origins(row.get("origins")),
        can_send: row.get::<i64, _>("can_send") != 0,
        shows_numbers: row.get::<i64, _>("shows_numbers") != 0,
        hint: row.get("key_hint"),
        expires_at: row.get("expires_at"),
        revoked_at: row.get("revoked_at"),
        created_at: row.get("created_at"),
        last_used_at: row.get("last_used_at"),
    }
}

fn split_origins(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

/// Makes a key for the account's stream; answers it and the key itself, which is not kept.
pub async fn create(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
    input: EmbedKeyInput,
) -> Result<(EmbedKey, String), StreamError> {
    owned(db, account_id, stream_id, None).await?;
    let input = input.validate()?;
    let id = EmbedKeyId::generate();
    let key = format!("{KEY_PREFIX}{}", random_token());
    let now = now_ms();
    let expires_at = input
        .expires_in_days
        .map(|days| now + i64::from(days) * DAY_MS);
    sqlx::query(
        "insert into embed_keys (id, account_id, stream_id, name, origins, can_send,
             shows_numbers, key_hash, key_hint, expires_at, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(account_id)
    .bind(stream_id)
    .bind(&input.name)
    .bind(input.origins.join(" "))
    .bind(i64::from(input.can_send))
    .bind(i64::from(input.shows_numbers))
    .bind(sha256_hex(&key))
    .bind(&key[..HINT])
    .bind(expires_at)
    .bind(now)
    .execute(&mut *db.writer().await?)
    .await?;
    let created = EmbedKey {
        id,
        name: input.name,
        origins: input.origins,
        can_send: input.can_send,
        shows_numbers: input.shows_numbers,
        hint: key[..HINT].to_string(),
        expires_at,
        revoked_at: None,
        created_at: now,
        last_used_at: None,
    };
    Ok((created, key))
}

/// The stream's keys, newest first, revoked ones included.
pub async fn list(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
) -> Result<Vec<EmbedKey>, StreamError> {
    owned(db, account_id, stream_id, None).await?;
    let rows = sqlx::query(&format!(
        "select {COLUMNS} from embed_keys where account_id = $1 and stream_id = $2
         order by created_at desc, id desc"
    ))
    .bind(account_id)
    .bind(stream_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.iter().map(key_from_row).collect())
}

/// Revokes one of the account's keys at once: pages that load it, and its live feeds on every
/// instance, close. Revoking twice keeps the first time; answers that time.
pub async fn revoke(db: &Db, account_id: &AccountId, key: KeyRef<'_>) -> Result<i64, StreamError> {
    let (column, value) = match key {
        KeyRef::Id(id) => ("id", id.to_string()),
        KeyRef::Key(key) => ("key_hash", sha256_hex(key.trim())),
    };
    let revoked_at: Option<i64> = sqlx::query_scalar(&format!(
        "update embed_keys set revoked_at = coalesce(revoked_at, $1)
         where account_id = $2 and {column} = $3
         returning revoked_at"
    ))
    .bind(now_ms())
    .bind(account_id)
    .bind(value)
    .fetch_optional(&mut *db.writer().await?)
    .await?;
    let revoked_at = revoked_at.ok_or(StreamError::NotFound)?;
    db.changes().config(account_id).await;
    Ok(revoked_at)
}

/// The origins that may frame `key`'s widgets, whatever became of the key (a revoked key's
/// widget says so where it was shown); none for a key that does not exist.
pub async fn framing_origins(db: &Db, key: &str) -> Result<Option<Vec<String>>, sqlx::Error> {
    if !key.starts_with(KEY_PREFIX) {
        return Ok(None);
    }
    let origins: Option<String> =
        sqlx::query_scalar("select origins from embed_keys where key_hash = $1")
            .bind(sha256_hex(key))
            .fetch_optional(db.pool())
            .await?;
    Ok(origins.as_deref().map(split_origins))
}

/// What `key` opens now, or why it opens nothing. Notes when it was last used, at most once a
/// minute.
pub async fn open(db: &Db, key: &str) -> Result<Result<Access, Closed>, sqlx::Error> {
    if !key.starts_with(KEY_PREFIX) {
        return Ok(Err(Closed::NotFound));
    }
    let row = sqlx::query(
        "select k.id, k.account_id, k.stream_id, k.origins, k.can_send, k.shows_numbers,
             k.expires_at, k.revoked_at, k.last_used_at
         from embed_keys k join streams s on s.id = k.stream_id and s.account_id = k.account_id
         where k.key_hash = $1",
    )
    .bind(sha256_hex(key))
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(Err(Closed::NotFound));
    };
    let now = now_ms();
    if row.get::<Option<i64>, _>("revoked_at").is_some() {
        return Ok(Err(Closed::Revoked));
    }
    if row
        .get::<Option<i64>, _>("expires_at")
        .is_some_and(|at| at <= now)
    {
        return Ok(Err(Closed::Expired));
    }
    let access = Access {
        key_id: row.get("id"),
        account_id: row.get("account_id"),
        stream_id: row.get("stream_id"),
        origins: split_origins(row.get("origins")),
        can_send: row.get::<i64, _>("can_send") != 0,
        shows_numbers: row.get::<i64, _>("shows_numbers") != 0,
        expires_at: row.get("expires_at"),
    };
    let last_used: Option<i64> = row.get("last_used_at");
    if last_used.is_none_or(|at| at < now - MINUTE_MS) {
        sqlx::query("update embed_keys set last_used_at = $1 where id = $2")
            .bind(now)
            .bind(&access.key_id)
            .execute(&mut *db.writer().await?)
            .await?;
    }
    Ok(Ok(access))
}

/// The key's stream as its widgets show it: the last hour's counts and chart, and the recent
/// messages with their steps. Outcomes and messages in flight are those of messages accepted
/// in the last day (an index range, however old the stream). Reads nothing of any other
/// stream.
pub async fn snapshot(db: &Db, access: &Access) -> Result<Snapshot, sqlx::Error> {
    let now = now_ms();
    let this_minute = now - now.rem_euclid(MINUTE_MS);
    let first = this_minute - (CHART_MINUTES as i64 - 1) * MINUTE_MS;
    let (stream_name, default_sender): (String, Option<String>) = sqlx::query_as(
        "select s.name, d.value from streams s
         left join sender_ids d on d.id = s.default_sender_id
         where s.id = $1 and s.account_id = $2",
    )
    .bind(&access.stream_id)
    .bind(&access.account_id)
    .fetch_one(db.pool())
    .await?;
    // Sent by when each message was accepted; outcomes by when they were reached.
    let rows = sqlx::query(
        "select (created_at - $2) / $3 as minute, cast(0 as bigint) as outcome, count(*) as n
         from messages
         where stream_id = $1 and direction = 'outbound' and created_at >= $2
         group by (created_at - $2) / $3
         union all
         select (updated_at - $2) / $3,
             cast(case when status = 'delivered' then 1 else 2 end as bigint), count(*)
         from messages
         where stream_id = $1 and direction = 'outbound' and created_at >= $4
             and updated_at >= $2
             and status in ('delivered', 'undelivered', 'sent_failed', 'rejected', 'no_routes',
                 'expired')
         group by (updated_at - $2) / $3, case when status = 'delivered' then 1 else 2 end",
    )
    .bind(&access.stream_id)
    .bind(first)
    .bind(MINUTE_MS)
    .bind(first - DAY_MS)
    .fetch_all(db.pool())
    .await?;
    let mut chart: Vec<Minute> = (0..CHART_MINUTES as i64)
        .map(|n| Minute {
            at: first + n * MINUTE_MS,
            ..Minute::default()
        })
        .collect();
    for row in &rows {
        let (minute, outcome, n): (i64, i64, i64) =
            (row.get("minute"), row.get("outcome"), row.get("n"));
        let Some(slot) = usize::try_from(minute).ok().and_then(|m| chart.get_mut(m)) else {
            continue;
        };
        match outcome {
            0 => slot.sent += n,
            1 => slot.delivered += n,
            _ => slot.failed += n,
        }
    }
    let in_flight: i64 = sqlx::query_scalar(
        "select count(*) from messages
         where stream_id = $1 and direction = 'outbound' and created_at >= $2
             and status in ('queued', 'sent')",
    )
    .bind(&access.stream_id)
    .bind(first - DAY_MS)
    .fetch_one(db.pool())
    .await?;
    let hour = HourCounts {
        sent: chart.iter().map(|m| m.sent).sum(),
        delivered: chart.iter().map(|m| m.delivered).sum(),
        failed: chart.iter().map(|m| m.failed).sum(),
        in_flight,
    };
    let messages = recent(db, access).await?;
    Ok(Snapshot {
        stream_name,
        default_sender,
        at: now,
        hour,
        chart,
        messages,
        can_send: access.can_send,
    })
}

/// The stream's newest messages, each with its steps.
async fn recent(db: &Db, access: &Access) -> Result<Vec<WidgetMessage>, sqlx::Error> {
    let rows = sqlx::query(
        "select id, direction, sender, recipient, status, created_at from messages
         where stream_id = $1 order by created_at desc, id desc limit $2",
    )
    .bind(&access.stream_id)
    .bind(RECENT_MESSAGES as i64)
    .fetch_all(db.pool())
    .await?;
    let mut messages: Vec<WidgetMessage> = rows
        .iter()
        .map(|row| {
            let direction: String = row.get("direction");
            let phone: String = if direction == "inbound" {
                row.get::<Option<String>, _>("sender").unwrap_or_default()
            } else {
                row.get("recipient")
            };
            WidgetMessage {
                id: row.get("id"),
                phone: if access.shows_numbers {
                    phone
                } else {
                    mask_phone(&phone)
                },
                direction,
                status: MessageStatus::parse(row.get("status")).unwrap_or(MessageStatus::Queued),
                created_at: row.get("created_at"),
                history: Vec::new(),
            }
        })
        .collect();
    if messages.is_empty() {
        return Ok(messages);
    }
    let sql = format!(
        "select message_id, status, at from message_history where message_id in ({})
         order by at, case status when 'queued' then 0 when 'sent' then 1 else 2 end",
        placeholders(1, messages.len())
    );
    let mut query = sqlx::query(&sql);
    for message in &messages {
        query = query.bind(&message.id);
    }
    for step in query.fetch_all(db.pool()).await? {
        let id: String = step.get("message_id");
        let Some(status) = MessageStatus::parse(step.get("status")) else {
            continue;
        };
        if let Some(message) = messages.iter_mut().find(|m| m.id == id) {
            message.history.push((status, step.get("at")));
        }
    }
    Ok(messages)
}
