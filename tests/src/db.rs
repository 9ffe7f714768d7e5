//! A database of its own for every test: SQLite always, PostgreSQL when configured.

use std::sync::OnceLock;

use sqlx::Connection;

/// The PostgreSQL server tests may use: `AIRLOCK_TEST_POSTGRES`, else `DATABASE_URL`.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var("AIRLOCK_TEST_POSTGRES")
        .ok()
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .filter(|u| u.starts_with("postgres"));
    if url.is_none() && std::env::var_os("AIRLOCK_REQUIRE_POSTGRES").is_some() {
        panic!(
            "AIRLOCK_REQUIRE_POSTGRES is set but neither DATABASE_URL nor AIRLOCK_TEST_POSTGRES names a PostgreSQL server"
        );
    }
    static SAID: OnceLock<()> = OnceLock::new();
    if url.is_none() {
        SAID.get_or_init(|| {
            eprintln!("note: PostgreSQL tests skipped: set DATABASE_URL or AIRLOCK_TEST_POSTGRES to run them");
        });
    }
    url
}

/// A database of its own for one test; dropped (PostgreSQL) or deleted (SQLite) by `finish`.
pub struct TestDb {
    /// URL to open.
    pub url: String,
    admin: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A new SQLite file in a temporary directory.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("airlock.db").display());
        TestDb {
            url,
            admin: None,
            _dir: Some(dir),
        }
    }

    /// A new PostgreSQL database on the configured server, if there is one.
    pub async fn postgres() -> Option<TestDb> {
        let admin = postgres_url()?;
        let name = format!("airlock_t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("connect to PostgreSQL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        conn.close().await.ok();
        Some(TestDb {
            url: replace_database(&admin, &name),
            admin: Some((admin, name)),
            _dir: None,
        })
    }

    /// Every backend this run can test: SQLite always, PostgreSQL when configured.
    pub async fn all() -> Vec<TestDb> {
        let mut dbs = vec![TestDb::sqlite()];
        dbs.extend(TestDb::postgres().await);
        dbs
    }

    /// Remove the database now (a panicking test still removes it, in `Drop`).
    pub async fn finish(mut self) {
        if let Some((admin, name)) = self.admin.take() {
            drop_database(&admin, &name).await;
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.admin.take() else {
            return;
        };
        // Drop may run inside a test's runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(drop_database(&admin, &name));
            }
        })
        .join();
    }
}

async fn drop_database(admin: &str, name: &str) {
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn test_database_urls_keep_host_and_options() {
        assert_eq!(
            replace_database("postgres://root@127.0.0.1:5432/test", "x"),
            "postgres://root@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database("postgres://h/db?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://h", "x"), "postgres://h/x");
    }
}
