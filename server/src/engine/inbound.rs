//! Inbound messages: replies stored once (long ones reassembled), opt-out keywords and the
//! look-ups that depend on what recipients wrote.

use sqlx::{Any, Transaction};

use app::{
    db::{Db, now_ms},
    ids::{AccountId, StreamId},
    messages::MessageStatus,
};

use super::{Channel, new_message_id, record_all};

/// A message that arrived from a recipient.
#[derive(Debug, Clone)]
pub struct Inbound<'a> {
    pub account_id: &'a AccountId,
    pub stream_id: &'a StreamId,
    pub channel: Channel,
    /// The recipient's number, who wrote.
    /// As the network gave it: a short code or a name may write too.
    pub from: &'a str,
    /// The stream's sender it was written to.
    pub to: Option<&'a str>,
    pub content: &'a str,
    /// The upstream's id of the message, when it has one.
    pub provider_id: Option<&'a str>,
}

/// Stores an inbound message; answers its uuid. A message the upstream already delivered
/// (the same `provider_id`) is stored once: the repeat answers the first one's uuid.
pub async fn receive(db: &Db, inbound: Inbound<'_>) -> Result<String, sqlx::Error> {
    let mut writer = db.writer().await?;
    let mut tx = writer.begin().await?;
    let id = receive_in(&mut tx, &inbound).await?;
    tx.commit().await?;
    db.changes().traffic([inbound.stream_id]);
    Ok(id)
}

/// One part of a long inbound message, as its upstream numbers them.
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    pub reference: &'a str,
    pub total: i64,
    /// From 1.
    pub number: i64,
}

/// Stores one part of a long inbound message; once every part is in, the whole message is
/// stored (once, whatever repeats) and its uuid answered.
pub async fn receive_part(
    db: &Db,
    inbound: Inbound<'_>,
    part: Part<'_>,
) -> Result<Option<String>, sqlx::Error> {
    let mut writer = db.writer().await?;
    let mut tx = writer.begin().await?;
    sqlx::query(
        "insert into inbound_parts (stream_id, sender, reference, total, seq, content, created_at)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (stream_id, sender, reference, seq) do nothing",
    )
    .bind(inbound.stream_id)
    .bind(inbound.from)
    .bind(part.reference)
    .bind(part.total)
    .bind(part.number)
    .bind(inbound.content)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    let parts: Vec<String> = sqlx::query_scalar(
        "select content from inbound_parts
         where stream_id = $1 and sender = $2 and reference = $3 order by seq",
    )
    .bind(inbound.stream_id)
    .bind(inbound.from)
    .bind(part.reference)
    .fetch_all(&mut *tx)
    .await?;
    if i64::try_from(parts.len()).unwrap_or(i64::MAX) < part.total {
        tx.commit().await?;
        return Ok(None);
    }
    sqlx::query(
        "delete from inbound_parts where stream_id = $1 and sender = $2 and reference = $3",
    )
    .bind(inbound.stream_id)
    .bind(inbound.from)
    .bind(part.reference)
    .execute(&mut *tx)
    .await?;
    let whole = parts.concat();
    let id = receive_in(
        &mut tx,
        &Inbound {
            content: &whole,
            ..inbound
        },
    )
    .await?;
    tx.commit().await?;
    db.changes().traffic([inbound.stream_id]);
    Ok(Some(id))
}

