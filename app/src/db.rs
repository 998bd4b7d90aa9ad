//! The one storage handle the rest of the code calls: SQLite or Postgres behind sqlx's `Any`.

use std::{
    collections::{HashMap, hash_map::Entry},
    fs::File,
    ops::{Deref, DerefMut},
    path::{Path, PathBuf},
    str::FromStr,
    sync::{Arc, Mutex},
    time::Duration,
};

use sqlx::{
    Any, AnyConnection, AnyPool, Connection, Executor, Row, Transaction,
    any::AnyRow,
    any::{AnyPoolOptions, install_default_drivers},
    migrate::{MigrateError, Migrator},
    pool::PoolConnection,
};

use crate::{messages::store::Outbox, streams::store::TokenCache};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// Which database server a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl FromStr for Backend {
    type Err = DbError;

    /// Picks the backend from a database URL's scheme.
    fn from_str(url: &str) -> Result<Self, DbError> {
        match url.split_once(':').map(|(scheme, _)| scheme) {
            Some("sqlite") => Ok(Self::Sqlite),
            Some("postgres" | "postgresql") => Ok(Self::Postgres),
            _ => Err(DbError::UnsupportedUrl),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the database URL must start with sqlite:// or postgres://")]
    UnsupportedUrl,
    #[error("could not create the database directory {path}: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
    #[error("could not create the database file {path} for its owner only: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("another Sluice already serves {path}: one process owns a SQLite database")]
    InUse { path: String },
    #[error("could not lock {path}: {source}")]
    Lock {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] MigrateError),
}

/// A pool of connections to the configured database.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite takes one writer at a time: hot writers share this connection, queueing here
    /// instead of in SQLite's sleeping busy handler. Its page cache stays warm, where a pool
    /// connection's is dropped whenever another connection wrote.
    writer: Option<Arc<tokio::sync::Mutex<AnyConnection>>>,
    /// The SQLite file, when the database is one.
    path: Option<PathBuf>,
    /// Outbox rows this process's workers hold (SQLite; Postgres keeps leases in the rows).
    leases: Arc<Leases>,
    /// Messages waiting for a group commit.
    outbox: Arc<Outbox>,
    /// Streams recently found by their token.
    tokens: Arc<TokenCache>,
}

/// A hot writer's connection, held until dropped: on SQLite the one shared writer, on Postgres
/// (which locks rows) any connection of the pool.
pub enum Writer {
    Sqlite(tokio::sync::OwnedMutexGuard<AnyConnection>),
    Postgres(PoolConnection<Any>),
}

impl Writer {
    /// Starts a transaction that holds SQLite's write lock from its first statement: one that
    /// read first and wrote later would fail at once, without waiting, when another
    /// connection wrote in between.
    pub async fn begin(&mut self) -> Result<Transaction<'_, Any>, sqlx::Error> {
        match self {
            Self::Sqlite(conn) => conn.begin_with("begin immediate").await,
            Self::Postgres(conn) => conn.begin().await,
        }
    }
}

impl Deref for Writer {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        match self {
            Self::Sqlite(conn) => conn,
            Self::Postgres(conn) => conn,
        }
    }
}

impl DerefMut for Writer {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            Self::Sqlite(conn) => conn,
            Self::Postgres(conn) => conn,
        }
    }
}

impl Db {
    /// Connects to `url`; a SQLite file (and its folder) is created when missing.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        install_default_drivers();
        let backend: Backend = url.parse()?;
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let (pool, writer, path) = match backend {
            Backend::Sqlite => {
                let (url, path) = sqlite_url(url)?;
                // An embedded database has no connection to lose: no ping before each use,
                // which would be one more hand-off to the connection's thread per query.
                let pool = options
                    .max_connections(8)
                    .test_before_acquire(false)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute(
                                // Pages are read through a memory map rather than a read()
                                // per page, from a 16 MB cache per connection. Commits never
                                // checkpoint: `checkpoints` does, beside the writer.
                                "pragma foreign_keys = on; pragma busy_timeout = 5000; \
                                 pragma journal_mode = wal; pragma synchronous = normal; \
                                 pragma mmap_size = 268435456; pragma cache_size = -16000; \
                                 pragma wal_autocheckpoint = 0; \
                                 pragma journal_size_limit = 268435456;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?;
                let writer = Arc::new(tokio::sync::Mutex::new(pool.acquire().await?.detach()));
                tokio::spawn(checkpoints(pool.clone(), writer.clone()));
                (pool, Some(writer), path)
            }
            Backend::Postgres => (options.max_connections(16).connect(url).await?, None, None),
        };
        Ok(Self {
            pool,
            backend,
            writer,
            path,
            leases: Arc::default(),
            outbox: Arc::default(),
            tokens: Arc::default(),
        })
    }

