//! Plans, merchants, artifacts, installations and grants.

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::{Backend, Db, DbError, now_ms};
use crate::artifact::Artifact;
use crate::grants::{Scope, ScopeSet};
use crate::ids::{Digest, InstallationId, MerchantId};
use crate::manifest::Manifest;
use crate::status::InstallationStatus;

/// A merchant's plan: how many connected apps it allows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    /// Plan id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Connected-app slots.
    pub app_slots: i64,
}

/// An installation row with its approvals.
#[derive(Debug, Clone)]
pub(crate) struct InstallationRow {
    pub id: InstallationId,
    pub merchant: MerchantId,
    pub connector_id: String,
    pub digest: String,
    pub status: InstallationStatus,
    /// Moves on every change of status or approvals: how other nodes notice a change.
    pub generation: i64,
    pub installed_at: i64,
    /// A newer version waiting for approval of the scopes it adds.
    pub pending_digest: Option<String>,
    pub approvals: Vec<(Scope, String, i64)>,
}

impl InstallationRow {
    pub fn approved(&self) -> ScopeSet {
        self.approvals.iter().map(|(s, _, _)| *s).collect()
    }
}

pub(crate) async fn put_plan(db: &Db, plan: &Plan) -> Result<(), DbError> {
    sqlx::query("DELETE FROM plans WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM merchants WHERE plan_id = $1)")
        .bind(&plan.id)
        .execute(&db.pool)
        .await
        .map_err(DbError::sql("write plan"))?;
    sqlx::query("UPDATE plans SET name = $2, app_slots = $3 WHERE id = $1")
        .bind(&plan.id)
        .bind(&plan.name)
        .bind(plan.app_slots)
        .execute(&db.pool)
        .await
        .map_err(DbError::sql("write plan"))?;
    sqlx::query("INSERT INTO plans (id, name, app_slots) SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM plans WHERE id = $1)")
        .bind(&plan.id)
        .bind(&plan.name)
        .bind(plan.app_slots)
        .execute(&db.pool)
        .await
        .map_err(DbError::sql("write plan"))?;
    Ok(())
}

pub(crate) async fn put_merchant(
    db: &Db,
    id: &MerchantId,
    name: &str,
    plan: &str,
) -> Result<(), DbError> {
    sqlx::query("UPDATE merchants SET name = $2, plan_id = $3 WHERE id = $1")
        .bind(id.as_str())
        .bind(name)
        .bind(plan)
        .execute(&db.pool)
        .await
        .map_err(DbError::sql("write merchant"))?;
    sqlx::query(
        "INSERT INTO merchants (id, name, plan_id, created_at) SELECT $1, $2, $3, $4 \
         WHERE NOT EXISTS (SELECT 1 FROM merchants WHERE id = $1)",
    )
    .bind(id.as_str())
    .bind(name)
    .bind(plan)
    .bind(now_ms())
    .execute(&db.pool)
    .await
    .map_err(DbError::sql("write merchant"))?;
    Ok(())
}

pub(crate) async fn plan_of(db: &Db, merchant: &MerchantId) -> Result<Option<Plan>, DbError> {
    let row = sqlx::query(
        "SELECT p.id, p.name, p.app_slots FROM merchants m JOIN plans p ON p.id = m.plan_id WHERE m.id = $1",
    )
    .bind(merchant.as_str())
    .fetch_optional(&db.pool)
    .await
    .map_err(DbError::sql("read plan"))?;
    row.map(|r| {
        Ok(Plan {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            app_slots: r.try_get("app_slots")?,
        })
    })
    .transpose()
    .map_err(DbError::sql("read plan"))
}

/// What an install writes; the slot check, both inserts and the `app.installed` event happen
/// in one transaction.
pub(crate) enum InstallOutcome {
    Installed,
    PlanFull { used: i64 },
    AlreadyInstalled(InstallationId),
}

