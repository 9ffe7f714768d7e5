//! Reads for many installations at once: a dispatcher about to run a batch of claimed
//! deliveries reads their installations, approvals and limit overrides in three queries,
//! not three per delivery.

use std::collections::HashMap;

use sqlx::{AnyPool, AssertSqlSafe, Row};

use super::registry::{INSTALLATION_COLUMNS, InstallationRow, installation_from};
use super::{BULK_ROWS, Db, DbError, Params};
use crate::grants::Scope;
use crate::ids::InstallationId;

/// `ids` in lists of [`BULK_ROWS`], each padded with its first id to keep one shape.
fn padded<T: Clone>(ids: &[T]) -> Vec<Vec<T>> {
    ids.chunks(BULK_ROWS)
        .map(|chunk| {
            let mut list = chunk.to_vec();
            list.resize(BULK_ROWS, chunk[0].clone());
            list
        })
        .collect()
}

/// The installations with these ids (those that still exist), with their approvals.
pub(crate) async fn installations(
    db: &Db,
    ids: &[InstallationId],
) -> Result<Vec<InstallationRow>, DbError> {
    let mut rows = Vec::with_capacity(ids.len());
    let sql = format!(
        "SELECT {INSTALLATION_COLUMNS} FROM installations WHERE id IN ({})",
        Params::new(db.backend()).list(BULK_ROWS)
    );
    for chunk in padded(ids) {
        let mut query = sqlx::query(AssertSqlSafe(sql.clone()));
        for id in &chunk {
            query = query.bind(id.as_str());
        }
        for row in query
            .fetch_all(db.outbox())
            .await
            .map_err(DbError::sql("read installations"))?
        {
            rows.push(installation_from(&row, "read installations")?);
        }
    }
    approvals(db, db.outbox(), &mut rows).await?;
    Ok(rows)
}

/// Fill in each row's approvals, sorted by scope, read `on` one of `db`'s pools.
pub(crate) async fn approvals(
    db: &Db,
    on: &AnyPool,
    rows: &mut [InstallationRow],
) -> Result<(), DbError> {
    let read = || DbError::sql("read grants");
    let mut found: HashMap<String, Vec<(Scope, String, i64)>> = HashMap::new();
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let sql = format!(
        "SELECT installation_id, scope, approved_by, approved_at FROM grants \
         WHERE installation_id IN ({}) ORDER BY installation_id, scope",
        Params::new(db.backend()).list(BULK_ROWS)
    );
    for chunk in padded(&ids) {
        let mut query = sqlx::query(AssertSqlSafe(sql.clone()));
        for id in chunk {
            query = query.bind(id);
        }
        for g in query.fetch_all(on).await.map_err(read())? {
            let id: String = g.try_get("installation_id").map_err(read())?;
            let name: String = g.try_get("scope").map_err(read())?;
            // A scope this host no longer knows grants nothing; skip it rather than fail.
            let Ok(scope) = name.parse::<Scope>() else {
                tracing::warn!(
                    installation = %id.chars().take(64).collect::<String>(),
                    scope = %name.chars().take(64).collect::<String>(),
                    "skipping an approval of a scope this host does not know"
                );
                continue;
            };
            let by: String = g.try_get("approved_by").map_err(read())?;
            let at: i64 = g.try_get("approved_at").map_err(read())?;
            found.entry(id).or_default().push((scope, by, at));
        }
    }
    for row in rows {
        row.approvals = found.remove(row.id.as_str()).unwrap_or_default();
    }
    Ok(())
}

/// The stored limit overrides (plan's, connector's: matched on the artifact's connector id and
/// publisher) of each of these installations; one that is gone is missing.
pub(crate) async fn limit_overrides(
    db: &Db,
    ids: &[InstallationId],
) -> Result<HashMap<InstallationId, (Option<String>, Option<String>)>, DbError> {
    let err = || DbError::sql("read limits");
    let mut out = HashMap::with_capacity(ids.len());
    let sql = format!(
        "SELECT i.id AS id, p.limits AS plan_limits, c.limits AS connector_limits \
         FROM installations i JOIN merchants m ON m.id = i.merchant_id \
         JOIN plans p ON p.id = m.plan_id \
         LEFT JOIN artifacts a ON a.digest = i.digest \
         LEFT JOIN publisher_connector_limits c \
           ON c.connector_id = a.connector_id AND c.publisher = a.publisher \
         WHERE i.id IN ({})",
        Params::new(db.backend()).list(BULK_ROWS)
    );
    for chunk in padded(ids) {
        let mut query = sqlx::query(AssertSqlSafe(sql.clone()));
        for id in &chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(db.outbox()).await.map_err(err())? {
            let id: String = row.try_get("id").map_err(err())?;
            out.insert(
                InstallationId::new(id),
                (
                    row.try_get("plan_limits").map_err(err())?,
                    row.try_get("connector_limits").map_err(err())?,
                ),
            );
        }
    }
    Ok(out)
}
