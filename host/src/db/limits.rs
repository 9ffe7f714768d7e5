//! Per-plan and per-connector limit overrides, stored as JSON text (the host layer owns their
//! shape: see `host/limits.rs`).

use super::{Db, DbError, now_ms};

/// Replace a plan's overrides (`None` clears them); false when there is no such plan.
pub(crate) async fn set_plan(db: &Db, plan: &str, limits: Option<&str>) -> Result<bool, DbError> {
    let done = sqlx::query("UPDATE plans SET limits = $1 WHERE id = $2")
        .bind(limits)
        .bind(plan)
        .execute(&db.pool)
        .await
        .map_err(DbError::sql("write plan limits"))?;
    Ok(done.rows_affected() == 1)
}

/// Replace the overrides of `publisher`'s connector `connector` (for every merchant that
/// installs it); `None` clears them. Keyed by both, so another publisher's manifest that
/// borrows the id gets none of them.
pub(crate) async fn set_connector(
    db: &Db,
    publisher: &str,
    connector: &str,
    limits: Option<&str>,
    by: &str,
) -> Result<(), DbError> {
    let err = || DbError::sql("write connector limits");
    let mut tx = db.pool.begin().await.map_err(err())?;
    sqlx::query(
        "DELETE FROM publisher_connector_limits WHERE publisher = $1 AND connector_id = $2",
    )
    .bind(publisher)
    .bind(connector)
    .execute(&mut *tx)
    .await
    .map_err(err())?;
    if let Some(limits) = limits {
        sqlx::query(
            "INSERT INTO publisher_connector_limits (publisher, connector_id, limits, set_by, set_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(publisher)
        .bind(connector)
        .bind(limits)
        .bind(by)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(err())?;
    }
    tx.commit().await.map_err(err())
}
