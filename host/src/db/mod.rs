//! Persistence: sqlx over `AnyPool`, so SQLite (the embedded default) and PostgreSQL (shared by
//! several host nodes) run the same queries. Only the migrations differ per backend.

pub mod audit;
pub(crate) mod batch;
pub mod commerce;
pub(crate) mod data_access;
pub(crate) mod health;
pub mod idempotency;
pub mod lifecycle;
pub(crate) mod limits;
pub(crate) mod outbox;
pub(crate) mod registry;
pub mod retention;
pub mod secrets;
pub mod storage;
pub(crate) mod tokens;

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, AnyPool};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Why the database could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The `--db` URL is not one Airlock understands.
    #[error(
        "database URL `{0}` is not supported: use `sqlite://path/to/file.db` (created if missing), \
         `sqlite::memory:`, or `postgres://user@host:port/database`"
    )]
    BadUrl(String),
    /// A query failed. The driver's error is in the message, not the source chain, so
    /// `{:#}` does not print it twice.
    #[error("database {action} failed: {cause}")]
    Sql {
        /// What was being done.
        action: &'static str,
        /// The driver's error.
        cause: sqlx::Error,
    },
    /// The server could not be reached.
    #[error(
        "cannot reach the database at {url}: {cause}; check that the server is running and the URL is right"
    )]
    Unreachable {
        /// The URL, without anything after `?`.
        url: String,
        /// The driver's error.
        cause: sqlx::Error,
    },
    /// The SQLite file exists but is not a SQLite database.
    #[error(
        "{path} is not a SQLite database (it holds something else); give `--db` an Airlock \
         database file, or a path where a new one may be created"
    )]
    NotSqlite {
        /// The file, as given.
        path: String,
    },
    /// The SQLite database cannot be written.
    #[error(
        "the SQLite database {path} is read-only (file or directory permissions, a read-only \
         mount, or `mode=ro` in the URL); Airlock writes to its database, so give it one it \
         can write"
    )]
    ReadOnly {
        /// The file, as given.
        path: String,
    },
    /// The SQLite file cannot be opened or created.
    #[error(
        "cannot open or create the SQLite database {path}: {cause}; check the path and that its directory exists and is writable"
    )]
    CannotOpen {
        /// The file, as given.
        path: String,
        /// The driver's error.
        cause: sqlx::Error,
    },
    /// Applying migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    /// A stored value is not what the schema promises (edited by hand, or a newer host wrote it).
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl DbError {
    pub(crate) fn sql(action: &'static str) -> impl FnOnce(sqlx::Error) -> DbError {
        move |cause| DbError::Sql { action, cause }
    }
}

/// Which database engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file or memory database.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// An open, migrated database.
#[derive(Debug, Clone)]
pub struct Db {
    pub(crate) pool: AnyPool,
    /// The dispatcher's connection (see [`Db::outbox`]).
    outbox: AnyPool,
    backend: Backend,
}

impl Db {
    /// Open (creating a SQLite file if missing) and migrate the database at `url`.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = normalise(url)?;
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        if backend == Backend::Sqlite && !memory {
            probe_sqlite(&url).await?;
        }
        // The URL without its query (no password ever goes there; options do).
        let unreachable = |cause| DbError::Unreachable {
            url: url.split('?').next().unwrap_or_default().to_owned(),
            cause,
        };
        let pool = pool_options(backend, memory)
            .connect(&url)
            .await
            .map_err(unreachable)?;
        let migrations = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrations.run(&pool).await.map_err(DbError::Migrate)?;
        let outbox = match backend {
            // One connection of its own for a SQLite file (see `Db::outbox`).
            Backend::Sqlite if !memory => pool_options(backend, memory)
                .max_connections(1)
                .connect(&url)
                .await
                .map_err(unreachable)?,
            _ => pool.clone(),
        };
        Ok(Db {
            pool,
            outbox,
            backend,
        })
    }

    /// Where the dispatcher's statements run (fan-out, claims, what a batch's calls need,
    /// outcomes). On a SQLite file that is one connection of its own, so they follow one
    /// another instead of meeting at SQLite's write lock (where the loser sleeps in the busy
    /// handler for a millisecond or more), and its page cache stays warm: SQLite drops a
    /// connection's whole cache whenever another connection committed since its last
    /// transaction, which in a pool of four that take turns is nearly every time
    /// (BENCHMARKS.md, issue 12, fifth session). Elsewhere it is the pool.
    pub(crate) fn outbox(&self) -> &AnyPool {
        &self.outbox
    }

    /// The connection pool, for a platform's own queries next to Airlock's.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Close every connection (a SQLite file is then safe to copy).
    pub async fn close(&self) {
        self.outbox.close().await;
        self.pool.close().await;
    }
}