    /// Applies the backend's pending migrations.
    pub async fn migrate(&self) -> Result<(), DbError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// Answers whether the database takes queries right now.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        self.pool.execute("select 1").await.map(drop)
    }

    /// Waits for the connection hot writers use; keep it for the whole transaction.
    pub async fn writer(&self) -> Result<Writer, sqlx::Error> {
        Ok(match &self.writer {
            Some(writer) => Writer::Sqlite(writer.clone().lock_owned().await),
            None => Writer::Postgres(self.pool.acquire().await?),
        })
    }

    /// Leases up to `limit` rows of an outbox `table` that are due (`next_at` passed, no live
    /// lease) for `lease_ms`, answering their `returning` columns (which name `id` first).
    /// Postgres lets several processes claim at once (`skip locked`) and writes the lease into
    /// the rows. A SQLite database has one serving process ([`Db::lock_for_workers`]), so its
    /// leases live in memory: a claim is a read under the writer, not a write and a commit,
    /// and a restart frees every lease at once.
    pub(crate) async fn lease_due(
        &self,
        table: &'static str,
        returning: &str,
        limit: i64,
        lease_ms: i64,
    ) -> Result<Vec<AnyRow>, sqlx::Error> {
        let now = now_ms();
        let mut writer = self.writer().await?;
        if self.backend == Backend::Sqlite {
            let held = self.leases.held(table, now);
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
            return Ok(self.leases.take(table, rows, limit, now + lease_ms));
        }
        sqlx::query(&format!(
            "update {table} set lease_until = $1
             where id in (
                 select id from {table}
                 where next_at is not null and next_at <= $2
                   and (lease_until is null or lease_until < $2)
                 order by next_at limit $3 for update skip locked)
             returning {returning}"
        ))
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *writer)
        .await
    }

    /// Frees the leases of rows of `table` a committed step moved on (on Postgres the step's
    /// update cleared them). Call it after the commit.
    pub(crate) fn release<'a>(&self, table: &'static str, ids: impl IntoIterator<Item = &'a str>) {
        if self.backend == Backend::Sqlite {
            self.leases.release(table, ids);
        }
    }

    /// Makes this process the one that delivers from a SQLite database, for as long as the
    /// answered file stays open; fails when another process already does. Postgres needs no
    /// such lock (`None`).
    pub fn lock_for_workers(&self) -> Result<Option<File>, DbError> {
        let Some(path) = &self.path else {
            return Ok(None);
        };
        let mut lock_path = path.clone().into_os_string();
        lock_path.push(".lock");
        let lock_path = PathBuf::from(lock_path);
        let failed = |source| DbError::Lock {
            path: lock_path.display().to_string(),
            source,
        };
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(failed)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => Err(DbError::InUse {
                path: path.display().to_string(),
            }),
            Err(std::fs::TryLockError::Error(source)) => Err(failed(source)),
        }
    }

    pub(crate) fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    pub(crate) fn tokens(&self) -> &TokenCache {
        &self.tokens
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Outbox rows leased in memory, by table and id, with when each lease runs out.
#[derive(Debug, Default)]
struct Leases(Mutex<HashMap<(&'static str, String), i64>>);

impl Leases {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(&'static str, String), i64>> {
        // A panic while holding it cannot leave the map half-changed.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Forgets leases that ran out (a worker that crashed holding them) and answers how many
    /// rows of `table` are still held.
    fn held(&self, table: &str, now: i64) -> usize {
        let mut leases = self.lock();
        leases.retain(|_, until| *until > now);
        leases.keys().filter(|(t, _)| *t == table).count()
    }

    /// Leases the first `limit` of `rows` no one holds, until `until`, and answers them.
    fn take(&self, table: &'static str, rows: Vec<AnyRow>, limit: i64, until: i64) -> Vec<AnyRow> {
        let mut leases = self.lock();
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

    fn release<'a>(&self, table: &'static str, ids: impl IntoIterator<Item = &'a str>) {
        let mut leases = self.lock();
        for id in ids {
            leases.remove(&(table, id.to_owned()));
        }
    }
}

/// How often the SQLite write-ahead log is copied back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// Past this many frames (256 MB of 4 KB pages, `journal_size_limit`), the log is started
/// again from its beginning: under the heaviest load every few seconds, each time a short wait
/// for the writer. Its file keeps that size and is written over rather than grown.
const WAL_RESTART_FRAMES: i64 = 65_536;

/// Copies committed pages from SQLite's write-ahead log into the database file, on a pool
/// connection, until the pool closes. A commit that checkpointed itself (SQLite's default)
/// would hold the one writer through the copy and its two fsyncs, stalling every request
/// behind it; a passive checkpoint here never blocks the writer. The writer starts the log
/// again whenever every frame was copied; when steady writes never leave it that chance, the
/// writer itself restarts it between two transactions (a short wait, mostly copied already),
/// which keeps the log from growing for ever.
async fn checkpoints(pool: AnyPool, writer: Arc<tokio::sync::Mutex<AnyConnection>>) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !pool.is_closed() {
        every.tick().await;
        let frames = sqlx::query("pragma wal_checkpoint(passive)")
            .fetch_one(&pool)
            .await
            .map(|row| row.get::<i64, _>(1));
        let result = match frames {
            Ok(frames) if frames > WAL_RESTART_FRAMES => {
                let mut writer = writer.lock().await;
                sqlx::query("pragma wal_checkpoint(restart)")
                    .execute(&mut *writer)
                    .await
                    .map(drop)
            }
            other => other.map(drop),
        };
        if let Err(error) = result
            && !pool.is_closed()
        {
            tracing::warn!(%error, "checkpointing the SQLite log failed");
        }
    }
}

/// Makes sure the SQLite file's folder exists and that the file is created when missing;
/// answers the URL to open and the file's path (none for an in-memory database).
fn sqlite_url(url: &str) -> Result<(String, Option<PathBuf>), DbError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = (path != ":memory:").then(|| PathBuf::from(path));
    if let Some(parent) = path.as_deref().and_then(Path::parent)
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|source| DbError::Directory {
            path: parent.display().to_string(),
            source,
        })?;
    }
    if let Some(path) = &path {
        owner_only(path).map_err(|source| DbError::File {
            path: path.display().to_string(),
            source,
        })?;
    }
    let url = if query.contains("mode=") {
        url.to_string()
    } else if query.is_empty() {
        format!("{url}?mode=rwc")
    } else {
        format!("{url}&mode=rwc")
    };
    Ok((url, path))
}

