//! The one storage handle the rest of the code calls: SQLite or Postgres behind sqlx's `Any`.

use std::{path::Path, str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    AnyPool, Executor,
    any::AnyRow,
    any::{AnyPoolOptions, install_default_drivers},
    migrate::{MigrateError, Migrator},
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
    /// SQLite takes one writer at a time; hot writers queue here instead of in SQLite's
    /// sleeping busy handler.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// Messages waiting for a group commit.
    outbox: Arc<Outbox>,
    /// Streams recently found by their token.
    tokens: Arc<TokenCache>,
}

/// The turn of a hot writer (held until dropped); nothing on Postgres, which locks rows.
pub type WriteTurn = Option<tokio::sync::OwnedMutexGuard<()>>;

impl Db {
    /// Connects to `url`; a SQLite file (and its folder) is created when missing.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        install_default_drivers();
        let backend: Backend = url.parse()?;
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let pool = match backend {
            Backend::Sqlite => {
                let url = sqlite_url(url)?;
                options
                    .max_connections(8)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute(
                                // Pages are read through a memory map rather than a read()
                                // per page, from a 16 MB cache per connection.
                                "pragma foreign_keys = on; pragma busy_timeout = 5000; \
                                 pragma journal_mode = wal; pragma synchronous = normal; \
                                 pragma mmap_size = 268435456; pragma cache_size = -16000;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?
            }
            Backend::Postgres => options.max_connections(16).connect(url).await?,
        };
        Ok(Self {
            pool,
            backend,
            writer: Arc::default(),
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

    /// Waits for this process's turn to write to SQLite; keep it for the whole transaction.
    pub async fn write_turn(&self) -> WriteTurn {
        match self.backend {
            Backend::Sqlite => Some(self.writer.clone().lock_owned().await),
            Backend::Postgres => None,
        }
    }

    /// Leases up to `limit` rows of an outbox `table` that are due (`next_at` passed, no live
    /// lease) for `lease_ms`, answering their `returning` columns. Postgres lets several
    /// processes claim at once (`skip locked`); on SQLite the writer's turn is the lock.
    pub(crate) async fn lease_due(
        &self,
        table: &str,
        returning: &str,
        limit: i64,
        lease_ms: i64,
    ) -> Result<Vec<AnyRow>, sqlx::Error> {
        let now = now_ms();
        let lock = match self.backend {
            Backend::Postgres => "for update skip locked",
            Backend::Sqlite => "",
        };
        let _turn = self.write_turn().await;
        sqlx::query(&format!(
            "update {table} set lease_until = $1
             where id in (
                 select id from {table}
                 where next_at is not null and next_at <= $2
                   and (lease_until is null or lease_until < $2)
                 order by next_at limit $3 {lock})
             returning {returning}"
        ))
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
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

/// Makes sure the SQLite file's folder exists and that the file is created when missing.
fn sqlite_url(url: &str) -> Result<String, DbError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:"
        && let Some(parent) = Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|source| DbError::Directory {
            path: parent.display().to_string(),
            source,
        })?;
    }
    Ok(if query.contains("mode=") {
        url.to_string()
    } else if query.is_empty() {
        format!("{url}?mode=rwc")
    } else {
        format!("{url}&mode=rwc")
    })
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
            "sqlite::memory:?mode=rwc"
        );
        assert_eq!(
            sqlite_url("sqlite://x.db?mode=ro").unwrap(),
            "sqlite://x.db?mode=ro"
        );
        assert_eq!(
            sqlite_url("sqlite://x.db?cache=shared").unwrap(),
            "sqlite://x.db?cache=shared&mode=rwc"
        );
    }
}
