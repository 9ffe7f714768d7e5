//! Lifecycle changes of installations: revoke, disable, enable, uninstall. Each is one
//! transaction; the caller then signals running invocations (see the `live` module).

use sqlx::{AssertSqlSafe, Row};

use super::registry::{APPROVED_STATUS, Versions};
use super::{Db, DbError, now_ms};
use crate::commerce::DataError;
use crate::grants::{Scope, ScopeSet};
use crate::ids::InstallationId;
use crate::live::GrantSource;
use crate::status::InstallationStatus;

/// Re-reads approvals for invocations in flight.
pub(crate) struct SqlGrants {
    db: Db,
}

impl SqlGrants {
    pub fn new(db: Db) -> Self {
        SqlGrants { db }
    }
}

#[async_trait::async_trait]
impl GrantSource for SqlGrants {
    async fn approved(&self, installation: &InstallationId) -> Result<Option<ScopeSet>, DataError> {
        let status = sqlx::query("SELECT status FROM installations WHERE id = $1")
            .bind(installation.as_str())
            .fetch_optional(&self.db.pool)
            .await?;
        let active = match status {
            Some(row) => row.try_get::<String, _>("status")? == InstallationStatus::Active.as_str(),
            None => false,
        };
        if !active {
            return Ok(None);
        }
        let rows = sqlx::query("SELECT scope FROM grants WHERE installation_id = $1")
            .bind(installation.as_str())
            .fetch_all(&self.db.pool)
            .await?;
        let mut approved = ScopeSet::EMPTY;
        for row in rows {
            let name = row.try_get::<String, _>("scope")?;
            match name.parse::<Scope>() {
                Ok(scope) => approved = approved.with(scope),
                // A scope this host no longer knows grants nothing.
                Err(_) => tracing::warn!(
                    installation = %installation,
                    scope = %name.chars().take(64).collect::<String>(),
                    "ignoring an approval of a scope this host does not know"
                ),
            }
        }
        Ok(Some(approved))
    }
}

/// Move the installation's generation on (and its status, when given) inside `tx`.
async fn bump(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &InstallationId,
    status: Option<InstallationStatus>,
) -> Result<(), DbError> {
    let query = match status {
        Some(status) => sqlx::query(
            "UPDATE installations SET status = $1, generation = generation + 1, updated_at = $2 WHERE id = $3",
        )
        .bind(status.as_str()),
        None => sqlx::query("UPDATE installations SET generation = generation + 1, updated_at = $1 WHERE id = $2"),
    };
    query
        .bind(now_ms())
        .bind(id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(DbError::sql("update installation"))?;
    Ok(())
}

/// Withdraw one approved scope; `false` when it was not approved.
pub(crate) async fn revoke_scope(
    db: &Db,
    id: &InstallationId,
    scope: Scope,
) -> Result<bool, DbError> {
    let mut tx = db.pool.begin().await.map_err(DbError::sql("revoke"))?;
    let done = sqlx::query("DELETE FROM grants WHERE installation_id = $1 AND scope = $2")
        .bind(id.as_str())
        .bind(scope.as_str())
        .execute(&mut *tx)
        .await
        .map_err(DbError::sql("revoke"))?;
    bump(&mut tx, id, None).await?;
    tx.commit().await.map_err(DbError::sql("revoke"))?;
    Ok(done.rows_affected() == 1)
}

/// Withdraw every approval: the installation goes back to awaiting approval.
pub(crate) async fn revoke_all(db: &Db, id: &InstallationId) -> Result<u64, DbError> {
    let mut tx = db.pool.begin().await.map_err(DbError::sql("revoke"))?;
    let done = sqlx::query("DELETE FROM grants WHERE installation_id = $1")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(DbError::sql("revoke"))?;
    bump(&mut tx, id, Some(InstallationStatus::Pending)).await?;
    tx.commit().await.map_err(DbError::sql("revoke"))?;
    Ok(done.rows_affected())
}

/// Move the status from `from` to `to` (disable, enable), keeping grants, in one statement
/// that checks `from`: `false`, with nothing written, when the row is no longer at `from`
/// (a full revoke committed first, say), so an enable can never revive a revoked app.
pub(crate) async fn transition(
    db: &Db,
    id: &InstallationId,
    from: InstallationStatus,
    to: InstallationStatus,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE installations SET status = $1, generation = generation + 1, updated_at = $2 \
         WHERE id = $3 AND status = $4",
    )
    .bind(to.as_str())
    .bind(now_ms())
    .bind(id.as_str())
    .bind(from.as_str())
    .execute(&db.pool)
    .await
    .map_err(DbError::sql("update installation"))?;
    Ok(done.rows_affected() == 1)
}

/// What an uninstall deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Deleted {
    /// Keys of the connector's own storage.
    pub storage_keys: u64,
    /// Approved scopes.
    pub grants: u64,
    /// Sealed secrets (API keys).
    pub secrets: u64,
}

/// Delete the installation, its grants, its secrets and its storage, and write the
/// `app.uninstalled` event, in one transaction.
pub(crate) async fn uninstall(
    db: &Db,
    merchant: &crate::ids::MerchantId,
    id: &InstallationId,
    event: &crate::report::Event,
) -> Result<Deleted, DbError> {
    let err = || DbError::sql("uninstall");
    let mut tx = db.pool.begin().await.map_err(err())?;
    let storage = sqlx::query("DELETE FROM connector_storage WHERE installation_id = $1")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(err())?;
    let grants = sqlx::query("DELETE FROM grants WHERE installation_id = $1")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(err())?;
    let secrets = sqlx::query("DELETE FROM secrets WHERE installation_id = $1")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(err())?;
    sqlx::query("DELETE FROM installations WHERE id = $1")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(err())?;
    super::outbox::insert_event(&mut tx, merchant, event).await?;
    tx.commit().await.map_err(err())?;
    Ok(Deleted {
        storage_keys: storage.rows_affected(),
        grants: grants.rows_affected(),
        secrets: secrets.rows_affected(),
    })
}

