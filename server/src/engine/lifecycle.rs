//! The lifecycle: workers claim due messages and move them on, a step at a time, queueing
//! `message.status` events for streams with a webhook.

use std::collections::HashSet;

use sqlx::{Any, AnyConnection, Row};

use app::{
    db::{Writer, now_ms, placeholders, positional},
    ids::{AccountId, MessageId, StreamId},
    messages::MessageStatus,
    phone::PhoneNumber,
};

use super::{Channel, Engine, Framing, Only, ROWS_PER_INSERT, rolled_back_on_error};

/// A message a worker holds.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: MessageId,
    pub account_id: AccountId,
    pub stream_id: StreamId,
    /// `None`: a channel this server does not have (stored by another version).
    pub channel: Option<Channel>,
    pub status: MessageStatus,
    pub sender: Option<String>,
    pub recipient: PhoneNumber,
    pub content: String,
    pub attempts: i64,
    pub expires_at: i64,
    pub connection_id: Option<String>,
    /// The channel's request body (WhatsApp), as JSON.
    pub payload: Option<String>,
}

/// Which SMPP messages a worker may claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmppScope {
    /// Every one: this process binds every SMPP connection (a SQLite database).
    All,
    /// Those of the connections whose session this instance holds (several instances).
    Only(Vec<String>),
}

/// Claims up to `limit` messages that are due (SMPP ones only within `smpp`), leasing them
/// for `lease_ms`; answers them and their lease's mark, for [`advance_leased`].
pub async fn claim(
    engine: &Engine,
    smpp: &SmppScope,
    limit: i64,
    lease_ms: i64,
) -> Result<(Vec<Claimed>, i64), sqlx::Error> {
    let only = match smpp {
        SmppScope::All => None,
        SmppScope::Only(held) if held.is_empty() => Some(Only {
            sql: "channel <> 'smpp'".into(),
            values: Vec::new(),
        }),
        SmppScope::Only(held) => Some(Only {
            sql: format!(
                "channel <> 'smpp' or connection_id in ({})",
                placeholders(4, held.len())
            ),
            values: held.iter().map(String::as_str).collect(),
        }),
    };
    let leased = engine
        .lease_due(
            "messages",
            "id, account_id, stream_id, channel, status, sender, recipient, content, attempts,
             expires_at, connection_id, payload",
            only.as_ref(),
            limit,
            lease_ms,
        )
        .await?;
    let claimed = leased
        .rows
        .iter()
        .map(|row| Claimed {
            id: row.get("id"),
            account_id: row.get("account_id"),
            stream_id: row.get("stream_id"),
            channel: Channel::parse(row.get("channel")),
            status: MessageStatus::parse(row.get("status")).unwrap_or(MessageStatus::Queued),
            sender: row.get("sender"),
            recipient: row.get("recipient"),
            content: row.get("content"),
            attempts: row.get("attempts"),
            expires_at: row.get("expires_at"),
            connection_id: row.get("connection_id"),
            payload: row.get("payload"),
        })
        .collect();
    Ok((claimed, leased.until))
}

/// What a worker decided for a claimed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: MessageStatus,
    /// When to act on it again (a delivery report due, a retry), or never.
    pub next_at: Option<i64>,
    /// A stable code and a message for people.
    pub error: Option<(&'static str, String)>,
    /// Whether this step was a delivery attempt.
    pub attempted: bool,
    /// The id the upstream gave the message, for its delivery reports.
    pub provider_id: Option<String>,
}

impl Outcome {
    /// A claimed message handed back unsent, due again `at`, for a later claim; not a step
    /// of its history.
    pub fn handed_back(at: i64) -> Self {
        Self {
            status: MessageStatus::Queued,
            next_at: Some(at),
            error: None,
            attempted: false,
            provider_id: None,
        }
    }

    /// An upstream's report: delivered, or undelivered with why.
    pub fn report(status: MessageStatus, error: Option<String>) -> Self {
        Self {
            status,
            next_at: None,
            error: error.map(|message| ("undelivered", message)),
            attempted: false,
            provider_id: None,
        }
    }
}

