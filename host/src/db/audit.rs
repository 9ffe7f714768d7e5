//! The audit log: who did what to which installation, and what each invocation touched.
//! Counts and scopes only; never record contents or secrets. Plain [`AuditEntry`] rows in and
//! out: turning an invocation's report into lines is the host's job (`host/audit.rs`).

use serde::Serialize;
use sqlx::Row;

use super::{Db, DbError, now_ms};
use crate::ids::{InstallationId, MerchantId};
use crate::text::sanitize;

/// Longest detail stored, in characters; every other field is capped shorter. Whoever wrote
/// an entry, one line of the log stays bounded.
pub const MAX_DETAIL_CHARS: usize = 1024;
/// Longest actor, action, scope or outcome stored, in characters (merchant and installation
/// ids are the host's own, and are looked up by).
const MAX_FIELD_CHARS: usize = 128;

/// One audit line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    /// The merchant.
    pub merchant: String,
    /// The installation, when the line is about one.
    pub installation: Option<String>,
    /// Who: a person or platform id, or `connector` for the app itself.
    pub actor: String,
    /// What, such as `install`, `approve`, `orders.get`, `invoke`.
    pub action: String,
    /// The scope involved, if any.
    pub scope: Option<String>,
    /// `ok`, `denied`, `not-found`, `failed`, or an invocation result.
    pub outcome: String,
    /// Records read or changed.
    pub records: i64,
    /// Short detail, never personal data.
    pub detail: String,
}

impl AuditEntry {
    /// A line about `installation` of `merchant`.
    pub fn new(
        merchant: &MerchantId,
        installation: Option<&InstallationId>,
        actor: &str,
        action: &str,
    ) -> Self {
        AuditEntry {
            at: now_ms(),
            merchant: merchant.to_string(),
            installation: installation.map(ToString::to_string),
            actor: actor.to_owned(),
            action: action.to_owned(),
            scope: None,
            outcome: "ok".to_owned(),
            records: 0,
            detail: String::new(),
        }
    }
}

/// Append entries in one transaction.
pub(crate) async fn append(db: &Db, entries: &[AuditEntry]) -> Result<(), DbError> {
    let mut tx = db.pool.begin().await.map_err(DbError::sql("audit"))?;
    append_on(&mut tx, db.backend(), entries).await?;
    tx.commit().await.map_err(DbError::sql("audit"))
}

/// Append entries on `conn` (a transaction's connection, so they commit with what they
/// record), many lines a statement.
pub(crate) async fn append_on(
    conn: &mut sqlx::AnyConnection,
    backend: super::Backend,
    entries: &[AuditEntry],
) -> Result<(), DbError> {
    use super::outbox::{Pad, pad};
    if entries.is_empty() {
        return Ok(());
    }
    let field = |text: &str| sanitize(text, MAX_FIELD_CHARS);
    // One shape for every statement: short ones are padded with rows of NULLs, which the
    // `WHERE` drops.
    let sql = format!(
        "INSERT INTO audit_log (at, merchant_id, installation_id, actor, action, scope, outcome, records, detail) \
         SELECT column1, column2, column3, column4, column5, column6, column7, column8, column9 \
         FROM (VALUES {}) AS v WHERE column1 IS NOT NULL",
        super::Params::new(backend).rows(super::BULK_ROWS, 9)
    );
    for chunk in entries.chunks(super::BULK_ROWS) {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
        for i in 0..super::BULK_ROWS {
            query = match chunk.get(i) {
                Some(e) => query
                    .bind(e.at)
                    .bind(e.merchant.as_str())
                    .bind(e.installation.as_deref())
                    .bind(field(&e.actor))
                    .bind(field(&e.action))
                    .bind(e.scope.as_deref().map(field))
                    .bind(field(&e.outcome))
                    .bind(e.records)
                    .bind(sanitize(&e.detail, MAX_DETAIL_CHARS)),
                None => {
                    let text = Pad::Text;
                    pad(
                        query,
                        &[Pad::Int, text, text, text, text, text, text, Pad::Int, text],
                    )
                }
            };
        }
        query
            .execute(&mut *conn)
            .await
            .map_err(DbError::sql("audit"))?;
    }
    Ok(())
}

/// The newest `limit` entries of a merchant, oldest first.
pub(crate) async fn recent(
    db: &Db,
    merchant: &MerchantId,
    limit: u32,
) -> Result<Vec<AuditEntry>, DbError> {
    let rows = sqlx::query(
        "SELECT at, merchant_id, installation_id, actor, action, scope, outcome, records, detail \
         FROM audit_log WHERE merchant_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(merchant.as_str())
    .bind(i64::from(limit))
    .fetch_all(&db.pool)
    .await
    .map_err(DbError::sql("read audit"))?;
    let mut entries = rows
        .iter()
        .map(|r| {
            Ok(AuditEntry {
                at: r.try_get("at")?,
                merchant: r.try_get("merchant_id")?,
                installation: r.try_get("installation_id")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                scope: r.try_get("scope")?,
                outcome: r.try_get("outcome")?,
                records: r.try_get("records")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(DbError::sql("read audit"))?;
    entries.reverse();
    Ok(entries)
}
