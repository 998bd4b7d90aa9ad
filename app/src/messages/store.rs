//! Messages in the database: accepting a batch in one transaction, looking them up, and the
//! workers' claim-and-advance cycle.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use sqlx::{Any, AnyConnection, Row, Transaction, any::AnyRow};
use tokio::sync::oneshot;

use super::{
    Counts, LiveSnapshot, LiveStream, MessageFilter, MessagePage, MessageRow, MessageStatus,
    StreamStats, TextSize,
};
use crate::{
    db::{Db, Writer, now_ms, placeholders, positional},
    time::parse_date,
};

/// A message the API validated, ready to queue.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub internal_id: Option<String>,
    pub sender: Option<String>,
    pub recipient: String,
    pub content: String,
    pub size: TextSize,
    /// The channel's request body when the message is more than text (WhatsApp), as JSON.
    pub payload: Option<String>,
}

/// What the API answers for one queued message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub message_uuid: String,
    pub internal_id: Option<String>,
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

/// Where and for how long accepted messages go.
#[derive(Debug, Clone, Copy)]
pub struct Route<'a> {
    pub account_id: &'a str,
    pub stream_id: &'a str,
    pub channel: &'a str,
    /// The upstream connection of an `http` message.
    pub connection_id: Option<&'a str>,
    pub validity_ms: i64,
}

/// A queueing request waiting for a group commit.
struct Job {
    account_id: String,
    stream_id: String,
    channel: String,
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
            channel: &self.channel,
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
    db: &Db,
    route: Route<'_>,
    messages: Vec<NewMessage>,
) -> Result<Vec<Queued>, AcceptError> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let (done, answer) = oneshot::channel();
    let job = Job {
        account_id: route.account_id.to_string(),
        stream_id: route.stream_id.to_string(),
        channel: route.channel.to_string(),
        connection_id: route.connection_id.map(str::to_string),
        validity_ms: route.validity_ms,
        messages,
        done,
    };
    let start = {
        let mut pending = lock(&db.outbox().pending);
        pending.jobs.push(job);
        !std::mem::replace(&mut pending.committing, true)
    };
    if start {
        // A task of its own: a request that goes away cannot take the others' messages with it.
        tokio::spawn(commit_pending(db.clone()));
    }
    answer.await.unwrap_or_else(|_| Err(crashed()))
}

