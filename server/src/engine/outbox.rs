//! Accepting: requests queue messages into the outbox, committed together (group commit).

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use sqlx::{Any, AnyConnection, Row, Transaction, any::AnyRow};
use tokio::sync::oneshot;

use app::{
    db::{Db, Writer, now_ms, placeholders, positional},
    ids::{AccountId, MessageId, StreamId},
    messages::{MessageStatus, TextSize},
    phone::PhoneNumber,
    streams::StreamKind,
};

use super::{
    Channel, Engine, Framing, ROWS_PER_INSERT,
    accept::{CallbackData, InternalId, Rejection},
    new_message_ids, record_all, rolled_back_on_error,
};
use crate::lock;

/// A message the API validated, ready to queue.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub internal_id: Option<InternalId>,
    pub sender: Option<String>,
    pub recipient: PhoneNumber,
    pub content: String,
    pub size: TextSize,
    /// The channel's request body when the message is more than text (WhatsApp), as JSON.
    pub payload: Option<String>,
    pub callback_data: Option<CallbackData>,
}

/// What the API answers for one queued message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub message_uuid: MessageId,
    pub internal_id: Option<InternalId>,
    pub status: MessageStatus,
    pub encoding: String,
    pub segments: i64,
}

/// The outcome of queueing one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Queued {
    /// Stored now.
    New(Receipt),
    /// Its `internal_id` was seen before with the same recipient and text: nothing is sent again.
    Replay(Receipt),
    /// Its `internal_id` was used before for a different message.
    Conflict,
    /// Its recipient replied STOP to the stream: nothing is queued.
    OptedOut,
}

impl Queued {
    /// The receipt to answer for a message to `recipient`, or why it was not queued.
    pub fn receipt(self, recipient: &PhoneNumber) -> Result<Receipt, Rejection> {
        match self {
            Self::New(receipt) | Self::Replay(receipt) => Ok(receipt),
            Self::Conflict => Err(Rejection::IdempotencyConflict),
            Self::OptedOut => Err(Rejection::OptedOut(recipient.clone())),
        }
    }
}

/// Where and for how long accepted messages go.
#[derive(Debug, Clone, Copy)]
pub struct Route<'a> {
    pub account_id: &'a AccountId,
    pub stream_id: &'a StreamId,
    pub channel: Channel,
    /// The stream's type.
    pub kind: StreamKind,
    /// The upstream connection of an `http` message.
    pub connection_id: Option<&'a str>,
    pub validity_ms: i64,
}

/// A queueing request waiting for a group commit.
struct Job {
    account_id: AccountId,
    stream_id: StreamId,
    channel: Channel,
    kind: StreamKind,
    connection_id: Option<String>,
    validity_ms: i64,
    messages: Vec<NewMessage>,
    done: oneshot::Sender<Result<Vec<Queued>, AcceptError>>,
}

impl Job {
    fn route(&self) -> Route<'_> {
        Route {
            account_id: &self.account_id,
            stream_id: &self.stream_id,
            channel: self.channel,
            kind: self.kind,
            connection_id: self.connection_id.as_deref(),
            validity_ms: self.validity_ms,
        }
    }
}

/// Why messages could not be queued; shared by every request of a failed group commit.
pub type AcceptError = Arc<sqlx::Error>;

/// Requests that accept messages concurrently share transactions (group commit): each adds
/// its messages to the pending ones and waits for its answer; one committer task at a time
/// takes everything pending, commits it in one transaction, answers each request, and goes on
/// while more is pending.
#[derive(Debug, Default)]
pub struct Outbox {
    pending: Mutex<Pending>,
    /// When each stream's Last Activity was last written, to write it at most once a second.
    touched: Mutex<HashMap<String, i64>>,
}

#[derive(Debug, Default)]
struct Pending {
    jobs: Vec<Job>,
    /// Whether a committer task runs: it takes these jobs before it stops.
    committing: bool,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("stream_id", &self.stream_id)
            .field("messages", &self.messages.len())
            .finish()
    }
}

