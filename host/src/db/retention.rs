//! Retention: finished deliveries, the events they came from and audit lines older than a
//! window are deleted, so the database grows with traffic per window, not forever. Queued
//! and running deliveries (and their events) are never pruned, whatever their age.

use super::{Db, DbError};

/// What one prune deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Pruned {
    /// Delivered, skipped or dead deliveries last changed before the window.
    pub deliveries: u64,
    /// Events that occurred before the window with no delivery left.
    pub events: u64,
    /// Audit lines written before the audit window.
    pub audit_lines: u64,
}

/// Delete finished deliveries last changed before `before`, then events that occurred before
/// it and have no delivery left (and were fanned out), then audit lines written before
/// `audit_before`; each in its own statement, so a large prune does not hold one long lock.
pub(crate) async fn prune(db: &Db, before: i64, audit_before: i64) -> Result<Pruned, DbError> {
    let deliveries = sqlx::query(
        "DELETE FROM deliveries WHERE state IN ('delivered', 'skipped', 'dead') AND updated_at < $1",
    )
    .bind(before)
    .execute(&db.pool)
    .await
    .map_err(DbError::sql("prune deliveries"))?
    .rows_affected();
    let events = sqlx::query(
        "DELETE FROM events WHERE occurred_at < $1 AND fanned_out = 1 \
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id)",
    )
    .bind(before)
    .execute(&db.pool)
    .await
    .map_err(DbError::sql("prune events"))?
    .rows_affected();
    let audit_lines = sqlx::query("DELETE FROM audit_log WHERE at < $1")
        .bind(audit_before)
        .execute(&db.pool)
        .await
        .map_err(DbError::sql("prune audit lines"))?
        .rows_affected();
    Ok(Pruned {
        deliveries,
        events,
        audit_lines,
    })
}
