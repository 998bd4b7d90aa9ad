//! Upstreams' delivery reports: applied to the message they name, or held when they come
//! before its send was recorded (an upstream may report a message before the worker that sent
//! it has committed the id the upstream answered) and applied once it is.

use sqlx::{Row, any::AnyRow};

use app::{
    db::{Db, now_ms},
    messages::MessageStatus,
};

use super::{Channel, Engine, Outcome, advance};

/// A held report whose send is never recorded is dropped after this long.
pub const HOLD_MS: i64 = 3_600_000;

/// Where an upstream's message ids are unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// An HTTP provider's or WhatsApp's ids, per stream.
    Stream(&'a str),
    /// An SMSC's ids, per SMPP connection.
    Connection(&'a str),
}

impl Scope<'_> {
    fn id(&self) -> &str {
        match self {
            Self::Stream(id) | Self::Connection(id) => id,
        }
    }

    /// The outbound message the upstream knows by `provider_id`: its id, channel and the
    /// type of its stream.
    async fn message(&self, db: &Db, provider_id: &str) -> Result<Option<AnyRow>, sqlx::Error> {
        let scope = match self {
            Self::Stream(_) => "m.stream_id",
            Self::Connection(_) => "m.connection_id",
        };
        sqlx::query(&format!(
            "select m.id as message_id, m.channel, s.kind
             from messages m left join streams s on s.id = m.stream_id
             where {scope} = $1 and m.provider_id = $2 and m.direction = 'outbound'"
        ))
        .bind(self.id())
        .bind(provider_id)
        .fetch_optional(db.pool())
        .await
    }
}

/// What became of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reported {
    /// Its message was found; whether its status moved (statuses never move back).
    Applied { moved: bool },
    /// No message has the id yet: held until its send is recorded.
    Held,
}

/// Applies an upstream's final report (`outcome`) of the message it knows by `provider_id`,
/// or holds it when that message's send is not recorded yet.
pub async fn report(
    engine: &Engine,
    scope: Scope<'_>,
    provider_id: &str,
    outcome: Outcome,
) -> Result<Reported, sqlx::Error> {
    let db = engine.db();
    if let Some(message) = scope.message(db, provider_id).await? {
        let status = outcome.status;
        let message_id: String = message.get("message_id");
        let moved = advance(engine, &message_id, outcome).await?;
        if moved {
            count(engine, &message, status);
        }
        return Ok(Reported::Applied { moved });
    }
    // A provider repeating a report changes nothing.
    sqlx::query(
        "insert into early_reports (scope, provider_id, status, detail, received_at)
         values ($1, $2, $3, $4, $5)
         on conflict (scope, provider_id, status) do nothing",
    )
    .bind(scope.id())
    .bind(provider_id)
    .bind(outcome.status.as_str())
    .bind(outcome.error.map(|(_, detail)| detail))
    .bind(now_ms())
    .execute(&mut *db.writer().await?)
    .await?;
    // The send may have been recorded since the look-up: the next pass applies it.
    Ok(Reported::Held)
}

/// Applies held reports whose sends are now recorded and drops those older than [`HOLD_MS`];
/// answers how many were applied.
pub async fn apply_held(engine: &Engine, now: i64) -> Result<usize, sqlx::Error> {
    let db = engine.db();
    let held: i64 = sqlx::query_scalar("select count(*) from early_reports")
        .fetch_one(db.pool())
        .await?;
    if held == 0 {
        return Ok(0);
    }
    let rows = sqlx::query(
        "select e.scope, e.provider_id, e.status, e.detail, m.id as message_id, m.channel, s.kind
         from early_reports e join messages m on m.stream_id = e.scope
             and m.direction = 'outbound' and m.provider_id = e.provider_id
         left join streams s on s.id = m.stream_id
         union all
         select e.scope, e.provider_id, e.status, e.detail, m.id as message_id, m.channel, s.kind
         from early_reports e join messages m on m.connection_id = e.scope
             and m.provider_id = e.provider_id and m.direction = 'outbound'
         left join streams s on s.id = m.stream_id",
    )
    .fetch_all(db.pool())
    .await?;
    // A message's reports in the order they happen: sent before delivered.
    let mut held: Vec<(Option<MessageStatus>, &AnyRow)> = rows
        .iter()
        .map(|row| (MessageStatus::parse(row.get("status")), row))
        .collect();
    held.sort_by_key(|(status, _)| status.map(MessageStatus::rank));
    for (status, row) in held {
        let message_id: String = row.get("message_id");
        if let Some(status) = status {
            let report = Outcome::report(status, row.get("detail"));
            if advance(engine, &message_id, report).await? {
                count(engine, row, status);
            }
        }
        sqlx::query(
            "delete from early_reports where scope = $1 and provider_id = $2 and status = $3",
        )
        .bind(row.get::<String, _>("scope"))
        .bind(row.get::<String, _>("provider_id"))
        .bind(row.get::<String, _>("status"))
        .execute(&mut *db.writer().await?)
        .await?;
    }
    sqlx::query("delete from early_reports where received_at < $1")
        .bind(now - HOLD_MS)
        .execute(&mut *db.writer().await?)
        .await?;
    Ok(rows.len())
}

/// Counts a report's step in the instance's metrics, by the message's channel and the type
/// of its stream (`channel` and `kind` of `message`).
fn count(engine: &Engine, message: &AnyRow, status: MessageStatus) {
    let kind: Option<String> = message.get("kind");
    engine.metrics().step(
        status.as_str(),
        Channel::parse(message.get("channel")),
        kind.and_then(|kind| kind.parse().ok()),
    );
}
