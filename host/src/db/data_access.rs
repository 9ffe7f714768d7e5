//! The audit-log sums behind the data-access report: one grouped query per app over the
//! window, through the `(installation_id, id)` index. Only connector lines count (what the
//! app did, not what people did to it).

use sqlx::Row;

use super::{Db, DbError};
use crate::ids::InstallationId;

/// One group of an app's audit lines: an action with its scope and outcome (and, for
/// outbound requests and keys, its detail), how many lines and their records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccessSum {
    /// `orders.get`, `http`, `key`, …
    pub action: String,
    /// The scope, for a host function that needs one.
    pub scope: Option<String>,
    /// `ok`, `denied`, an HTTP status, `refused`, …
    pub outcome: String,
    /// The origin line (`http`) or the key name (`key`); empty otherwise.
    pub detail: String,
    /// Lines in the group.
    pub lines: i64,
    /// Their records summed.
    pub records: i64,
}

/// `installation`'s connector lines since `since` (ms), grouped.
pub(crate) async fn sums(
    db: &Db,
    installation: &InstallationId,
    since: i64,
) -> Result<Vec<AccessSum>, DbError> {
    let rows = sqlx::query(
        "SELECT action, scope, outcome, \
           CASE WHEN action IN ('http', 'key') THEN detail ELSE '' END AS d, \
           COUNT(*) AS lines, CAST(COALESCE(SUM(records), 0) AS BIGINT) AS records \
         FROM audit_log WHERE installation_id = $1 AND at >= $2 AND actor = 'connector' \
         GROUP BY action, scope, outcome, d",
    )
    .bind(installation.as_str())
    .bind(since)
    .fetch_all(&db.pool)
    .await
    .map_err(DbError::sql("read the data-access report"))?;
    rows.iter()
        .map(|row| {
            Ok(AccessSum {
                action: row.try_get("action")?,
                scope: row.try_get("scope")?,
                outcome: row.try_get("outcome")?,
                detail: row.try_get("d")?,
                lines: row.try_get("lines")?,
                records: row.try_get("records")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(DbError::sql("read the data-access report"))
}
