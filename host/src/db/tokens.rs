//! API tokens' rows: made, looked up by the hash of their secret, listed, revoked.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Db, DbError, now_ms};
use crate::ids::MerchantId;
use crate::tokens::{Principal, TokenInfo};

const COLUMNS: &str = "id, merchant_id, label, created_by, created_at, revoked_at";

/// A new token's row.
pub(crate) struct NewToken<'a> {
    pub id: &'a str,
    pub merchant: Option<&'a MerchantId>,
    pub label: &'a str,
    pub secret_hash: &'a str,
    pub by: &'a str,
}

/// Store a new token, and revoke `replaces` (a rotation) in the same transaction, so there
/// is never a moment with both or neither. None when `replaces` is no longer live (two
/// rotations at once: only the first makes a token).
pub(crate) async fn insert(
    db: &Db,
    token: &NewToken<'_>,
    replaces: Option<&str>,
) -> Result<Option<TokenInfo>, DbError> {
    let err = || DbError::sql("write API token");
    let now = now_ms();
    let mut tx = db.pool.begin().await.map_err(err())?;
    if let Some(old) = replaces {
        let revoked = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(old)
        .execute(&mut *tx)
        .await
        .map_err(err())?;
        if revoked.rows_affected() == 0 {
            return Ok(None);
        }
    }
    sqlx::query(
        "INSERT INTO api_tokens (id, merchant_id, label, secret_hash, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token.id)
    .bind(token.merchant.map(MerchantId::as_str))
    .bind(token.label)
    .bind(token.secret_hash)
    .bind(token.by)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(err())?;
    tx.commit().await.map_err(err())?;
    Ok(Some(TokenInfo {
        id: token.id.to_owned(),
        principal: principal(token.merchant.map(|m| m.as_str().to_owned())),
        label: token.label.to_owned(),
        created_by: token.by.to_owned(),
        created_at: now,
        revoked_at: None,
    }))
}

/// The live token whose secret hashes to `hash`.
pub(crate) async fn by_hash(db: &Db, hash: &str) -> Result<Option<TokenInfo>, DbError> {
    one(db, "secret_hash = $1 AND revoked_at IS NULL", hash).await
}

/// One token by id, revoked or not.
pub(crate) async fn get(db: &Db, id: &str) -> Result<Option<TokenInfo>, DbError> {
    one(db, "id = $1", id).await
}

/// The token `condition` (a fixed text with one parameter) finds.
async fn one(db: &Db, condition: &'static str, value: &str) -> Result<Option<TokenInfo>, DbError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE {condition}"
    )))
    .bind(value)
    .fetch_optional(&db.pool)
    .await
    .map_err(DbError::sql("read API token"))?;
    row.as_ref().map(info).transpose()
}

/// Every token, or one merchant's, newest first.
pub(crate) async fn list(
    db: &Db,
    merchant: Option<&MerchantId>,
) -> Result<Vec<TokenInfo>, DbError> {
    let rows = match merchant {
        Some(m) => sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE merchant_id = $1 ORDER BY created_at DESC, id"
        )))
        .bind(m.as_str())
        .fetch_all(&db.pool)
        .await,
        None => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM api_tokens ORDER BY created_at DESC, id"
            )))
            .fetch_all(&db.pool)
            .await
        }
    }
    .map_err(DbError::sql("list API tokens"))?;
    rows.iter().map(info).collect()
}

/// Revoke a token; false when there is no such live token.
pub(crate) async fn revoke(db: &Db, id: &str) -> Result<bool, DbError> {
    let done =
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(id)
            .execute(&db.pool)
            .await
            .map_err(DbError::sql("revoke API token"))?;
    Ok(done.rows_affected() == 1)
}

fn principal(merchant: Option<String>) -> Principal {
    match merchant {
        Some(m) => Principal::Merchant {
            merchant: MerchantId::new(m),
        },
        None => Principal::Platform,
    }
}

fn info(row: &AnyRow) -> Result<TokenInfo, DbError> {
    let err = DbError::sql("read API token");
    (|| {
        Ok::<_, sqlx::Error>(TokenInfo {
            id: row.try_get("id")?,
            principal: principal(row.try_get("merchant_id")?),
            label: row.try_get("label")?,
            created_by: row.try_get("created_by")?,
            created_at: row.try_get("created_at")?,
            revoked_at: row.try_get("revoked_at")?,
        })
    })()
    .map_err(err)
}
