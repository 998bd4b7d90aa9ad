//! Which SMPP connections this instance may bind. An SMSC allows an account a set number of
//! binds, so a connection's sessions are capped across every instance on one Postgres database
//! (`[delivery] smpp_sessions_per_connection`, 1 by default): an instance binds a connection
//! only while it holds one of the connection's slots, a session-level advisory lock taken on
//! a database connection of its own, and it claims only the messages of connections it holds.
//! When the instance dies, the database drops that connection and the locks with it, and
//! another instance takes the slot at its next look, within [`LOOK_EVERY`]. A SQLite database
//! has one serving process, which holds every connection.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use app::{crypto::sha256_hex, db::Db};
use sqlx::PgConnection;

use crate::{engine::SmppScope, lock};

/// How often an instance looks for slots to take, and checks that it still holds its own.
pub const LOOK_EVERY: Duration = Duration::from_secs(2);

/// The slots this instance holds. Clones share them.
#[derive(Debug, Clone)]
pub struct Binds(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    /// Slots per connection across instances; `None`: this process holds every connection.
    slots: Option<u32>,
    /// The connections held, with the lock key of the slot each holds.
    held: Mutex<HashMap<String, i64>>,
}

/// What one look changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Looked {
    /// Connections this instance now holds and did not before.
    pub gained: Vec<String>,
    /// Connections it held and no longer does: their sessions must close.
    pub lost: Vec<String>,
}

impl Binds {
    /// Every connection, held by this one process (a SQLite database).
    pub fn all() -> Self {
        Self::new(None)
    }

    /// At most `slots` sessions per connection across the instances on one database.
    pub fn shared(slots: u32) -> Self {
        Self::new(Some(slots.max(1)))
    }

    fn new(slots: Option<u32>) -> Self {
        Self(Arc::new(Inner {
            slots,
            held: Mutex::default(),
        }))
    }

    /// Whether this instance may bind `connection_id` now.
    pub fn holds(&self, connection_id: &str) -> bool {
        self.0.slots.is_none() || lock(&self.0.held).contains_key(connection_id)
    }

    /// Which SMPP messages this instance's workers may claim.
    pub fn scope(&self) -> SmppScope {
        match self.0.slots {
            None => SmppScope::All,
            Some(_) => SmppScope::Only(lock(&self.0.held).keys().cloned().collect()),
        }
    }

    /// Takes free slots of the SMPP connections `ids` and lets go of those no longer listed,
    /// on `locks` (the instance's own database connection, opened here when missing). When
    /// that connection fails, every slot is lost with it.
    pub async fn look(&self, db: &Db, locks: &mut Option<PgConnection>, ids: &[String]) -> Looked {
        let Some(slots) = self.0.slots else {
            return Looked::default();
        };
        // Without SMPP connections there is nothing to hold, and no connection to keep open.
        if ids.is_empty() && lock(&self.0.held).is_empty() {
            *locks = None;
            return Looked::default();
        }
        let mut looked = Looked::default();
        if let Err(error) = self.take_slots(db, locks, slots, ids, &mut looked).await {
            tracing::warn!(%error, "keeping SMPP session slots failed; letting them all go");
            *locks = None;
            let mut held = lock(&self.0.held);
            looked.lost.extend(held.drain().map(|(id, _)| id));
            looked.gained.retain(|id| !looked.lost.contains(id));
        }
        looked
    }

    async fn take_slots(
        &self,
        db: &Db,
        locks: &mut Option<PgConnection>,
        slots: u32,
        ids: &[String],
        looked: &mut Looked,
    ) -> Result<(), sqlx::Error> {
        let conn = match locks {
            Some(conn) => conn,
            None => locks.insert(db.connection_of_its_own().await?),
        };
        // A query proves the connection, and so the locks on it, still hold.
        sqlx::query("select 1").execute(&mut *conn).await?;
        let gone: Vec<(String, i64)> = lock(&self.0.held)
            .iter()
            .filter(|(id, _)| !ids.contains(id))
            .map(|(id, key)| (id.clone(), *key))
            .collect();
        for (id, key) in gone {
            sqlx::query("select pg_advisory_unlock($1)")
                .bind(key)
                .execute(&mut *conn)
                .await?;
            lock(&self.0.held).remove(&id);
            looked.lost.push(id);
        }
        for id in ids {
            if self.holds(id) {
                continue;
            }
            for slot in 0..slots {
                let key = slot_key(id, slot);
                let taken: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
                    .bind(key)
                    .fetch_one(&mut *conn)
                    .await?;
                if taken {
                    lock(&self.0.held).insert(id.clone(), key);
                    looked.gained.push(id.clone());
                    break;
                }
            }
        }
        Ok(())
    }
}

/// The advisory lock key of a connection's session slot: 64 bits of a hash, so that two
/// connections' slots never share a lock.
fn slot_key(connection_id: &str, slot: u32) -> i64 {
    let hash = sha256_hex(&format!("sluice-smpp-slot:{connection_id}:{slot}"));
    u64::from_str_radix(&hash[..16], 16).map_or(0, |bits| bits as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_keys_differ_by_connection_and_slot() {
        let keys = [
            slot_key("conn_a", 0),
            slot_key("conn_a", 1),
            slot_key("conn_b", 0),
        ];
        assert_ne!(keys[0], keys[1]);
        assert_ne!(keys[0], keys[2]);
        assert_eq!(keys[0], slot_key("conn_a", 0));
    }

    #[test]
    fn one_process_holds_every_connection() {
        let binds = Binds::all();
        assert!(binds.holds("conn_any"));
        assert_eq!(binds.scope(), SmppScope::All);
        let shared = Binds::shared(1);
        assert!(!shared.holds("conn_any"));
        assert_eq!(shared.scope(), SmppScope::Only(Vec::new()));
    }
}
