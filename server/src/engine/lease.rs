//! Leases: which worker holds which outbox row (a message, a webhook delivery) for how long.
//!
//! Postgres lets several processes claim at once (`for update skip locked`) and writes the
//! lease into the rows. A SQLite database has one serving process
//! ([`Db::lock_for_workers`](app::db::Db::lock_for_workers)), so its leases live in memory
//! here: a claim is a read under the writer, not a write and a commit, and a restart frees
//! every lease at once.

use std::{
    collections::{HashMap, hash_map::Entry},
    sync::Mutex,
};

use app::db::{Backend, Db, now_ms};
use sqlx::{Row, any::AnyRow};

use crate::lock;

/// Rows a claim leased, and the lease they were given: when it runs out (ms), which is also
/// the claim's mark. A step recorded under a lease moves only the rows that still carry it
/// (no other claim took them since).
pub struct Leased {
    pub rows: Vec<AnyRow>,
    pub until: i64,
}

/// A condition on the rows a claim takes (Postgres): SQL whose parameters start at `$4`, and
/// their values. A SQLite database has one serving process, which takes every row.
#[derive(Debug)]
pub struct Only<'a> {
    pub sql: String,
    pub values: Vec<&'a str>,
}

/// Outbox rows leased in memory, by table and id, with when each lease runs out.
#[derive(Debug, Default)]
pub struct Leases(Mutex<HashMap<(&'static str, String), i64>>);

impl Leases {
    /// Leases up to `limit` rows of an outbox `table` that are due (`next_at` passed, no live
    /// lease) for `lease_ms`, answering their `returning` columns (which name `id` first).
    /// On Postgres, `only` narrows the rows to those its condition accepts.
    pub async fn lease_due(
        &self,
        db: &Db,
        table: &'static str,
        returning: &str,
        only: Option<&Only<'_>>,
        limit: i64,
        lease_ms: i64,
    ) -> Result<Leased, sqlx::Error> {
        let now = now_ms();
        let until = now + lease_ms;
        let mut writer = db.writer().await?;
        if db.backend() == Backend::Sqlite {
            let held = self.held(table, now);
            // Held rows may be due too: enough rows that `limit` free ones are among them.
            let rows = sqlx::query(&format!(
                "select {returning} from {table}
                 where next_at is not null and next_at <= $1
                 order by next_at limit $2"
            ))
            .bind(now)
            .bind(limit.saturating_add(i64::try_from(held).unwrap_or(i64::MAX)))
            .fetch_all(&mut *writer)
            .await?;
            // Still under the writer: no step can commit, and free a lease, between the read
            // and the lease, so a row is never taken in a state already left behind.
            let rows = self.take(table, rows, limit, until);
            return Ok(Leased { rows, until });
        }
        let only_sql = only
            .map(|only| format!(" and ({})", only.sql))
            .unwrap_or_default();
        let sql = format!(
            "update {table} set lease_until = $1
             where id in (
                 select id from {table}
                 where next_at is not null and next_at <= $2
                   and (lease_until is null or lease_until < $2){only_sql}
                 order by next_at limit $3 for update skip locked)
             returning {returning}"
        );
        let mut query = sqlx::query(&sql).bind(until).bind(now).bind(limit);
        for value in only.map(|only| only.values.as_slice()).unwrap_or_default() {
            query = query.bind(*value);
        }
        let rows = query.fetch_all(&mut *writer).await?;
        Ok(Leased { rows, until })
    }

    /// Which of `ids` (rows of `table`) this process still holds under the lease that ran
    /// until `until` (SQLite; call it holding the writer, so no claim comes in between).
    pub fn still_held<'a>(&self, table: &'static str, ids: &[&'a str], until: i64) -> Vec<&'a str> {
        let leases = lock(&self.0);
        ids.iter()
            .copied()
            .filter(|id| leases.get(&(table, (*id).to_owned())) == Some(&until))
            .collect()
    }

    /// Frees the leases of rows of `table` a committed step moved on (on Postgres the step's
    /// update cleared them). Call it after the commit.
    pub fn release<'a>(&self, table: &'static str, ids: impl IntoIterator<Item = &'a str>) {
        let mut leases = lock(&self.0);
        for id in ids {
            leases.remove(&(table, id.to_owned()));
        }
    }

    /// Forgets leases that ran out (a worker that crashed holding them) and answers how many
    /// rows of `table` are still held.
    fn held(&self, table: &str, now: i64) -> usize {
        let mut leases = lock(&self.0);
        leases.retain(|_, until| *until > now);
        leases.keys().filter(|(t, _)| *t == table).count()
    }

    /// Leases the first `limit` of `rows` no one holds, until `until`, and answers them.
    fn take(&self, table: &'static str, rows: Vec<AnyRow>, limit: i64, until: i64) -> Vec<AnyRow> {
        let mut leases = lock(&self.0);
        let limit = usize::try_from(limit).unwrap_or(0);
        let mut taken = Vec::with_capacity(rows.len().min(limit));
        for row in rows {
            if taken.len() == limit {
                break;
            }
            let key = (table, row.get::<String, _>(0));
            if let Entry::Vacant(free) = leases.entry(key) {
                free.insert(until);
                taken.push(row);
            }
        }
        taken
    }
}