/// Commits what is pending, group after group, until nothing is. A group is what arrived
/// while the one before it committed, so the writer goes from one commit to the next without
/// waiting for another task to be scheduled.
async fn commit_pending(db: Db) {
    let _unwinding = Unwinding(db.outbox());
    loop {
        let jobs = {
            let mut pending = lock(&db.outbox().pending);
            if pending.jobs.is_empty() {
                pending.committing = false;
                return;
            }
            std::mem::take(&mut pending.jobs)
        };
        commit_group(&db, jobs).await;
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

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Commits `jobs` together and answers each. If the shared transaction fails, each job is
/// tried alone, so that one request's failure is not every request's.
async fn commit_group(db: &Db, jobs: Vec<Job>) {
    let now = now_ms();
    let result = commit_jobs(db, &jobs, now).await;
    let answers = match result {
        Ok(answers) => answers,
        Err(error) if jobs.len() > 1 => {
            tracing::warn!(%error, jobs = jobs.len(), "group commit failed; committing one by one");
            for job in jobs {
                let result = commit_jobs(db, std::slice::from_ref(&job), now).await;
                let answer = result.map(|mut all| all.remove(0)).map_err(Arc::new);
                touch_streams(db, std::slice::from_ref(&job), now).await;
                let _ = job.done.send(answer);
            }
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
    touch_streams(db, &jobs, now).await;
    for (job, answer) in jobs.into_iter().zip(answers) {
        let _ = job.done.send(Ok(answer));
    }
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
async fn touch_streams(db: &Db, jobs: &[Job], now: i64) {
    let due: Vec<&str> = {
        let mut touched = lock(&db.outbox().touched);
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
        let mut writer = db.writer().await?;
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
pub(super) async fn touch_stream(
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

/// Rows per insert statement: 16 parameters each stays under both backends' limits.
const ROWS_PER_INSERT: usize = 1_000;

/// Queues one message inside `tx`.
pub(super) async fn queue_one(
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

fn new_message_ids(count: usize) -> Vec<String> {
    (0..count).map(|_| new_message_id()).collect()
}

/// A time-ordered id: new messages append to the primary-key and history indexes.
fn new_message_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Passes `result` on; when it is an error, first ends the transaction the failed statements
/// opened themselves ([`Framing::Own`]), so the writer is never left inside it. The rollback
/// fails harmlessly when SQLite already rolled back.
async fn rolled_back_on_error<T>(
    conn: &mut AnyConnection,
    result: Result<T, sqlx::Error>,
) -> Result<T, sqlx::Error> {
    if result.is_err() {
        let _ = sqlx::query("rollback").execute(conn).await;
    }
    result
}

/// Whether a write ([`insert_new`], [`advance_groups`]) runs inside its caller's transaction
/// or, on SQLite, opens its own with its first statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Inside,
    Own,
}

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
    let chunks = entries.len().div_ceil(ROWS_PER_INSERT);
    for (n, (chunk, chunk_ids)) in entries
        .chunks(ROWS_PER_INSERT)
        .zip(ids.chunks(ROWS_PER_INSERT))
        .enumerate()
    {
        let rows = (0..chunk.len())
            .map(|n| format!("({})", placeholders(1 + n * 16, 16)))
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
                 expires_at, created_at, updated_at, payload, connection_id)
             select column1, column2, column3, column4, 'outbound', column5, column6, column7,
                 column8, column9, column10, 'queued', 0, column11, column12, column13, column14,
                 column15, column16
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
                1 + chunk.len() * 16,
                placeholders(2 + chunk.len() * 16, chunk.len())
            ));
        }
        if framing == Framing::Own && n + 1 == chunks {
            sql.push_str("; commit");
        }
        let sql = positional(conn, &sql);
        let mut query = sqlx::query(&sql);
        for ((route, message), id) in chunk.iter().zip(chunk_ids) {
            query = query
                .bind(id)
                .bind(route.account_id)
                .bind(route.stream_id)
                .bind(&message.internal_id)
                .bind(route.channel)
                .bind(&message.sender)
                .bind(&message.recipient)
                .bind(&message.content)
                .bind(message.size.encoding.as_str())
                .bind(message.size.segments as i64)
                .bind(now)
                .bind(now + route.validity_ms)
                .bind(now)
                .bind(now)
                .bind(&message.payload)
                .bind(route.connection_id);
        }
        if sqlite {
            query = query.bind(now);
            for id in chunk_ids {
                query = query.bind(id);
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
                message_uuid: id,
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
        let same = existing.get::<String, _>("recipient") == message.recipient
            && existing.get::<String, _>("content") == message.content;
        outcomes.push(if same {
            Queued::Replay(receipt_from_row(&existing))
        } else {
            Queued::Conflict
        });
    }
    Ok(outcomes)
}

fn receipt_from_row(row: &AnyRow) -> Receipt {
    Receipt {
        message_uuid: row.get("id"),
        internal_id: row.get("internal_id"),
        status: MessageStatus::parse(row.get("status")).unwrap_or(MessageStatus::Queued),
        encoding: row.get("encoding"),
        segments: row.get("segments"),
    }
}

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
                 error_message
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
            history,
        });
    }
    Ok(found)
}

/// A message a worker holds.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: String,
    pub account_id: String,
    pub stream_id: String,
    pub channel: String,
    pub status: MessageStatus,
    pub sender: Option<String>,
    pub recipient: String,
    pub content: String,
    pub attempts: i64,
    pub expires_at: i64,
    pub connection_id: Option<String>,
    /// The channel's request body (WhatsApp), as JSON.
    pub payload: Option<String>,
}

/// Claims up to `limit` messages that are due, leasing them for `lease_ms`.
pub async fn claim(db: &Db, limit: i64, lease_ms: i64) -> Result<Vec<Claimed>, sqlx::Error> {
    let rows = db
        .lease_due(
            "messages",
            "id, account_id, stream_id, channel, status, sender, recipient, content, attempts,
             expires_at, connection_id, payload",
            limit,
            lease_ms,
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| Claimed {
            id: row.get("id"),
            account_id: row.get("account_id"),
            stream_id: row.get("stream_id"),
            channel: row.get("channel"),
            status: MessageStatus::parse(row.get("status")).unwrap_or(MessageStatus::Queued),
            sender: row.get("sender"),
            recipient: row.get("recipient"),
            content: row.get("content"),
            attempts: row.get("attempts"),
            expires_at: row.get("expires_at"),
            connection_id: row.get("connection_id"),
            payload: row.get("payload"),
        })
        .collect())
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
pub async fn advance(db: &Db, id: &str, outcome: Outcome) -> Result<bool, sqlx::Error> {
    Ok(advance_all(db, &[(id, outcome)]).await?[0])
}