/// Queues `messages`: when this answers, every one of them is durable.
pub async fn accept(
    engine: &Engine,
    route: Route<'_>,
    messages: Vec<NewMessage>,
) -> Result<Vec<Queued>, AcceptError> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let (done, answer) = oneshot::channel();
    let job = Job {
        account_id: route.account_id.clone(),
        stream_id: route.stream_id.clone(),
        channel: route.channel,
        kind: route.kind,
        connection_id: route.connection_id.map(str::to_string),
        validity_ms: route.validity_ms,
        messages,
        done,
    };
    let start = {
        let mut pending = lock(&engine.0.outbox.pending);
        pending.jobs.push(job);
        !std::mem::replace(&mut pending.committing, true)
    };
    if start {
        // A task of its own: a request that goes away cannot take the others' messages with it.
        tokio::spawn(commit_pending(engine.clone()));
    }
    answer.await.unwrap_or_else(|_| Err(crashed()))
}

/// Commits what is pending, group after group, until nothing is. A group is what arrived
/// while the one before it committed, so the writer goes from one commit to the next without
/// waiting for another task to be scheduled.
async fn commit_pending(engine: Engine) {
    let _unwinding = Unwinding(&engine.0.outbox);
    loop {
        let jobs = {
            let mut pending = lock(&engine.0.outbox.pending);
            if pending.jobs.is_empty() {
                pending.committing = false;
                return;
            }
            std::mem::take(&mut pending.jobs)
        };
        commit_group(&engine, jobs).await;
    }
}

/// Lets the next request start a committer if this one panics.
struct Unwinding<'a>(&'a Outbox);

impl Drop for Unwinding<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            lock(&self.0.pending).committing = false;
        }
    }
}

fn crashed() -> AcceptError {
    Arc::new(sqlx::Error::WorkerCrashed)
}

/// Commits `jobs` together and answers each. If the shared transaction fails, each job is
/// tried alone, so that one request's failure is not every request's.
async fn commit_group(engine: &Engine, jobs: Vec<Job>) {
    let now = now_ms();
    let db = engine.db();
    let result = commit_jobs(db, &jobs, now).await;
    let answers = match result {
        Ok(answers) => answers,
        Err(error) if jobs.len() > 1 => {
            tracing::warn!(%error, jobs = jobs.len(), "group commit failed; committing one by one");
            for job in jobs {
                let result = commit_jobs(db, std::slice::from_ref(&job), now).await;
                let answer = result.map(|mut all| all.remove(0)).map_err(Arc::new);
                touch_streams(engine, std::slice::from_ref(&job), now).await;
                db.changes().traffic([&job.stream_id]);
                if answer.is_ok() {
                    engine
                        .metrics()
                        .accepted(job.channel, job.kind, job.messages.len() as u64);
                }
                let _ = job.done.send(answer);
            }
            engine.queued().notify_waiters();
            return;
        }
        Err(error) => {
            let error = Arc::new(error);
            for job in jobs {
                let _ = job.done.send(Err(error.clone()));
            }
            return;
        }
    };
    touch_streams(engine, &jobs, now).await;
    db.changes().traffic(jobs.iter().map(|job| &job.stream_id));
    for (job, answer) in jobs.into_iter().zip(answers) {
        engine
            .metrics()
            .accepted(job.channel, job.kind, job.messages.len() as u64);
        let _ = job.done.send(Ok(answer));
    }
    engine.queued().notify_waiters();
}