pub(crate) async fn insert_installation(
    db: &Db,
    merchant: &MerchantId,
    plan: &Plan,
    artifact: &Artifact,
    id: &InstallationId,
    event: &crate::report::Event,
) -> Result<InstallOutcome, DbError> {
    let mut tx = db.pool.begin().await.map_err(DbError::sql("install"))?;
    if db.backend() == Backend::Postgres {
        // Serialise installs of one merchant across host nodes so slots cannot be overbooked.
        sqlx::query("SELECT id FROM merchants WHERE id = $1 FOR UPDATE")
            .bind(merchant.as_str())
            .execute(&mut *tx)
            .await
            .map_err(DbError::sql("install"))?;
    }
    if let Some(refused) = refusal(&mut tx, merchant, plan, &artifact.manifest.id).await? {
        return Ok(refused);
    }
    let now = now_ms();
    store_artifact(&mut tx, db.backend(), artifact).await?;
    sqlx::query(
        "INSERT INTO installations (id, merchant_id, connector_id, digest, status, generation, installed_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 0, $6, $6)",
    )
    .bind(id.as_str())
    .bind(merchant.as_str())
    .bind(&artifact.manifest.id)
    .bind(artifact.digest.to_hex())
    .bind(InstallationStatus::Pending.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(DbError::sql("install"))?;
    // `app.installed`, committed with the install or not at all.
    super::outbox::insert_event(&mut tx, merchant, event).await?;
    tx.commit().await.map_err(DbError::sql("install"))?;
    Ok(InstallOutcome::Installed)
}

/// Inside the install transaction: why `connector` cannot be installed for `merchant` (it
/// already is, or the plan has no free slot), if it cannot.
async fn refusal(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    merchant: &MerchantId,
    plan: &Plan,
    connector: &str,
) -> Result<Option<InstallOutcome>, DbError> {
    let existing =
        sqlx::query("SELECT id FROM installations WHERE merchant_id = $1 AND connector_id = $2")
            .bind(merchant.as_str())
            .bind(connector)
            .fetch_optional(&mut **tx)
            .await
            .map_err(DbError::sql("install"))?;
    if let Some(row) = existing {
        let id: String = row.try_get("id").map_err(DbError::sql("install"))?;
        return Ok(Some(InstallOutcome::AlreadyInstalled(InstallationId::new(
            id,
        ))));
    }
    let used: i64 = sqlx::query("SELECT COUNT(*) AS n FROM installations WHERE merchant_id = $1")
        .bind(merchant.as_str())
        .fetch_one(&mut **tx)
        .await
        .and_then(|r| r.try_get("n"))
        .map_err(DbError::sql("install"))?;
    Ok((used >= plan.app_slots).then_some(InstallOutcome::PlanFull { used }))
}

/// Why `connector` cannot be installed for `merchant` now (already installed, or no free
/// slot), read outside any transaction: the cheap check an install makes before compiling.
/// The install transaction checks again, so a concurrent install cannot slip past.
pub(crate) async fn refusal_now(
    db: &Db,
    merchant: &MerchantId,
    plan: &Plan,
    connector: &str,
) -> Result<Option<InstallOutcome>, DbError> {
    let mut tx = db.pool.begin().await.map_err(DbError::sql("install"))?;
    let refused = refusal(&mut tx, merchant, plan, connector).await?;
    tx.rollback().await.map_err(DbError::sql("install"))?;
    Ok(refused)
}

/// Delete the artifact `digest` if no installation runs it or has it waiting; true when
/// deleted.
pub(crate) async fn delete_unused_artifact(db: &Db, digest: &str) -> Result<bool, DbError> {
    let done = sqlx::query(
        "DELETE FROM artifacts WHERE digest = $1 AND NOT EXISTS \
         (SELECT 1 FROM installations WHERE digest = $1 OR pending_digest = $1)",
    )
    .bind(digest)
    .execute(&db.pool)
    .await
    .map_err(DbError::sql("delete unused artifact"))?;
    Ok(done.rows_affected() == 1)
}

/// Store an artifact's bytes and manifest once per digest (shared by every merchant). On
/// PostgreSQL a row already there is locked for the transaction, so a concurrent clean-up of
/// unused artifacts ([`delete_unused_artifact`]) cannot delete it under this writer.
pub(crate) async fn store_artifact(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    artifact: &Artifact,
) -> Result<(), DbError> {
    if backend == Backend::Postgres {
        let held = sqlx::query("SELECT digest FROM artifacts WHERE digest = $1 FOR SHARE")
            .bind(artifact.digest.to_hex())
            .fetch_optional(&mut **tx)
            .await
            .map_err(DbError::sql("store artifact"))?;
        if held.is_some() {
            return Ok(());
        }
    }
    let manifest =
        serde_json::to_string(&artifact.manifest).map_err(|e| DbError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO artifacts (digest, connector_id, version, publisher, manifest, component, created_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7 WHERE NOT EXISTS (SELECT 1 FROM artifacts WHERE digest = $1)",
    )
    .bind(artifact.digest.to_hex())
    .bind(&artifact.manifest.id)
    .bind(&artifact.manifest.version)
    .bind(&artifact.manifest.publisher)
    .bind(manifest)
    .bind(artifact.bytes.to_vec())
    .bind(now_ms())
    .execute(&mut **tx)
    .await
    .map_err(DbError::sql("store artifact"))?;
    Ok(())
}

/// An installation row without its approvals; `action` names the read in errors. A status
/// this host does not know is [`DbError::Corrupt`], not a guess.
pub(super) fn installation_from(
    row: &AnyRow,
    action: &'static str,
) -> Result<InstallationRow, DbError> {
    let read = || DbError::sql(action);
    let id = InstallationId::new(row.try_get::<String, _>("id").map_err(read())?);
    let status: String = row.try_get("status").map_err(read())?;
    let status = status
        .parse::<InstallationStatus>()
        .map_err(|e| DbError::Corrupt(format!("installation {id}: {e}")))?;
    Ok(InstallationRow {
        merchant: MerchantId::new(row.try_get::<String, _>("merchant_id").map_err(read())?),
        connector_id: row.try_get("connector_id").map_err(read())?,
        digest: row.try_get("digest").map_err(read())?,
        status,
        generation: row.try_get("generation").map_err(read())?,
        installed_at: row.try_get("installed_at").map_err(read())?,
        pending_digest: row.try_get("pending_digest").map_err(read())?,
        approvals: Vec::new(),
        id,
    })
}

/// `rows` with their approvals, read in one query (see [`super::batch::approvals`]).
async fn with_approvals(
    db: &Db,
    mut rows: Vec<InstallationRow>,
) -> Result<Vec<InstallationRow>, DbError> {
    super::batch::approvals(db, &db.pool, &mut rows).await?;
    Ok(rows)
}

pub(super) const INSTALLATION_COLUMNS: &str =
    "id, merchant_id, connector_id, digest, status, generation, installed_at, pending_digest";

/// Installations of a merchant, oldest first.
pub(crate) async fn installations(
    db: &Db,
    merchant: &MerchantId,
) -> Result<Vec<InstallationRow>, DbError> {
    let sql = format!(
        "SELECT {INSTALLATION_COLUMNS} FROM installations WHERE merchant_id = $1 ORDER BY installed_at, id"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(merchant.as_str())
        .fetch_all(&db.pool)
        .await
        .map_err(DbError::sql("read installations"))?;
    let rows = rows
        .iter()
        .map(|row| installation_from(row, "read installations"))
        .collect::<Result<Vec<_>, _>>()?;
    with_approvals(db, rows).await
}

/// One installation of `merchant`, by installation id or connector id. A connector's id is
/// the publisher's choice and may equal another installation's id, so an installation id
/// always wins: the key can match at most one row of each kind (ids are unique, and so is a
/// connector per merchant), and the order makes the choice between them.
pub(crate) async fn installation(
    db: &Db,
    merchant: &MerchantId,
    key: &str,
) -> Result<Option<InstallationRow>, DbError> {
    let sql = format!(
        "SELECT {INSTALLATION_COLUMNS} FROM installations WHERE merchant_id = $1 AND (id = $2 OR connector_id = $2) \
         ORDER BY CASE WHEN id = $2 THEN 0 ELSE 1 END LIMIT 1"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(merchant.as_str())
        .bind(key)
        .fetch_optional(&db.pool)
        .await
        .map_err(DbError::sql("read installation"))?;
    let Some(row) = row else { return Ok(None) };
    let row = installation_from(&row, "read installation")?;
    Ok(with_approvals(db, vec![row]).await?.pop())
}

/// A query on the `Any` driver, being bound.
pub(crate) type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// The versions an installation row stood at when an operation read it: a write conditioned
/// on it lands only if no other write came in between (an upgrade, another approval).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Versions {
    /// The running version's digest (hex).
    pub digest: String,
    /// The waiting upgrade's digest (hex), if any.
    pub pending: Option<String>,
}

impl Versions {
    /// The versions of `row`.
    pub fn of(row: &InstallationRow) -> Versions {
        Versions {
            digest: row.digest.clone(),
            pending: row.pending_digest.clone(),
        }
    }

    /// The SQL condition `digest = $a AND pending_digest ...` with `$a` (and `$b` when there
    /// is a waiting upgrade) numbered from `first`.
    pub fn condition(&self, first: usize) -> String {
        match self.pending {
            Some(_) => format!("digest = ${first} AND pending_digest = ${}", first + 1),
            None => format!("digest = ${first} AND pending_digest IS NULL"),
        }
    }

    /// Bind the condition's values, in order.
    pub fn bind<'q>(&self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        let query = query.bind(self.digest.clone());
        match &self.pending {
            Some(pending) => query.bind(pending.clone()),
            None => query,
        }
    }
}

/// The status an approval leaves: active, except that a disabled app stays disabled (only
/// `enable` resumes it), as SQL over the row's current status.
pub(crate) const APPROVED_STATUS: &str =
    "CASE WHEN status = 'disabled' THEN 'disabled' ELSE 'active' END";

/// Record approval of `scopes` of the running version and make the installation active (a
/// disabled one stays disabled), atomically; `false`, with nothing written, when the row is
/// no longer at `seen` (an upgrade came in meanwhile).
pub(crate) async fn approve(
    db: &Db,
    id: &InstallationId,
    seen: &Versions,
    scopes: ScopeSet,
    by: &str,
) -> Result<bool, DbError> {
    let mut tx = db.pool.begin().await.map_err(DbError::sql("approve"))?;
    let now = now_ms();
    let sql = format!(
        "UPDATE installations SET status = {APPROVED_STATUS}, generation = generation + 1, updated_at = $2 \
         WHERE id = $1 AND {}",
        seen.condition(3)
    );
    let query = sqlx::query(AssertSqlSafe(sql)).bind(id.as_str()).bind(now);
    let done = seen
        .bind(query)
        .execute(&mut *tx)
        .await
        .map_err(DbError::sql("approve"))?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    for scope in scopes.iter() {
        sqlx::query(
            "INSERT INTO grants (installation_id, scope, approved_by, approved_at) SELECT $1, $2, $3, $4 \
             WHERE NOT EXISTS (SELECT 1 FROM grants WHERE installation_id = $1 AND scope = $2)",
        )
        .bind(id.as_str())
        .bind(scope.as_str())
        .bind(by)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(DbError::sql("approve"))?;
    }
    tx.commit().await.map_err(DbError::sql("approve"))?;
    Ok(true)
}

/// The stored component bytes of a digest.
/// The digests (hex) of what active installations of every merchant run, each once: what a
/// host prepares when it opens.
pub(crate) async fn active_digests(db: &Db) -> Result<Vec<String>, DbError> {
    let rows = sqlx::query(
        "SELECT DISTINCT digest FROM installations WHERE status = 'active' ORDER BY digest",
    )
    .fetch_all(&db.pool)
    .await
    .map_err(DbError::sql("read active installations"))?;
    rows.iter()
        .map(|r| r.try_get("digest"))
        .collect::<Result<_, _>>()
        .map_err(DbError::sql("read active installations"))
}

pub(crate) async fn component(db: &Db, digest: &str) -> Result<Option<Vec<u8>>, DbError> {
    let row = sqlx::query("SELECT component FROM artifacts WHERE digest = $1")
        .bind(digest)
        .fetch_optional(&db.pool)
        .await
        .map_err(DbError::sql("read artifact"))?;
    row.map(|r| r.try_get("component"))
        .transpose()
        .map_err(DbError::sql("read artifact"))
}

/// The manifest stored with a digest (validated when the artifact was accepted), without
/// loading or compiling the component.
pub(crate) async fn manifest(db: &Db, digest: &str) -> Result<Option<Manifest>, DbError> {
    let row = sqlx::query("SELECT manifest FROM artifacts WHERE digest = $1")
        .bind(digest)
        .fetch_optional(&db.pool)
        .await
        .map_err(DbError::sql("read manifest"))?;
    let Some(row) = row else { return Ok(None) };
    let text: String = row
        .try_get("manifest")
        .map_err(DbError::sql("read manifest"))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| DbError::Corrupt(format!("manifest of {digest}: {e}")))
}

/// Parse a stored digest.
pub(crate) fn parse_digest(hex_digest: &str) -> Result<Digest, DbError> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut bytes)
        .map_err(|_| DbError::Corrupt(format!("digest `{hex_digest}`")))?;
    Ok(Digest(bytes))
}