/// [`advance`] for a whole claimed batch in one transaction: one commit, not one per message,
/// and one statement per distinct outcome (a batch mostly shares a few), not one per message.
pub async fn advance_all(db: &Db, steps: &[(&str, Outcome)]) -> Result<Vec<bool>, sqlx::Error> {
    if steps.is_empty() {
        return Ok(Vec::new());
    }
    let now = now_ms();
    let mut groups: Vec<(&Outcome, Vec<&str>)> = Vec::new();
    for (id, outcome) in steps {
        match groups.iter_mut().find(|(o, _)| *o == outcome) {
            Some((_, ids)) => ids.push(id),
            None => groups.push((outcome, vec![id])),
        }
    }
    let mut writer = db.writer().await?;
    let moved = if let Writer::Sqlite(conn) = &mut writer {
        // `begin immediate` goes to SQLite's thread with the first statement: each hand-off
        // holds the one writer until this task is scheduled again.
        let moved = match advance_groups(conn, &groups, now, Framing::Own).await {
            Ok(moved) => sqlx::query("commit")
                .execute(&mut **conn)
                .await
                .map(|_| moved),
            Err(error) => Err(error),
        };
        rolled_back_on_error(conn, moved).await?
    } else {
        let mut tx = writer.begin().await?;
        let moved = advance_groups(&mut tx, &groups, now, Framing::Inside).await?;
        tx.commit().await?;
        moved
    };
    drop(writer);
    db.release("messages", moved.iter().map(String::as_str));
    Ok(steps.iter().map(|(id, _)| moved.contains(*id)).collect())
}

/// Moves each group's messages, the first statement opening the transaction when `framing`
/// says it is this call's own; answers the messages that moved.
async fn advance_groups(
    conn: &mut AnyConnection,
    groups: &[(&Outcome, Vec<&str>)],
    now: i64,
    framing: Framing,
) -> Result<HashSet<String>, sqlx::Error> {
    let mut moved = HashSet::new();
    let mut begin = framing == Framing::Own;
    for (outcome, ids) in groups {
        for chunk in ids.chunks(ROWS_PER_INSERT) {
            let step = advance_group(conn, chunk, outcome, now, std::mem::take(&mut begin));
            moved.extend(step.await?);
        }
    }
    Ok(moved)
}

/// Moves the messages `ids` that may take `outcome`, recording the step in their history and
/// queueing `message.status` events for streams with a webhook; answers those that moved.
/// One call to the database on either backend (`begin`: SQLite's `begin immediate` first),
/// and one more to read the messages whose streams have a webhook, when there are any.
async fn advance_group(
    conn: &mut AnyConnection,
    ids: &[&str],
    outcome: &Outcome,
    now: i64,
    begin: bool,
) -> Result<Vec<String>, sqlx::Error> {
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
            "select group_concat(id) as moved,
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
        let update = format!(
            "update messages {} where {}
             returning id, case when {hooked} then 1 else 0 end as hooked",
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
    let rows = query.fetch_all(&mut *conn).await?;
    let (moved, hooked): (Vec<String>, Vec<String>) = if sqlite {
        let list = |column: &str| -> Vec<String> {
            rows.first()
                .and_then(|row| row.get::<Option<String>, _>(column))
                .map(|ids| ids.split(',').map(str::to_string).collect())
                .unwrap_or_default()
        };
        (list("moved"), list("hooked"))
    } else {
        let ids = |hooked: bool| {
            rows.iter()
                .filter(|row| !hooked || row.get::<i32, _>("hooked") != 0)
                .map(|row| row.get::<String, _>("id"))
                .collect()
        };
        (ids(false), ids(true))
    };
    if events && !hooked.is_empty() {
        status_events(conn, &hooked, outcome, now).await?;
    }
    Ok(moved)
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
        "select id, account_id, stream_id, internal_id, recipient from messages where id in ({})",
        placeholders(1, ids.len())
    );
    let sql = positional(conn, &sql);
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(id);
    }
    for moved in query.fetch_all(&mut *conn).await? {
        let account_id: String = moved.get("account_id");
        let stream_id: String = moved.get("stream_id");
        let event = serde_json::json!({
            "type": "message.status",
            "message_uuid": moved.get::<String, _>("id"),
            "internal_id": moved.get::<Option<String>, _>("internal_id"),
            "recipient_phone": moved.get::<String, _>("recipient"),
            "status": outcome.status.as_str(),
            "error": outcome.error.as_ref().map(|(code, message)| serde_json::json!({ "code": code, "message": message })),
            "at": crate::time::rfc3339(now),
        });
        crate::webhooks::store::enqueue(
            conn,
            &account_id,
            &stream_id,
            "message.status",
            &event,
            now,
        )
        .await?;
    }
    Ok(())
}