/// Open one connection to a SQLite file the way the pool will, settings included, so a file
/// that is not a database or cannot be written is named at once: the pool would retry its
/// failing `after_connect` until the acquire timeout, then report only the timeout.
async fn probe_sqlite(url: &str) -> Result<(), DbError> {
    use sqlx::Connection as _;
    let path = url
        .strip_prefix("sqlite://")
        .unwrap_or(url)
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut conn = AnyConnection::connect(url)
        .await
        .map_err(|cause| sqlite_open_error(&path, cause))?;
    let mut set = sqlite_pragmas(&mut conn, false).await;
    if set.is_ok() {
        // A database opened read-only reads fine (and keeps WAL if it had it), then fails at
        // the first write: rewriting its header (the unchanged user version) finds out now.
        set = rewrite_header(&mut conn).await;
    }
    // The probe's connection only; the pool opens its own.
    let _ = conn.close().await;
    set.map_err(|cause| sqlite_open_error(&path, cause))
}

/// Write the database header without changing it: fails on a read-only database.
async fn rewrite_header(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&mut *conn)
        .await?;
    // An integer the database itself returned: nothing to inject.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA user_version = {version}"
    )))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What a failure to open or set up a SQLite file means, by SQLite's result code.
fn sqlite_open_error(path: &str, cause: sqlx::Error) -> DbError {
    // Primary result codes: extended codes keep them in the low byte.
    const SQLITE_READONLY: i64 = 8;
    const SQLITE_NOTADB: i64 = 26;
    let code = cause
        .as_database_error()
        .and_then(|e| e.code())
        .and_then(|c| c.parse::<i64>().ok())
        .map(|c| c & 0xff);
    let path = path.to_owned();
    match code {
        Some(SQLITE_NOTADB) => DbError::NotSqlite { path },
        Some(SQLITE_READONLY) => DbError::ReadOnly { path },
        _ => DbError::CannotOpen { path, cause },
    }
}

/// How many connections, how long to wait for one, and SQLite's settings on each.
fn pool_options(backend: Backend, memory: bool) -> AnyPoolOptions {
    AnyPoolOptions::new()
        // Fail in seconds, not sqlx's default 30, when the server is not there.
        .acquire_timeout(std::time::Duration::from_secs(5))
        // An in-memory SQLite database exists once per connection: keep exactly one.
        .max_connections(if memory {
            1
        } else if backend == Backend::Sqlite {
            4
        } else {
            8
        })
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    sqlite_pragmas(conn, memory).await?;
                }
                Ok(())
            })
        })
}