/// Moves a message to `outcome.status` and releases its lease. Answers false, changing
/// nothing, when the message already moved past it: statuses never go backwards.
pub async fn advance(engine: &Engine, id: &str, outcome: Outcome) -> Result<bool, sqlx::Error> {
    Ok(advance_all(engine, &[(id, outcome)]).await?.moved[0])
}

/// What a batch's step did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Advanced {
    /// For each step, whether its message moved.
    pub moved: Vec<bool>,
    /// Whether `message.status` events were queued for webhooks.
    pub events_queued: bool,
}

/// [`advance`] for a batch in one transaction: one commit, not one per message, and one
/// statement per distinct outcome (a batch mostly shares a few), not one per message.
pub async fn advance_all(
    engine: &Engine,
    steps: &[(&str, Outcome)],
) -> Result<Advanced, sqlx::Error> {
    advance_steps(engine, steps, None).await
}

/// [`advance_all`] for messages a worker claimed under the lease marked `lease_until`: only
/// those no other claim took since move, so a worker that comes back late (its lease ran
/// out and another worker claimed the message) changes nothing and frees nothing.
pub async fn advance_leased(
    engine: &Engine,
    steps: &[(&str, Outcome)],
    lease_until: i64,
) -> Result<Advanced, sqlx::Error> {
    advance_steps(engine, steps, Some(lease_until)).await
}

async fn advance_steps(
    engine: &Engine,
    steps: &[(&str, Outcome)],
    lease: Option<i64>,
) -> Result<Advanced, sqlx::Error> {
    if steps.is_empty() {
        return Ok(Advanced::default());
    }
    let now = now_ms();
    let mut writer = engine.db().writer().await?;
    // SQLite's leases are in memory: checked here, under the writer no claim can pass.
    let held: Option<HashSet<&str>> = match (&writer, lease) {
        (Writer::Sqlite(_), Some(until)) => {
            let ids: Vec<&str> = steps.iter().map(|(id, _)| *id).collect();
            Some(
                engine
                    .still_held("messages", &ids, until)
                    .into_iter()
                    .collect(),
            )
        }
        _ => None,
    };
    let mut groups: Vec<(&Outcome, Vec<&str>)> = Vec::new();
    for (id, outcome) in steps {
        if held.as_ref().is_some_and(|held| !held.contains(id)) {
            continue;
        }
        match groups.iter_mut().find(|(o, _)| *o == outcome) {
            Some((_, ids)) => ids.push(id),
            None => groups.push((outcome, vec![id])),
        }
    }
    // Postgres checks the lease in each statement.
    let fence = if held.is_some() { None } else { lease };
    let moved = if groups.is_empty() {
        Moved::default()
    } else if let Writer::Sqlite(conn) = &mut writer {
        // `begin immediate` goes to SQLite's thread with the first statement: each hand-off
        // holds the one writer until this task is scheduled again.
        let moved = match advance_groups(conn, &groups, now, fence, Framing::Own).await {
            Ok(moved) => sqlx::query("commit")
                .execute(&mut **conn)
                .await
                .map(|_| moved),
            Err(error) => Err(error),
        };
        rolled_back_on_error(conn, moved).await?
    } else {
        let mut tx = writer.begin().await?;
        let moved = advance_groups(&mut tx, &groups, now, fence, Framing::Inside).await?;
        tx.commit().await?;
        moved
    };
    drop(writer);
    engine.release("messages", moved.ids.iter().map(String::as_str));
    engine.db().changes().traffic(&moved.streams);
    Ok(Advanced {
        moved: steps
            .iter()
            .map(|(id, _)| moved.ids.contains(*id))
            .collect(),
        events_queued: moved.events_queued,
    })
}

/// What moved in one transaction.
#[derive(Debug, Default)]
struct Moved {
    ids: HashSet<String>,
    /// Their streams.
    streams: HashSet<StreamId>,
    /// Whether `message.status` events were queued.
    events_queued: bool,
}