async fn commit_jobs(db: &Db, jobs: &[Job], now: i64) -> Result<Vec<Vec<Queued>>, sqlx::Error> {
    let entries: Vec<(Route<'_>, &NewMessage)> = jobs
        .iter()
        .flat_map(|job| job.messages.iter().map(move |m| (job.route(), m)))
        .collect();
    let mut writer = db.writer().await?;
    let mut queued = queue_committed(&mut writer, &entries, now)
        .await?
        .into_iter();
    Ok(jobs
        .iter()
        .map(|job| queued.by_ref().take(job.messages.len()).collect())
        .collect())
}

/// Queues messages in a transaction of their own, answering once it committed.
async fn queue_committed(
    writer: &mut Writer,
    entries: &[(Route<'_>, &NewMessage)],
    now: i64,
) -> Result<Vec<Queued>, sqlx::Error> {
    let ids = new_message_ids(entries.len());
    let inserted = if let Writer::Sqlite(conn) = &mut *writer {
        // The transaction's statements go to SQLite's thread in as few hand-offs as possible
        // (one for up to 1,000 messages): every hand-off holds the one writer until this
        // task is scheduled again.
        let inserted = insert_new(conn, entries, &ids, now, Framing::Own).await;
        rolled_back_on_error(conn, inserted).await?
    } else {
        let mut tx = writer.begin().await?;
        let inserted = insert_new(&mut tx, entries, &ids, now, Framing::Inside).await?;
        tx.commit().await?;
        inserted
    };
    outcomes(writer, entries, ids, &inserted).await
}

/// Records the streams' Last Activity after their messages' commit, at most once a second
/// per stream, so concurrent requests never queue behind a stream's row. Best effort: a
/// failure here loses a timestamp, never a message.
async fn touch_streams(engine: &Engine, jobs: &[Job], now: i64) {
    let due: Vec<&str> = {
        let mut touched = lock(&engine.0.outbox.touched);
        jobs.iter()
            .map(|job| job.stream_id.as_str())
            .filter(|id| {
                let last = touched.entry((*id).to_string()).or_insert(i64::MIN);
                let due = *last < now - 1_000;
                if due {
                    *last = now;
                }
                due
            })
            .collect()
    };
    if due.is_empty() {
        return;
    }
    let touched = async {
        let mut writer = engine.db().writer().await?;
        for stream_id in due {
            touch_stream(&mut writer, stream_id, now).await?;
        }
        Ok::<_, sqlx::Error>(())
    };
    if let Err(error) = touched.await {
        tracing::warn!(%error, "recording Last Activity failed");
    }
}

/// Records that the stream just sent: its Last Activity.
pub(crate) async fn touch_stream(
    conn: &mut AnyConnection,
    stream_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update streams set last_activity_at = $1
         where id = $2 and (last_activity_at is null or last_activity_at < $3)",
    )
    .bind(now)
    .bind(stream_id)
    .bind(now - 1_000)
    .execute(conn)
    .await?;
    Ok(())
}

/// Queues one message inside `tx`.
pub(crate) async fn queue_one(
    tx: &mut Transaction<'_, Any>,
    route: Route<'_>,
    message: &NewMessage,
    now: i64,
) -> Result<Queued, sqlx::Error> {
    let entries = [(route, message)];
    let ids = new_message_ids(1);
    let inserted = insert_new(tx, &entries, &ids, now, Framing::Inside).await?;
    let mut queued = outcomes(tx, &entries, ids, &inserted).await?;
    Ok(queued.remove(0))
}

/// The values [`insert_new`] binds per message.
const COLUMNS: usize = 17;

/// Inserts the messages whose stream does not have their `internal_id` yet and whose recipient
/// did not opt out, with their `queued` step, using multi-row inserts; answers the ids inserted.
async fn insert_new(
    conn: &mut AnyConnection,
    entries: &[(Route<'_>, &NewMessage)],
    ids: &[String],
    now: i64,
    framing: Framing,
) -> Result<HashSet<String>, sqlx::Error> {
    let sqlite = conn.backend_name() == "SQLite";
    debug_assert!(sqlite || framing == Framing::Inside);
    let mut inserted = HashSet::with_capacity(entries.len());
    // Every Postgres transaction inserts its rows in one order, by stream and internal id, so
    // two instances queueing the same internal ids at once (a client retrying a batch on
    // another instance) wait for each other in turn instead of deadlocking. SQLite has one
    // writer: its rows go in as they came.
    let sorted = (!sqlite).then(|| {
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by_key(|&n| (entries[n].0.stream_id, &entries[n].1.internal_id));
        order
    });
    let row = |k: usize| sorted.as_ref().map_or(k, |order| order[k]);
    let chunks = entries.len().div_ceil(ROWS_PER_INSERT);
    for n in 0..chunks {
        let chunk = n * ROWS_PER_INSERT..((n + 1) * ROWS_PER_INSERT).min(entries.len());
        let rows = (0..chunk.len())
            .map(|n| format!("({})", placeholders(1 + n * COLUMNS, COLUMNS)))
            .collect::<Vec<_>>()
            .join(", ");
        let mut sql = String::new();
        if framing == Framing::Own && n == 0 {
            sql.push_str("begin immediate; ");
        }
        // A recipient who opted out is not inserted: checked in the transaction that queues,
        // so a STOP that commits first always wins.
        sql.push_str(&format!(
            "insert into messages (id, account_id, stream_id, internal_id, direction, channel,
                 sender, recipient, content, encoding, segments, status, attempts, next_at,
                 expires_at, created_at, updated_at, payload, connection_id, callback_data)
             select column1, column2, column3, column4, 'outbound', column5, column6, column7,
                 column8, column9, column10, 'queued', 0, column11, column12, column13, column14,
                 column15, column16, column17
             from (values {rows}) v
             where not exists (
                 select 1 from opt_outs o where o.stream_id = v.column3 and o.phone = v.column7)
             on conflict (stream_id, internal_id) do nothing
             returning id"
        ));
        if sqlite {
            // SQLite runs several statements in one hand-off to its connection's thread.
            sql.push_str(&format!(
                "; insert into message_history (message_id, status, at, detail)
                 select id, 'queued', ${}, null from messages where id in ({})",
                1 + chunk.len() * COLUMNS,
                placeholders(2 + chunk.len() * COLUMNS, chunk.len())
            ));
        }
        if framing == Framing::Own && n + 1 == chunks {
            sql.push_str("; commit");
        }
        let sql = positional(conn, &sql);
        let mut query = sqlx::query(&sql);
        for k in chunk.clone() {
            let ((route, message), id) = (&entries[row(k)], &ids[row(k)]);
            query = query
                .bind(id)
                .bind(route.account_id)
                .bind(route.stream_id)
                .bind(&message.internal_id)
                .bind(route.channel.as_str())
                .bind(&message.sender)
                .bind(message.recipient.as_str())
                .bind(&message.content)
                .bind(message.size.encoding.as_str())
                .bind(message.size.segments as i64)
                .bind(now)
                .bind(now + route.validity_ms)
                .bind(now)
                .bind(now)
                .bind(&message.payload)
                .bind(route.connection_id)
                .bind(&message.callback_data);
        }
        if sqlite {
            query = query.bind(now);
            for k in chunk.clone() {
                query = query.bind(&ids[row(k)]);
            }
        }
        for row in query.fetch_all(&mut *conn).await? {
            inserted.insert(row.get::<String, _>(0));
        }
    }
    if !sqlite {
        let new_ids: Vec<&String> = ids.iter().filter(|id| inserted.contains(*id)).collect();
        record_all(conn, &new_ids, MessageStatus::Queued, now, None).await?;
    }
    Ok(inserted)
}

/// What became of each message: new, or, when not inserted, a replay or conflict of the
/// message its stream has with that `internal_id`, or opted out.
async fn outcomes(
    conn: &mut AnyConnection,
    entries: &[(Route<'_>, &NewMessage)],
    ids: Vec<String>,
    inserted: &HashSet<String>,
) -> Result<Vec<Queued>, sqlx::Error> {
    let mut outcomes = Vec::with_capacity(entries.len());
    for ((route, message), id) in entries.iter().zip(ids) {
        if inserted.contains(&id) {
            outcomes.push(Queued::New(Receipt {
                message_uuid: MessageId::from(id),
                internal_id: message.internal_id.clone(),
                status: MessageStatus::Queued,
                encoding: message.size.encoding.as_str().into(),
                segments: message.size.segments as i64,
            }));
            continue;
        }
        let existing = sqlx::query(
            "select id, internal_id, status, encoding, segments, recipient, content from messages
             where stream_id = $1 and internal_id = $2",
        )
        .bind(route.stream_id)
        .bind(&message.internal_id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(existing) = existing else {
            outcomes.push(Queued::OptedOut);
            continue;
        };
        let same = existing.get::<String, _>("recipient") == message.recipient.as_str()
            && existing.get::<String, _>("content") == message.content;
        outcomes.push(if same {
            Queued::Replay(receipt_from_row(&existing))
        } else {
            Queued::Conflict
        });
    }
    Ok(outcomes)
}

pub(super) fn receipt_from_row(row: &AnyRow) -> Receipt {
    Receipt {
        message_uuid: row.get("id"),
        internal_id: row.get("internal_id"),
        status: MessageStatus::parse(row.get("status")).unwrap_or(MessageStatus::Queued),
        encoding: row.get("encoding"),
        segments: row.get("segments"),
    }
}
