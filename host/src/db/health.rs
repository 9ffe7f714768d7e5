//! What an installation's health is read from: the end lines of its recent calls in the audit
//! log (deliveries and health checks), the age of its oldest undelivered event, and apps the
//! merchant removed lately.

use sqlx::Row;

use super::{Db, DbError};
use crate::ids::{InstallationId, MerchantId};

/// One recent try as the audit log's end line recorded it.
#[derive(Debug, Clone)]
pub(crate) struct Try {
    pub at: i64,
    /// `done`, `failed: CODE`, `failed` or `aborted: CODE`.
    pub outcome: String,
}

/// The newest `limit` tries of `installation` (deliveries, direct calls, health checks).
pub(crate) async fn recent_tries(
    db: &Db,
    installation: &InstallationId,
    limit: u32,
) -> Result<Vec<Try>, DbError> {
    let rows = sqlx::query(
        "SELECT at, outcome FROM audit_log WHERE installation_id = $1 \
         AND action IN ('invoke', 'health-check') ORDER BY id DESC LIMIT $2",
    )
    .bind(installation.as_str())
    .bind(i64::from(limit))
    .fetch_all(&db.pool)
    .await
    .map_err(DbError::sql("read recent tries"))?;
    rows.iter()
        .map(|row| {
            Ok(Try {
                at: row
                    .try_get("at")
                    .map_err(DbError::sql("read recent tries"))?,
                outcome: row
                    .try_get("outcome")
                    .map_err(DbError::sql("read recent tries"))?,
            })
        })
        .collect()
}

/// When the oldest event still waiting for `installation` occurred (queued or running).
pub(crate) async fn oldest_undelivered(
    db: &Db,
    installation: &InstallationId,
) -> Result<Option<i64>, DbError> {
    let row = sqlx::query(
        "SELECT MIN(occurred_at) AS oldest FROM deliveries \
         WHERE installation_id = $1 AND state IN ('queued', 'running')",
    )
    .bind(installation.as_str())
    .fetch_one(&db.pool)
    .await
    .map_err(DbError::sql("read the oldest undelivered event"))?;
    row.try_get::<Option<i64>, _>("oldest")
        .map_err(DbError::sql("read the oldest undelivered event"))
}

/// Apps `merchant` removed since `since`: (installation id, when, the audit detail, which
/// starts with the connector id).
pub(crate) async fn removed_since(
    db: &Db,
    merchant: &MerchantId,
    since: i64,
) -> Result<Vec<(String, i64, String)>, DbError> {
    let rows = sqlx::query(
        "SELECT installation_id, at, detail FROM audit_log WHERE merchant_id = $1 \
         AND action = 'uninstall' AND at >= $2 ORDER BY id DESC LIMIT 50",
    )
    .bind(merchant.as_str())
    .bind(since)
    .fetch_all(&db.pool)
    .await
    .map_err(DbError::sql("read removed apps"))?;
    rows.iter()
        .map(|row| {
            let read = || DbError::sql("read removed apps");
            Ok((
                row.try_get::<Option<String>, _>("installation_id")
                    .map_err(read())?
                    .unwrap_or_default(),
                row.try_get("at").map_err(read())?,
                row.try_get("detail").map_err(read())?,
            ))
        })
        .collect()
}

/// Every active installation, of every merchant: what periodic health checks run over.
pub(crate) async fn active_installations(
    db: &Db,
) -> Result<Vec<(MerchantId, InstallationId)>, DbError> {
    let rows = sqlx::query(
        "SELECT merchant_id, id FROM installations WHERE status = 'active' ORDER BY merchant_id, id",
    )
    .fetch_all(&db.pool)
    .await
    .map_err(DbError::sql("read active installations"))?;
    rows.iter()
        .map(|row| {
            let read = || DbError::sql("read active installations");
            Ok((
                MerchantId::new(row.try_get::<String, _>("merchant_id").map_err(read())?),
                InstallationId::new(row.try_get::<String, _>("id").map_err(read())?),
            ))
        })
        .collect()
}

/// Every merchant's id, in order: what `airlock health` without `--merchant` covers.
pub(crate) async fn merchants(db: &Db) -> Result<Vec<MerchantId>, DbError> {
    let rows = sqlx::query("SELECT id FROM merchants ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .map_err(DbError::sql("read merchants"))?;
    rows.iter()
        .map(|row| {
            row.try_get::<String, _>("id")
                .map(MerchantId::new)
                .map_err(DbError::sql("read merchants"))
        })
        .collect()
}

/// The cause code and words of `installation`'s most recent failed delivery try, if any.
pub(crate) async fn last_failure(
    db: &Db,
    installation: &InstallationId,
) -> Result<Option<(String, String)>, DbError> {
    let row = sqlx::query(
        "SELECT last_code, last_detail FROM deliveries WHERE installation_id = $1 \
         AND last_code IS NOT NULL ORDER BY updated_at DESC, id LIMIT 1",
    )
    .bind(installation.as_str())
    .fetch_optional(&db.pool)
    .await
    .map_err(DbError::sql("read the last failure"))?;
    let Some(row) = row else { return Ok(None) };
    let read = || DbError::sql("read the last failure");
    Ok(Some((
        row.try_get("last_code").map_err(read())?,
        row.try_get::<Option<String>, _>("last_detail")
            .map_err(read())?
            .unwrap_or_default(),
    )))
}