/// Appends the same step to the history of each of `ids`, in one statement.
async fn record_all(
    conn: &mut AnyConnection,
    ids: &[impl AsRef<str>],
    status: MessageStatus,
    at: i64,
    detail: Option<&str>,
) -> Result<(), sqlx::Error> {
    for chunk in ids.chunks(ROWS_PER_INSERT) {
        let rows = (0..chunk.len())
            .map(|n| {
                format!(
                    "(${}, ${}, ${}, ${})",
                    4 * n + 1,
                    4 * n + 2,
                    4 * n + 3,
                    4 * n + 4
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = positional(
            conn,
            &format!("insert into message_history (message_id, status, at, detail) values {rows}"),
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query
                .bind(id.as_ref())
                .bind(status.as_str())
                .bind(at)
                .bind(detail);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A query with the Messages filters bound as $1 to $8.
fn filtered<'q>(
    sql: &'q str,
    values: &[String; 6],
    from: i64,
    to: i64,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    let mut query = sqlx::query(sql);
    for value in values {
        query = query.bind(value.clone());
    }
    query.bind(from).bind(to)
}

/// The account's messages matching `filter`, newest first, one page of them.
pub async fn list(
    db: &Db,
    account_id: &str,
    filter: &MessageFilter,
) -> Result<MessagePage, sqlx::Error> {
    let per_page = i64::from(filter.per_page.clamp(1, 200));
    let page = i64::from(filter.page.max(1));
    let phone = filter.phone.trim();
    let pattern = format!(
        "%{}%",
        phone
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let from = parse_date(&filter.from).unwrap_or(i64::MIN);
    let to = parse_date(&filter.to).map_or(i64::MAX, |day| day + 86_400_000);
    let status = filter.status.map(MessageStatus::as_str).unwrap_or_default();
    let matching = "from messages m join streams s on s.id = m.stream_id
         where m.account_id = $1
           and ($2 = '' or m.stream_id = $2)
           and ($3 = '' or m.status = $3)
           and ($4 = '' or m.direction = $4)
           and ($5 = '' or m.recipient like $6 escape '\\' or m.sender like $6 escape '\\')
           and m.created_at >= $7 and m.created_at < $8";
    let count_sql = format!("select count(*) {matching}");
    let values = [
        account_id,
        filter.stream.trim(),
        status,
        filter.direction.trim(),
        phone,
        &pattern,
    ]
    .map(str::to_string);

    let total: i64 = filtered(&count_sql, &values, from, to)
        .fetch_one(db.pool())
        .await?
        .get(0);
    let list_sql = format!(
        "select m.id, m.stream_id, s.name as stream_name, m.internal_id, m.direction, m.sender,
             m.recipient, m.content, m.encoding, m.segments, m.status, m.error_message,
             m.created_at, m.updated_at
         {matching}
         order by m.created_at desc, m.id desc limit $9 offset $10"
    );
    let rows = filtered(&list_sql, &values, from, to)
        .bind(per_page)
        .bind((page - 1) * per_page)
        .fetch_all(db.pool())
        .await?;
    let messages = rows
        .iter()
        .map(|row| MessageRow {
            id: row.get("id"),
            stream_id: row.get("stream_id"),
            stream_name: row.get("stream_name"),
            internal_id: row.get("internal_id"),
            direction: row.get("direction"),
            sender: row.get("sender"),
            recipient: row.get("recipient"),
            content: row.get("content"),
            encoding: row.get("encoding"),
            segments: row.get("segments"),
            status: MessageStatus::parse(row.get("status")).unwrap_or(MessageStatus::Queued),
            error: row.get("error_message"),
            created_at: row.get("created_at"),
            updated_at: row.get("updated_at"),
        })
        .collect();
    Ok(MessagePage { total, messages })
}

const DAY_MS: i64 = 86_400_000;

/// The stream's outbound messages over the last 24 hours and the last seven days, by day.
pub async fn stats(db: &Db, account_id: &str, stream_id: &str) -> Result<StreamStats, sqlx::Error> {
    let now = now_ms();
    let today = now - now.rem_euclid(DAY_MS);
    let first_day = today - 6 * DAY_MS;
    let rows = sqlx::query(
        "select created_at / 86400000 as day, status, count(*) as n,
             sum(case when created_at >= $4 then 1 else 0 end) as recent
         from messages
         where account_id = $1 and stream_id = $2 and direction = 'outbound' and created_at >= $3
         group by created_at / 86400000, status",
    )
    .bind(account_id)
    .bind(stream_id)
    .bind(first_day)
    .bind(now - DAY_MS)
    .fetch_all(db.pool())
    .await?;
    let mut stats = StreamStats {
        days: (0..7)
            .map(|n| (first_day + n * DAY_MS, Counts::default()))
            .collect(),
        ..StreamStats::default()
    };
    for row in &rows {
        let Some(status) = MessageStatus::parse(row.get("status")) else {
            continue;
        };
        let (day, n, recent): (i64, i64, i64) = (row.get("day"), row.get("n"), row.get("recent"));
        stats.last_7d.add(status, n);
        stats.last_24h.add(status, recent);
        if let Some((_, counts)) = stats
            .days
            .iter_mut()
            .find(|(start, _)| *start == day * DAY_MS)
        {
            counts.add(status, n);
        }
    }
    stats.opt_out_count = sqlx::query_scalar(
        "select count(*) from opt_outs o join streams s on s.id = o.stream_id
         where s.account_id = $1 and o.stream_id = $2",
    )
    .bind(account_id)
    .bind(stream_id)
    .fetch_one(db.pool())
    .await?;
    stats.opt_outs = sqlx::query_as(
        "select o.phone, o.created_at from opt_outs o join streams s on s.id = o.stream_id
         where s.account_id = $1 and o.stream_id = $2
         order by o.created_at desc, o.phone limit $3",
    )
    .bind(account_id)
    .bind(stream_id)
    .bind(super::OPT_OUTS_SHOWN)
    .fetch_all(db.pool())
    .await?;
    Ok(stats)
}

/// A message that arrived from a recipient.
#[derive(Debug, Clone)]
pub struct Inbound<'a> {
    pub account_id: &'a str,
    pub stream_id: &'a str,
    pub channel: &'a str,
    /// The recipient's number, who wrote.
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
    let size = super::measure(inbound.content);
    sqlx::query(
        "insert into messages (id, account_id, stream_id, direction, channel, sender, recipient,
             content, encoding, segments, status, attempts, expires_at, created_at, updated_at,
             provider_id)
         values ($1, $2, $3, 'inbound', $4, $5, $6, $7, $8, $9, 'received', 0, $10, $10, $10, $11)",
    )
    .bind(&id)
    .bind(inbound.account_id)
    .bind(inbound.stream_id)
    .bind(inbound.channel)
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
        "received_at": crate::time::rfc3339(now),
    });
    crate::webhooks::store::enqueue(
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

/// The account's finished streams with their last minute of activity.
pub async fn live(db: &Db, account_id: &str) -> Result<LiveSnapshot, sqlx::Error> {
    let now = now_ms();
    let since = now - 60_000;
    let rows = sqlx::query(
        "select s.id, s.name, s.status,
             sum(case when m.direction = 'outbound' and m.created_at >= $2 then 1 else 0 end)
                 as per_minute,
             sum(case when m.status = 'delivered' and m.updated_at >= $2 then 1 else 0 end)
                 as delivered,
             sum(case when m.status in ('undelivered', 'sent_failed', 'rejected', 'no_routes',
                     'expired') and m.updated_at >= $2 then 1 else 0 end) as failed,
             sum(case when m.next_at is not null then 1 else 0 end) as in_flight
         from streams s
         left join messages m on m.stream_id = s.id
             and (m.updated_at >= $2 or m.next_at is not null)
         where s.account_id = $1 and s.status <> 'draft'
         group by s.id, s.name, s.status, s.created_at
         order by s.created_at desc",
    )
    .bind(account_id)
    .bind(since)
    .fetch_all(db.pool())
    .await?;
    let tags: Vec<(String, String)> = sqlx::query_as(
        "select st.stream_id, t.name from stream_tags st join tags t on t.id = st.tag_id
         where t.account_id = $1 order by t.name",
    )
    .bind(account_id)
    .fetch_all(db.pool())
    .await?;
    let count = |row: &AnyRow, column: &str| row.try_get::<i64, _>(column).unwrap_or(0);
    let streams = rows
        .iter()
        .map(|row| {
            let id: String = row.get("id");
            let in_flight = count(row, "in_flight");
            let status: String = row.get("status");
            LiveStream {
                tags: tags
                    .iter()
                    .filter(|(stream, _)| *stream == id)
                    .map(|(_, tag)| tag.clone())
                    .collect(),
                name: row.get("name"),
                status: if status == "ready" && in_flight > 0 {
                    "sending".into()
                } else {
                    status
                },
                per_minute: count(row, "per_minute"),
                delivered: count(row, "delivered"),
                failed: count(row, "failed"),
                in_flight,
                id,
            }
        })
        .collect();
    Ok(LiveSnapshot { at: now, streams })
}