/// Foreign keys on, a busy timeout instead of immediate `SQLITE_BUSY`, and WAL for files.
async fn sqlite_pragmas(conn: &mut AnyConnection, memory: bool) -> Result<(), sqlx::Error> {
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await?;
    sqlx::query("PRAGMA busy_timeout = 5000")
        .execute(&mut *conn)
        .await?;
    if !memory {
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

fn normalise(url: &str) -> Result<(Backend, String), DbError> {
    if url == "sqlite::memory:" {
        return Ok((Backend::Sqlite, url.to_owned()));
    }
    if let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        if rest.is_empty() {
            return Err(DbError::BadUrl(url.to_owned()));
        }
        // Create the file if it does not exist yet, unless the caller chose a mode.
        let url = if rest.contains("mode=") {
            format!("sqlite://{rest}")
        } else if rest.contains('?') {
            format!("sqlite://{rest}&mode=rwc")
        } else {
            format!("sqlite://{rest}?mode=rwc")
        };
        return Ok((Backend::Sqlite, url));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_owned()));
    }
    Err(DbError::BadUrl(url.chars().take(200).collect()))
}

/// Rows one multi-row statement carries. Every such statement has exactly this many (short
/// batches are padded with rows that match or insert nothing), so each has one shape and is
/// prepared once per connection, not parsed again for every batch.
pub(crate) const BULK_ROWS: usize = 64;

/// Writes a statement's parameters in the order they are bound: `$1, $2, …` on PostgreSQL,
/// anonymous `?` on SQLite. sqlx matches each numbered SQLite parameter to its value by a
/// linear walk of the statement's parameter names, so binding hundreds of them costs the
/// square of their number; anonymous ones are bound in order at no such cost.
pub(crate) struct Params {
    numbered: bool,
    next: usize,
}

impl Params {
    /// Parameters for a statement on `backend`.
    pub(crate) fn new(backend: Backend) -> Params {
        Params {
            numbered: backend == Backend::Postgres,
            next: 0,
        }
    }

    /// The next parameter.
    pub(crate) fn one(&mut self) -> String {
        self.next += 1;
        if self.numbered {
            format!("${}", self.next)
        } else {
            "?".to_owned()
        }
    }

    /// `n` parameters, comma separated.
    pub(crate) fn list(&mut self, n: usize) -> String {
        (0..n).map(|_| self.one()).collect::<Vec<_>>().join(", ")
    }

    /// `rows` parenthesised rows of `cols` parameters each, for a multi-row `VALUES` list.
    pub(crate) fn rows(&mut self, rows: usize, cols: usize) -> String {
        (0..rows)
            .map(|_| format!("({})", self.list(cols)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `column` as a condition SQLite's planner will not choose an index for: `+column` on
/// SQLite, `column` itself on PostgreSQL (where `+` on text is no operator). Without
/// statistics, SQLite prefers an equality on an indexed column (`state = 'queued'`) to a
/// primary key's `IN` list, and so walked every queued delivery, or every event not yet
/// fanned out, to update the few a statement names: 5 ms a statement behind a 20 000-event
/// backlog, with the write lock held.
pub(crate) fn unindexed(backend: Backend, column: &str) -> String {
    match backend {
        Backend::Sqlite => format!("+{column}"),
        Backend::Postgres => column.to_owned(),
    }
}

/// Milliseconds since the Unix epoch (the system clock the outbox also reads).
pub(crate) fn now_ms() -> i64 {
    crate::outbox::Clock::now_ms(&crate::outbox::SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_normalised_or_refused_with_the_accepted_forms() {
        assert_eq!(
            normalise("sqlite://demo.db").unwrap(),
            (Backend::Sqlite, "sqlite://demo.db?mode=rwc".into())
        );
        assert_eq!(
            normalise("sqlite:demo.db").unwrap().1,
            "sqlite://demo.db?mode=rwc"
        );
        assert_eq!(
            normalise("sqlite://x.db?mode=ro").unwrap().1,
            "sqlite://x.db?mode=ro"
        );
        assert_eq!(
            normalise("postgres://root@127.0.0.1/test").unwrap().0,
            Backend::Postgres
        );
        for bad in ["mysql://x", "demo.db", "sqlite://", ""] {
            let err = normalise(bad).unwrap_err().to_string();
            assert!(err.contains("sqlite://path/to/file.db"), "{err}");
        }
    }
}
