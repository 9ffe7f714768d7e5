//! The outbox's hot statements, checked against SQLite's query planner: each finds its rows
//! by an index range or the primary key, never by walking every queued delivery or every
//! event not yet fanned out (a planner choice that held the write lock for 5 ms a statement
//! behind a 20 000-event backlog).

use sqlx::{AssertSqlSafe, Row};

use super::claim::claim_shares_sql;
use super::write::mark_sql;
use crate::db::{Backend, Db};

/// SQLite's plan for `sql`, one line per step.
async fn plan(db: &Db, sql: &str) -> Vec<String> {
    sqlx::query(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
        .fetch_all(db.pool())
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String, _>("detail").unwrap())
        .collect()
}

#[tokio::test]
async fn a_claim_reads_index_ranges_and_updates_by_primary_key() {
    let db = Db::connect("sqlite::memory:").await.unwrap();
    let steps = plan(&db, &claim_shares_sql(Backend::Sqlite)).await;
    let text = steps.join("\n");
    // The update finds the picked rows by id...
    assert!(
        steps
            .iter()
            .any(|s| s.contains("SEARCH deliveries USING INDEX sqlite_autoindex_deliveries_1")),
        "{text}"
    );
    // ...each installation's share is one range of the queue's index, in order...
    assert!(
        steps
            .iter()
            .any(|s| s.contains("deliveries_queue (state=? AND installation_id=? AND next_at<?)")),
        "{text}"
    );
    // ...with nothing sorted and no walk of the whole queue.
    assert!(!text.contains("TEMP B-TREE"), "{text}");
    assert!(!text.contains("deliveries_queue (state=?)"), "{text}");
}

#[tokio::test]
async fn marking_events_fanned_out_finds_them_by_primary_key() {
    let db = Db::connect("sqlite::memory:").await.unwrap();
    let steps = plan(&db, &mark_sql(Backend::Sqlite)).await;
    let text = steps.join("\n");
    assert!(
        steps
            .iter()
            .any(|s| s.contains("USING INDEX sqlite_autoindex_events_1 (id=?)")),
        "{text}"
    );
    assert!(!text.contains("fanned_out=?"), "{text}");
}
