//! `airlock demo` and `airlock init`: the demo store, fresh with the example connector, or
//! only seeded.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use airlock_host::Host;
use airlock_host::demo::{DEMO_MERCHANT, OTHER_MERCHANT, seed};
use airlock_host::prompt::Language;

use super::Ctx;
use crate::print;

const DEMO_DB: &str = "sqlite://airlock-demo.db";

/// `airlock demo`: a fresh store at `db` (default `airlock-demo.db`), then the whole tour.
/// The compile cache is kept: it holds no store data, and a second demo loads the connector
/// from it instead of compiling.
pub async fn demo(
    db: Option<String>,
    compile_cache: Option<PathBuf>,
    lang: Language,
    json: bool,
) -> Result<()> {
    let url = db.unwrap_or_else(|| DEMO_DB.to_owned());
    fresh_sqlite(&url).await?;
    let cache = super::compile_cache_dir(compile_cache.as_deref(), &url);
    let report = crate::demo::run(&url, cache, lang).await?;
    print::demo(&report, json)
}

/// `airlock init`: the schema and the demo merchants.
pub async fn init(host: &Host, ctx: &Ctx) -> Result<()> {
    seed(host).await?;
    let url = &ctx.url;
    print::value(
        &serde_json::json!({ "database": url, "merchants": [DEMO_MERCHANT, OTHER_MERCHANT] }),
        ctx.json,
        || format!("seeded {url}: merchants `{DEMO_MERCHANT}` and `{OTHER_MERCHANT}`"),
    )
}

/// The demo promises a fresh store: remove an earlier demo SQLite file (and its WAL files),
/// but never a database that is not a demo store.
async fn fresh_sqlite(url: &str) -> Result<()> {
    let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return Ok(());
    };
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.contains(":memory:") || !std::path::Path::new(path).exists() {
        return Ok(());
    }
    if !is_demo_store(path).await {
        bail!(
            "{path} exists and is not an Airlock demo database; the demo starts from a fresh \
             store, so give it a new path with --db sqlite://another.db"
        );
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{path}{suffix}");
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| format!("removing the old demo database {file}"));
            }
        }
    }
    Ok(())
}

/// True when `path` is a SQLite database holding the demo merchant (opened read-only).
async fn is_demo_store(path: &str) -> bool {
    use sqlx::Connection;
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true);
    let Ok(mut conn) = sqlx::SqliteConnection::connect_with(&options).await else {
        return false;
    };
    let found = sqlx::query("SELECT id FROM merchants WHERE id = $1")
        .bind(DEMO_MERCHANT)
        .fetch_optional(&mut conn)
        .await;
    let _ = conn.close().await;
    matches!(found, Ok(Some(_)))
}
