//! Per-plan and per-connector limit overrides, stored as JSON.

use sqlx::Row;

use super::{Db, DbError, now_ms};
use crate::ids::MerchantId;
use crate::runtime::LimitOverrides;

fn parse(text: Option<String>, whose: &str) -> Result<LimitOverrides, DbError> {
    match text {
        None => Ok(LimitOverrides::default()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| DbError::Corrupt(format!("limits of {whose}: {e}"))),
    }
}

fn to_json(overrides: &LimitOverrides) -> Result<String, DbError> {
    serde_json::to_string(overrides).map_err(|e| DbError::Corrupt(format!("limits: {e}")))
}

/// Replace a plan's overrides; false when there is no such plan.
pub(crate) async fn set_plan(
    db: &Db,
    plan: &str,
    overrides: &LimitOverrides,
) -> Result<bool, DbError> {
    let stored = (!overrides.is_empty())
        .then(|| to_json(overrides))
        .transpose()?;
    let done = sqlx::query("UPDATE plans SET limits = $1 WHERE id = $2")
        .bind(stored)
        .bind(plan)
        .execute(&db.pool)
        .await
        .map_err(DbError::sql("write plan limits"))?;
    Ok(done.rows_affected() == 1)
}

/// Replace a connector's overrides (for every merchant that installs it).
pub(crate) async fn set_connector(
    db: &Db,
    connector: &str,
    overrides: &LimitOverrides,
    by: &str,
) -> Result<(), DbError> {
    let err = || DbError::sql("write connector limits");
    let mut tx = db.pool.begin().await.map_err(err())?;
    sqlx::query("DELETE FROM connector_limits WHERE connector_id = $1")
        .bind(connector)
        .execute(&mut *tx)
        .await
        .map_err(err())?;
    if !overrides.is_empty() {
        sqlx::query(
            "INSERT INTO connector_limits (connector_id, limits, set_by, set_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(connector)
        .bind(to_json(overrides)?)
        .bind(by)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(err())?;
    }
    tx.commit().await.map_err(err())
}

/// The overrides of `merchant`'s plan and of `connector`, in one query: it runs before every
/// invocation.
pub(crate) async fn overrides(
    db: &Db,
    merchant: &MerchantId,
    connector: &str,
) -> Result<(LimitOverrides, LimitOverrides), DbError> {
    let err = || DbError::sql("read limits");
    let row = sqlx::query(
        "SELECT p.limits AS plan_limits, c.limits AS connector_limits \
         FROM merchants m JOIN plans p ON p.id = m.plan_id \
         LEFT JOIN connector_limits c ON c.connector_id = $2 WHERE m.id = $1",
    )
    .bind(merchant.as_str())
    .bind(connector)
    .fetch_optional(&db.pool)
    .await
    .map_err(err())?;
    let (plan, conn): (Option<String>, Option<String>) = match row {
        Some(row) => (
            row.try_get("plan_limits").map_err(err())?,
            row.try_get("connector_limits").map_err(err())?,
        ),
        None => (None, None),
    };
    Ok((
        parse(plan, &format!("the plan of {merchant}"))?,
        parse(conn, connector)?,
    ))
}
