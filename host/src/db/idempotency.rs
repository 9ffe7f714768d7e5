//! The platform API's `Idempotency-Key` records: a POST's answer kept for 24 hours under the
//! calling token's hash and the caller's key, so a retry is answered from here instead of
//! acting twice. The API decides what is kept (never a secret); this module only stores rows.

use sqlx::Row;

use super::{Db, DbError, now_ms};

/// How long an answer is kept, in milliseconds: 24 hours.
pub const KEEP_MS: i64 = 24 * 60 * 60 * 1000;
/// How long a request may hold its key without an answer before a retry takes the key over
/// (the process that held it died mid-request), in milliseconds.
const ABANDONED_MS: i64 = 5 * 60 * 1000;
/// Longest key kept, in characters; longer keys are refused by the API before they get here.
pub const MAX_KEY_CHARS: usize = 255;

/// A stored answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The HTTP status.
    pub status: u16,
    /// Its `Content-Type`, if it had one.
    pub content_type: Option<String>,
    /// Its body (JSON text).
    pub body: String,
}

/// What a key is, when a request arrives with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Unused: this request now holds it and must [`complete`] or [`release`] it.
    New,
    /// Answered before, for the same request: replay this.
    Done(Stored),
    /// Another request with the same key is still running.
    Running,
    /// Used before for a different request.
    Reused,
}

/// Claim `key` of the token hashed `token` for the request fingerprinted `request`, first
/// forgetting every answer older than [`KEEP_MS`].
pub async fn claim(db: &Db, token: &str, key: &str, request: &str) -> Result<Claim, DbError> {
    let now = now_ms();
    sqlx::query("DELETE FROM api_idempotency WHERE created_at < $1")
        .bind(now - KEEP_MS)
        .execute(&db.pool)
        .await
        .map_err(DbError::sql("expire idempotency keys"))?;
    // An abandoned claim (its request never answered) is given up, once.
    sqlx::query(
        "DELETE FROM api_idempotency WHERE token_hash = $1 AND idem_key = $2 \
         AND status IS NULL AND created_at < $3",
    )
    .bind(token)
    .bind(key)
    .bind(now - ABANDONED_MS)
    .execute(&db.pool)
    .await
    .map_err(DbError::sql("expire idempotency keys"))?;
    let inserted = sqlx::query(
        "INSERT INTO api_idempotency (token_hash, idem_key, request_hash, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (token_hash, idem_key) DO NOTHING",
    )
    .bind(token)
    .bind(key)
    .bind(request)
    .bind(now)
    .execute(&db.pool)
    .await
    .map_err(DbError::sql("claim idempotency key"))?;
    if inserted.rows_affected() == 1 {
        return Ok(Claim::New);
    }
    let row = sqlx::query(
        "SELECT request_hash, status, content_type, body FROM api_idempotency \
         WHERE token_hash = $1 AND idem_key = $2",
    )
    .bind(token)
    .bind(key)
    .fetch_optional(&db.pool)
    .await
    .map_err(DbError::sql("read idempotency key"))?;
    // Gone between the insert and the read (its request released it): the caller may retry.
    let Some(row) = row else {
        return Ok(Claim::Running);
    };
    let err = DbError::sql("read idempotency key");
    let (hash, status, content_type, body) = (|| {
        Ok::<_, sqlx::Error>((
            row.try_get::<String, _>("request_hash")?,
            row.try_get::<Option<i64>, _>("status")?,
            row.try_get::<Option<String>, _>("content_type")?,
            row.try_get::<Option<String>, _>("body")?,
        ))
    })()
    .map_err(err)?;
    if hash != request {
        return Ok(Claim::Reused);
    }
    Ok(match status.and_then(|s| u16::try_from(s).ok()) {
        Some(status) => Claim::Done(Stored {
            status,
            content_type,
            body: body.unwrap_or_default(),
        }),
        None => Claim::Running,
    })
}

/// Keep `answer` as the answer to the request holding `key`.
pub async fn complete(db: &Db, token: &str, key: &str, answer: &Stored) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE api_idempotency SET status = $1, content_type = $2, body = $3 \
         WHERE token_hash = $4 AND idem_key = $5",
    )
    .bind(i64::from(answer.status))
    .bind(answer.content_type.as_deref())
    .bind(answer.body.as_str())
    .bind(token)
    .bind(key)
    .execute(&db.pool)
    .await
    .map_err(DbError::sql("store idempotent answer"))?;
    Ok(())
}

/// Give `key` up without an answer (the request failed and changed nothing, so a retry
/// should run it again).
pub async fn release(db: &Db, token: &str, key: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM api_idempotency WHERE token_hash = $1 AND idem_key = $2")
        .bind(token)
        .bind(key)
        .execute(&db.pool)
        .await
        .map_err(DbError::sql("release idempotency key"))?;
    Ok(())
}