async fn receive_in(
    tx: &mut Transaction<'_, Any>,
    inbound: &Inbound<'_>,
) -> Result<String, sqlx::Error> {
    if let Some(provider_id) = inbound.provider_id {
        let seen: Option<String> = sqlx::query_scalar(
            "select id from messages
             where stream_id = $1 and direction = 'inbound' and provider_id = $2",
        )
        .bind(inbound.stream_id)
        .bind(provider_id)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(id) = seen {
            return Ok(id);
        }
    }
    let now = now_ms();
    let id = new_message_id();
    let size = app::messages::measure(inbound.content);
    sqlx::query(
        "insert into messages (id, account_id, stream_id, direction, channel, sender, recipient,
             content, encoding, segments, status, attempts, expires_at, created_at, updated_at,
             provider_id)
         values ($1, $2, $3, 'inbound', $4, $5, $6, $7, $8, $9, 'received', 0, $10, $10, $10, $11)",
    )
    .bind(&id)
    .bind(inbound.account_id)
    .bind(inbound.stream_id)
    .bind(inbound.channel.as_str())
    .bind(inbound.from)
    .bind(inbound.to.unwrap_or_default())
    .bind(inbound.content)
    .bind(size.encoding.as_str())
    .bind(size.segments as i64)
    .bind(now)
    .bind(inbound.provider_id)
    .execute(&mut **tx)
    .await?;
    record_all(tx, &[&id], MessageStatus::Received, now, None).await?;
    match opt_keyword(inbound.content) {
        Some(true) => {
            sqlx::query(
                "insert into opt_outs (stream_id, phone, created_at) values ($1, $2, $3)
                 on conflict (stream_id, phone) do nothing",
            )
            .bind(inbound.stream_id)
            .bind(inbound.from)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        Some(false) => {
            sqlx::query("delete from opt_outs where stream_id = $1 and phone = $2")
                .bind(inbound.stream_id)
                .bind(inbound.from)
                .execute(&mut **tx)
                .await?;
        }
        None => {}
    }
    // The customer's webhook hears of it once the message is stored, not before.
    let kind: Option<String> = sqlx::query_scalar("select kind from streams where id = $1")
        .bind(inbound.stream_id)
        .fetch_optional(&mut **tx)
        .await?;
    let medium = match kind.as_deref() {
        Some("whatsapp") => "whatsapp",
        _ => "sms",
    };
    let event = serde_json::json!({
        "type": "message.received",
        "message_uuid": id,
        "channel": medium,
        "sender_phone": inbound.from,
        "recipient": inbound.to.unwrap_or_default(),
        "message_content": inbound.content,
        "received_at": app::time::rfc3339(now),
    });
    app::webhooks::store::enqueue(
        tx,
        inbound.account_id,
        inbound.stream_id,
        "message.received",
        &event,
        now,
    )
    .await?;
    Ok(id)
}

/// The upstream's id of one of the stream's messages, such as the inbound message a WhatsApp
/// reply answers.
pub async fn provider_id_of(
    db: &Db,
    stream_id: &str,
    message_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    Ok(
        sqlx::query_scalar("select provider_id from messages where stream_id = $1 and id = $2")
            .bind(stream_id)
            .bind(message_id)
            .fetch_optional(db.pool())
            .await?
            .flatten(),
    )
}

/// Whether a reply is an opt-out keyword (`Some(true)`), an opt-in one (`Some(false)`) or
/// neither: the whole message, in any case, as carriers read them.
pub fn opt_keyword(content: &str) -> Option<bool> {
    let word = content
        .trim()
        .trim_end_matches(['.', '!'])
        .to_ascii_uppercase();
    match word.as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" => Some(true),
        "START" | "UNSTOP" => Some(false),
        _ => None,
    }
}

/// Whether `phone` opted out of the stream.
pub async fn opted_out(db: &Db, stream_id: &str, phone: &str) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("select 1 from opt_outs where stream_id = $1 and phone = $2")
            .bind(stream_id)
            .bind(phone)
            .fetch_optional(db.pool())
            .await?;
    Ok(found.is_some())
}

/// Whether `phone` wrote to the stream since `since` (WhatsApp's customer-service window).
pub async fn wrote_since(
    db: &Db,
    stream_id: &str,
    phone: &str,
    since: i64,
) -> Result<bool, sqlx::Error> {
    let count: i64 = sqlx::query_scalar(
        "select count(*) from messages
         where stream_id = $1 and direction = 'inbound' and sender = $2 and created_at >= $3",
    )
    .bind(stream_id)
    .bind(phone)
    .bind(since)
    .fetch_one(db.pool())
    .await?;
    Ok(count > 0)
}

/// The sender of an inbound message of the stream, if `id` is one.
pub async fn inbound_sender(
    db: &Db,
    stream_id: &str,
    id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select sender from messages where stream_id = $1 and id = $2 and direction = 'inbound'",
    )
    .bind(stream_id)
    .bind(id)
    .fetch_optional(db.pool())
    .await
}
