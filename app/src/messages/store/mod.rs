//! Messages in the database, by stage of their life: accepting them into the outbox, tracking
//! them for `/status/`, the workers' claim-and-advance cycle, inbound messages and opt-outs,
//! and the console's read models.

mod accept;
mod console;
mod inbound;
mod track;
mod worker;

use sqlx::AnyConnection;

use super::MessageStatus;
use crate::db::positional;

pub(in crate::messages) use self::accept::{queue_one, touch_stream};
pub use self::{
    accept::{AcceptError, NewMessage, Outbox, Queued, Receipt, Route, accept},
    console::{list, live, stats},
    inbound::{
        Inbound, Part, inbound_sender, opt_keyword, opted_out, provider_id_of, receive,
        receive_part, wrote_since,
    },
    track::{Step, Tracked, track},
    worker::{Advanced, Claimed, Outcome, advance, advance_all, claim},
};

/// `count` new message ids.
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

/// Whether a write (accepting's insert, a worker's step) runs inside its caller's transaction
/// or, on SQLite, opens its own with its first statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Inside,
    Own,
}

/// Rows per insert statement: 16 parameters each stays under both backends' limits.
const ROWS_PER_INSERT: usize = 1_000;

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