/// Park a newer version until the merchant approves what it adds (replacing any version
/// waiting before it); `false`, with nothing written, when the row is no longer at `seen`.
pub(crate) async fn set_pending(
    db: &Db,
    id: &InstallationId,
    seen: &Versions,
    artifact: &crate::artifact::Artifact,
) -> Result<bool, DbError> {
    let mut tx = db.pool.begin().await.map_err(DbError::sql("upgrade"))?;
    super::registry::store_artifact(&mut tx, db.backend(), artifact).await?;
    let sql = format!(
        "UPDATE installations SET pending_digest = $1, generation = generation + 1, updated_at = $2 \
         WHERE id = $3 AND {}",
        seen.condition(4)
    );
    let query = sqlx::query(AssertSqlSafe(sql))
        .bind(artifact.digest.to_hex())
        .bind(now_ms())
        .bind(id.as_str());
    let done = seen
        .bind(query)
        .execute(&mut *tx)
        .await
        .map_err(DbError::sql("upgrade"))?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    tx.commit().await.map_err(DbError::sql("upgrade"))?;
    Ok(true)
}

/// Drop the version waiting for approval (the merchant declined it); the running version
/// stays as it was. `false`, with nothing written, when the row is no longer at `seen`.
pub(crate) async fn clear_pending(
    db: &Db,
    id: &InstallationId,
    seen: &Versions,
) -> Result<bool, DbError> {
    let sql = format!(
        "UPDATE installations SET pending_digest = NULL, generation = generation + 1, \
         updated_at = $1 WHERE id = $2 AND {}",
        seen.condition(3)
    );
    let query = sqlx::query(AssertSqlSafe(sql))
        .bind(now_ms())
        .bind(id.as_str());
    let done = seen
        .bind(query)
        .execute(&db.pool)
        .await
        .map_err(DbError::sql("decline an upgrade"))?;
    Ok(done.rows_affected() == 1)
}

/// How a version switch changes the installation's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Switch {
    /// An upgrade applied at once: the status stays.
    Apply,
    /// An approved upgrade: active, except that a disabled app stays disabled.
    Approve,
}

/// Switch the installation to `artifact`, keeping only the approvals in `keep` and adding
/// those in `add`, in one transaction; `false`, with nothing written, when the row is no
/// longer at `seen` (another upgrade or approval came in meanwhile).
#[allow(clippy::too_many_arguments)] // one transaction's inputs; a struct would only rename them
pub(crate) async fn switch_version(
    db: &Db,
    id: &InstallationId,
    seen: &Versions,
    artifact: &crate::artifact::Artifact,
    keep: ScopeSet,
    add: ScopeSet,
    how: Switch,
    by: &str,
) -> Result<bool, DbError> {
    let err = || DbError::sql("upgrade");
    let mut tx = db.pool.begin().await.map_err(err())?;
    let status = match how {
        Switch::Apply => "status",
        Switch::Approve => APPROVED_STATUS,
    };
    let sql = format!(
        "UPDATE installations SET digest = $1, pending_digest = NULL, status = {status}, \
         generation = generation + 1, updated_at = $2 WHERE id = $3 AND {}",
        seen.condition(4)
    );
    let query = sqlx::query(AssertSqlSafe(sql))
        .bind(artifact.digest.to_hex())
        .bind(now_ms())
        .bind(id.as_str());
    super::registry::store_artifact(&mut tx, db.backend(), artifact).await?;
    let done = seen.bind(query).execute(&mut *tx).await.map_err(err())?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    for scope in ScopeSet::all().minus(keep).iter() {
        sqlx::query("DELETE FROM grants WHERE installation_id = $1 AND scope = $2")
            .bind(id.as_str())
            .bind(scope.as_str())
            .execute(&mut *tx)
            .await
            .map_err(err())?;
    }
    for scope in add.minus(keep).iter() {
        sqlx::query("INSERT INTO grants (installation_id, scope, approved_by, approved_at) VALUES ($1, $2, $3, $4)")
            .bind(id.as_str())
            .bind(scope.as_str())
            .bind(by)
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .map_err(err())?;
    }
    tx.commit().await.map_err(err())?;
    Ok(true)
}

/// The status and generation of each of `ids` that still exists.
pub(crate) async fn generations(
    db: &Db,
    ids: &[InstallationId],
) -> Result<Vec<(InstallationId, InstallationStatus, i64)>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id, status, generation FROM installations WHERE id IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(id.as_str());
    }
    let rows = query
        .fetch_all(&db.pool)
        .await
        .map_err(DbError::sql("read installation generations"))?;
    rows.iter()
        .map(|row| {
            let read = || DbError::sql("read installation generations");
            let id = InstallationId::new(row.try_get::<String, _>("id").map_err(read())?);
            let status: String = row.try_get("status").map_err(read())?;
            let status = status
                .parse::<InstallationStatus>()
                .map_err(|e| DbError::Corrupt(format!("installation {id}: {e}")))?;
            Ok((id, status, row.try_get("generation").map_err(read())?))
        })
        .collect()
}