/// Moves each group's messages (those still under the lease `fence`, when one is given), the
/// first statement opening the transaction when `framing` says it is this call's own.
async fn advance_groups(
    conn: &mut AnyConnection,
    groups: &[(&Outcome, Vec<&str>)],
    now: i64,
    fence: Option<i64>,
    framing: Framing,
) -> Result<Moved, sqlx::Error> {
    let mut moved = Moved::default();
    let mut begin = framing == Framing::Own;
    for (outcome, ids) in groups {
        for chunk in ids.chunks(ROWS_PER_INSERT) {
            let begin = std::mem::take(&mut begin);
            let step = advance_group(conn, chunk, outcome, now, fence, begin);
            step.await?.add_to(&mut moved);
        }
    }
    Ok(moved)
}

/// What one statement of [`advance_group`] moved.
struct GroupMoved {
    ids: Vec<String>,
    streams: Vec<String>,
    events_queued: bool,
}

impl GroupMoved {
    fn add_to(self, moved: &mut Moved) {
        moved.ids.extend(self.ids);
        moved
            .streams
            .extend(self.streams.into_iter().map(StreamId::from));
        moved.events_queued |= self.events_queued;
    }
}

/// Moves the messages `ids` that may take `outcome`, recording the step in their history and
/// queueing `message.status` events for streams with a webhook; answers those that moved, their
/// streams, and whether events were queued.
/// One call to the database on either backend (`begin`: SQLite's `begin immediate` first),
/// and one more to read the messages whose streams have a webhook, when there are any.
async fn advance_group(
    conn: &mut AnyConnection,
    ids: &[&str],
    outcome: &Outcome,
    now: i64,
    fence: Option<i64>,
    begin: bool,
) -> Result<GroupMoved, sqlx::Error> {
    let from = if outcome.status == MessageStatus::Queued {
        // A retry keeps the message queued.
        vec![MessageStatus::Queued]
    } else {
        outcome.status.predecessors()
    };
    let movable = |first: usize| {
        format!(
            "status in ({}) and id in ({})",
            placeholders(first, from.len()),
            placeholders(first + from.len(), ids.len())
        )
    };
    // A status a webhook hears of: each moved message says whether its stream has one.
    let events = outcome.status.rank() > 0;
    let set = |first: usize| {
        format!(
            "set status = ${}, next_at = ${}, lease_until = null, error_code = ${},
                 error_message = ${}, attempts = attempts + ${}, updated_at = ${},
                 provider_id = coalesce(${}, provider_id)",
            first,
            first + 1,
            first + 2,
            first + 3,
            first + 4,
            first + 5,
            first + 6,
        )
    };
    // A message waiting for its slot under the throughput limit has no new step to record.
    let record = outcome.status != MessageStatus::Queued || outcome.error.is_some();
    let detail = outcome.error.as_ref().map(|e| e.1.as_str());
    let sqlite = conn.backend_name() == "SQLite";
    let hooked = if events {
        "exists (select 1 from webhooks w
             where w.stream_id = messages.stream_id and w.enabled = 1)"
    } else {
        "1 = 0"
    };
    let sql = if sqlite {
        // Under the write lock, the rows that will move, read first as one row (not one row
        // per message, which sqlx hands over in rounds of 50), then their history and update.
        let mut sql = String::new();
        if begin {
            sql.push_str("begin immediate; ");
        }
        sql.push_str(&format!(
            "select group_concat(id) as moved, group_concat(distinct stream_id) as streams,
                 group_concat(case when {hooked} then id end) as hooked
             from messages where {};",
            movable(1)
        ));
        let mut next = 1 + from.len() + ids.len();
        if record {
            sql.push_str(&format!(
                " insert into message_history (message_id, status, at, detail)
                 select id, ${next}, ${}, ${} from messages where {};",
                next + 1,
                next + 2,
                movable(next + 3)
            ));
            next += 3 + from.len() + ids.len();
        }
        sql.push_str(&format!(
            " update messages {} where {}",
            set(next),
            movable(next + 7)
        ));
        sql
    } else {
        let fenced = match fence {
            Some(_) => format!(" and lease_until = ${}", 8 + from.len() + ids.len()),
            None => String::new(),
        };
        let update = format!(
            "update messages {} where {}{fenced}
             returning id, stream_id, case when {hooked} then 1 else 0 end as hooked",
            set(1),
            movable(8)
        );
        if record {
            format!(
                "with moved as ({update}),
                 recorded as (insert into message_history (message_id, status, at, detail)
                              select id, $1, $6, $4 from moved)
                 select * from moved"
            )
        } else {
            update
        }
    };
    let sql = positional(conn, &sql);
    let mut query = sqlx::query(&sql);
    if sqlite {
        query = bind_movable(query, &from, ids);
        if record {
            query = query.bind(outcome.status.as_str()).bind(now).bind(detail);
            query = bind_movable(query, &from, ids);
        }
    }
    query = query
        .bind(outcome.status.as_str())
        .bind(outcome.next_at)
        .bind(outcome.error.as_ref().map(|e| e.0))
        .bind(detail)
        .bind(i64::from(outcome.attempted))
        .bind(now)
        .bind(outcome.provider_id.as_deref());
    query = bind_movable(query, &from, ids);
    if !sqlite && let Some(until) = fence {
        query = query.bind(until);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    let (moved, streams, hooked): (Vec<String>, Vec<String>, Vec<String>) = if sqlite {
        let list = |column: &str| -> Vec<String> {
            rows.first()
                .and_then(|row| row.get::<Option<String>, _>(column))
                .map(|ids| ids.split(',').map(str::to_string).collect())
                .unwrap_or_default()
        };
        (list("moved"), list("streams"), list("hooked"))
    } else {
        let ids = |hooked: bool| {
            rows.iter()
                .filter(|row| !hooked || row.get::<i32, _>("hooked") != 0)
                .map(|row| row.get::<String, _>("id"))
                .collect()
        };
        let streams = rows.iter().map(|row| row.get("stream_id")).collect();
        (ids(false), streams, ids(true))
    };
    let events_queued = events && !hooked.is_empty();
    if events_queued {
        status_events(conn, &hooked, outcome, now).await?;
    }
    Ok(GroupMoved {
        ids: moved,
        streams,
        events_queued,
    })
}

