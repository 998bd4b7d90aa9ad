//! Tracking: a stream's messages by internal id or uuid, with their history, for `/status/`.

use sqlx::Row;

use app::{db::Db, messages::MessageStatus};

use super::outbox::{Receipt, receipt_from_row};

/// One step of a message's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub status: MessageStatus,
    pub at: i64,
    pub detail: Option<String>,
}

/// A message as `/status/` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    pub receipt: Receipt,
    pub recipient: String,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub callback_data: Option<String>,
    pub history: Vec<Step>,
}

/// The stream's messages with these internal ids or uuids, each with its history.
pub async fn track(
    db: &Db,
    stream_id: &str,
    internal_ids: &[String],
    message_uuids: &[String],
) -> Result<Vec<Tracked>, sqlx::Error> {
    let mut found = Vec::new();
    let lookups = internal_ids
        .iter()
        .map(|id| ("internal_id", id))
        .chain(message_uuids.iter().map(|id| ("id", id)));
    for (column, value) in lookups {
        let row = sqlx::query(&format!(
            "select id, internal_id, status, encoding, segments, recipient, error_code,
                 error_message, callback_data
             from messages where stream_id = $1 and {column} = $2"
        ))
        .bind(stream_id)
        .bind(value)
        .fetch_optional(db.pool())
        .await?;
        let Some(row) = row else { continue };
        let receipt = receipt_from_row(&row);
        // Steps in the same millisecond in the order statuses move: queued, sent, then final.
        let history = sqlx::query(
            "select status, at, detail from message_history where message_id = $1
             order by at, case status when 'queued' then 0 when 'sent' then 1 else 2 end",
        )
        .bind(&receipt.message_uuid)
        .fetch_all(db.pool())
        .await?
        .iter()
        .filter_map(|step| {
            Some(Step {
                status: MessageStatus::parse(step.get("status"))?,
                at: step.get("at"),
                detail: step.get("detail"),
            })
        })
        .collect();
        if found
            .iter()
            .any(|t: &Tracked| t.receipt.message_uuid == receipt.message_uuid)
        {
            continue;
        }
        found.push(Tracked {
            receipt,
            recipient: row.get("recipient"),
            error_code: row.get("error_code"),
            error_message: row.get("error_message"),
            callback_data: row.get("callback_data"),
            history,
        });
    }
    Ok(found)
}