/// Creates the SQLite file when missing, readable and writable by its owner only, and makes an
/// existing one (with its log and shared-memory files) so; SQLite gives the files it adds the
/// database file's mode.
fn owner_only(path: &Path) -> std::io::Result<()> {
    let mut options = File::options();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?;
    #[cfg(unix)]
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let file = PathBuf::from(file);
        if file.exists() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

/// Milliseconds since the Unix epoch: how every timestamp is stored.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or_default()
}

/// `count` numbered parameters from `$first`, comma-separated: `$3, $4, $5`.
pub fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The SQL for this connection's backend, where every `$N` is used once, in ascending order.
/// SQLite finds a numbered parameter by scanning the statement's parameter names, so binding
/// thousands of `$N` (a multi-row insert) costs their square; anonymous `?` bind by position.
pub fn positional(conn: &sqlx::AnyConnection, sql: &str) -> String {
    if conn.backend_name() != "SQLite" {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// A new random id with a readable prefix, such as `acc_5f0c…`.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// Whether an error is a unique-constraint violation, on either backend.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|db| db.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_follows_the_url_scheme() {
        assert_eq!(
            "sqlite://data/x.db".parse::<Backend>().unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            "postgres://h/db".parse::<Backend>().unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            "postgresql://h/db".parse::<Backend>().unwrap(),
            Backend::Postgres
        );
        assert!("mysql://h/db".parse::<Backend>().is_err());
    }

    #[test]
    fn sqlite_urls_create_missing_files() {
        assert_eq!(
            sqlite_url("sqlite::memory:").unwrap(),
            ("sqlite::memory:?mode=rwc".into(), None)
        );
        assert_eq!(
            sqlite_url("sqlite://x.db?mode=ro").unwrap(),
            ("sqlite://x.db?mode=ro".into(), Some("x.db".into()))
        );
        assert_eq!(
            sqlite_url("sqlite://x.db?cache=shared").unwrap(),
            (
                "sqlite://x.db?cache=shared&mode=rwc".into(),
                Some("x.db".into())
            )
        );
    }
}