type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

/// Binds a [`advance_group`] condition's statuses and ids.
fn bind_movable<'q>(
    mut query: AnyQuery<'q>,
    from: &[MessageStatus],
    ids: &[&'q str],
) -> AnyQuery<'q> {
    for status in from {
        query = query.bind(status.as_str());
    }
    for id in ids {
        query = query.bind(*id);
    }
    query
}

/// Queues the `message.status` events of messages that moved (`ids`), for their streams'
/// webhooks.
async fn status_events(
    conn: &mut AnyConnection,
    ids: &[String],
    outcome: &Outcome,
    now: i64,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "select id, account_id, stream_id, internal_id, recipient, callback_data from messages
         where id in ({})",
        placeholders(1, ids.len())
    );
    let sql = positional(conn, &sql);
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(id);
    }
    for moved in query.fetch_all(&mut *conn).await? {
        let account_id: AccountId = moved.get("account_id");
        let stream_id: StreamId = moved.get("stream_id");
        let event = serde_json::json!({
            "type": "message.status",
            "message_uuid": moved.get::<String, _>("id"),
            "internal_id": moved.get::<Option<String>, _>("internal_id"),
            "recipient_phone": moved.get::<String, _>("recipient"),
            "status": outcome.status.as_str(),
            "error": outcome.error.as_ref().map(|(code, message)| serde_json::json!({ "code": code, "message": message })),
            "at": app::time::rfc3339(now),
            "callback_data": moved.get::<Option<String>, _>("callback_data"),
        });
        app::webhooks::store::enqueue(conn, &account_id, &stream_id, "message.status", &event, now)
            .await?;
    }
    Ok(())
}
