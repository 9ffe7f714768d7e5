//! The outbox's hot statements, checked against SQLite's query planner: each finds its rows
//! by an index range or the primary key, never by walking every queued delivery or every
//! event not yet fanned out (a planner choice that held the write lock for 5 ms a statement
//! behind a 20 000-event backlog).

use sqlx::{AssertSqlSafe, Row};

use super::UNFANNED_OF_MERCHANT;
use super::claim::claim_shares_sql;
use super::write::mark_sql;
use crate::db::{Backend, Db};

/// Check SQLite's plan for `sql`: some step holds each of `wanted`, no step any of `never`.
async fn check_plan(sql: &str, wanted: &[&str], never: &[&str]) {
    let db = Db::connect("sqlite::memory:").await.unwrap();
    let steps: Vec<String> = sqlx::query(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
        .fetch_all(db.pool())
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String, _>("detail").unwrap())
        .collect();
    let text = steps.join("\n");
    for want in wanted {
        assert!(
            steps.iter().any(|s| s.contains(want)),
            "no `{want}` in:\n{text}"
        );
    }
    for bad in never {
        assert!(!text.contains(bad), "`{bad}` in:\n{text}");
    }
}

#[tokio::test]
async fn a_claim_reads_index_ranges_and_updates_by_primary_key() {
    check_plan(
        &claim_shares_sql(Backend::Sqlite),
        // The update finds the picked rows by id; each installation's share is one range of
        // the queue's index, in order...
        &[
            "SEARCH deliveries USING INDEX sqlite_autoindex_deliveries_1",
            "deliveries_queue (state=? AND installation_id=? AND next_at<?)",
        ],
        // ...with nothing sorted and no walk of the whole queue.
        &["TEMP B-TREE", "deliveries_queue (state=?)"],
    )
    .await;
}

#[tokio::test]
async fn marking_events_fanned_out_finds_them_by_primary_key() {
    check_plan(
        &mark_sql(Backend::Sqlite),
        &["USING INDEX sqlite_autoindex_events_1 (id=?)"],
        &["fanned_out=?"],
    )
    .await;
}

#[tokio::test]
async fn a_merchants_new_events_are_one_index_range_in_order() {
    check_plan(
        UNFANNED_OF_MERCHANT,
        &["events_unfanned (fanned_out=? AND merchant_id=?)"],
        // A burst emitted in one millisecond is not read and sorted whole.
        &["TEMP B-TREE"],
    )
    .await;
}
