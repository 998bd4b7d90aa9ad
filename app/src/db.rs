//! The one storage handle the rest of the code calls: SQLite or Postgres behind sqlx's `Any`.

use std::{
    fs::File,
    ops::{Deref, DerefMut},
    path::{Path, PathBuf},
    str::FromStr,
    sync::Arc,
    time::Duration,
};

use sqlx::{
    Any, AnyConnection, AnyPool, Connection, Executor, Row, Transaction,
    any::{AnyPoolOptions, install_default_drivers},
    migrate::{MigrateError, Migrator},
    pool::PoolConnection,
};

use crate::{changes::Changes, streams::store::TokenCache};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// How long a SQLite commit waits for the disk (`sqlite_synchronous`). Either way a crash
/// never corrupts the database; they differ in what a power cut can take.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// A commit is in the write-ahead log before it is answered: a killed process loses
    /// nothing, a power cut or an operating system crash may lose the last moments' commits.
    #[default]
    Normal,
    /// A commit is on the disk before it is answered (an fsync each): nothing acknowledged is
    /// lost even to a power cut.
    Full,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Self::Normal => "pragma synchronous = normal;",
            Self::Full => "pragma synchronous = full;",
        }
    }
}

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

/// A pool of connections to the configured database. Cloned by every request that reaches it:
/// one shared allocation, so a clone is one reference count.
#[derive(Debug, Clone)]
pub struct Db(Arc<Connections>);

#[derive(Debug)]
struct Connections {
    pool: AnyPool,
    backend: Backend,
    /// SQLite takes one writer at a time: hot writers share this connection, queueing here
    /// instead of in SQLite's sleeping busy handler. Its page cache stays warm, where a pool
    /// connection's is dropped whenever another connection wrote.
    writer: Option<Arc<tokio::sync::Mutex<AnyConnection>>>,
    /// The SQLite file, when the database is one.
    path: Option<PathBuf>,
    /// What changed, told to every process on the database; owns the caches it clears.
    changes: Changes,
    /// The URL connected to.
    url: String,
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
    /// Connects to `url` with SQLite's default durability; a SQLite file (and its folder) is
    /// created when missing.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        Self::connect_with(url, Synchronous::default()).await
    }

    /// Connects to `url`, a SQLite database committing as `synchronous` says (Postgres keeps
    /// its server's own setting).
    pub async fn connect_with(url: &str, synchronous: Synchronous) -> Result<Self, DbError> {
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
                    .after_connect(move |conn, _meta| {
                        Box::pin(async move {
                            conn.execute(
                                // Pages are read through a memory map rather than a read()
                                // per page, from a 16 MB cache per connection. Commits never
                                // checkpoint: `checkpoints` does, beside the writer.
                                "pragma foreign_keys = on; pragma busy_timeout = 5000; \
                                 pragma journal_mode = wal; \
                                 pragma mmap_size = 268435456; pragma cache_size = -16000; \
                                 pragma wal_autocheckpoint = 0; \
                                 pragma journal_size_limit = 268435456;",
                            )
                            .await?;
                            conn.execute(synchronous.pragma()).await?;
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
        let changes = match backend {
            Backend::Sqlite => Changes::local(),
            Backend::Postgres => Changes::postgres(url, pool.clone()).await?,
        };
        Ok(Self(Arc::new(Connections {
            pool,
            backend,
            writer,
            path,
            changes,
            url: url.to_string(),
        })))
    }

    /// Applies the backend's pending migrations.
    pub async fn migrate(&self) -> Result<(), DbError> {
        let migrator = match self.0.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.0.pool).await?;
        Ok(())
    }

    /// Answers whether the database takes queries right now.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        self.0.pool.execute("select 1").await.map(drop)
    }

    /// A Postgres connection outside the pool, for state that lives as long as a connection
    /// (session-level advisory locks): it ends, and the state with it, when dropped or when
    /// this process dies.
    pub async fn connection_of_its_own(&self) -> Result<sqlx::PgConnection, sqlx::Error> {
        if self.0.backend != Backend::Postgres {
            return Err(sqlx::Error::Configuration(
                "a connection of its own is for a Postgres database".into(),
            ));
        }
        sqlx::PgConnection::connect(&self.0.url).await
    }

    /// Waits for the connection hot writers use; keep it for the whole transaction.
    pub async fn writer(&self) -> Result<Writer, sqlx::Error> {
        Ok(match &self.0.writer {
            Some(writer) => Writer::Sqlite(writer.clone().lock_owned().await),
            None => Writer::Postgres(self.0.pool.acquire().await?),
        })
    }

    /// Makes this process the one that delivers from a SQLite database, for as long as the
    /// answered file stays open; fails when another process already does. Postgres needs no
    /// such lock (`None`).
    pub fn lock_for_workers(&self) -> Result<Option<File>, DbError> {
        let Some(path) = &self.0.path else {
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

    /// The streams-by-token cache, while every change is heard.
    pub(crate) fn tokens(&self) -> Option<&TokenCache> {
        self.0.changes.tokens()
    }

    /// What changed in the database, and telling other processes what this one changed.
    pub fn changes(&self) -> &Changes {
        &self.0.changes
    }

    pub fn pool(&self) -> &AnyPool {
        &self.0.pool
    }

    pub fn backend(&self) -> Backend {
        self.0.backend
    }

    pub async fn close(&self) {
        self.0.changes.close();
        self.0.pool.close().await;
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

    #[tokio::test]
    async fn every_sqlite_connection_commits_as_configured() {
        let folder = std::env::temp_dir().join(format!("sluice-sync-{}", std::process::id()));
        for (setting, expected) in [(Synchronous::Normal, 1), (Synchronous::Full, 2)] {
            let url = format!("sqlite://{}/{expected}.db", folder.display());
            let db = Db::connect_with(&url, setting).await.unwrap();
            let read: i64 = sqlx::query_scalar("pragma synchronous")
                .fetch_one(db.pool())
                .await
                .unwrap();
            let mut writer = db.writer().await.unwrap();
            let written: i64 = sqlx::query_scalar("pragma synchronous")
                .fetch_one(&mut *writer)
                .await
                .unwrap();
            assert_eq!((read, written), (expected, expected), "{setting:?}");
        }
        let _ = std::fs::remove_dir_all(folder);
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
