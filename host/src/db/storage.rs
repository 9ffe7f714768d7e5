//! SQL implementation of [`ConnectorStorage`], keyed by installation. Every write keeps the
//! installation's usage row (`connector_storage_usage`) up to date in the same transaction, so
//! the quota check reads one row instead of summing the installation's keys.

use sqlx::Row;

use super::Db;
use crate::commerce::{ConnectorStorage, DataError, StorageError, StorageQuota, prefix_successor};
use crate::ids::InstallationId;

/// The query `list-keys` runs for a prefix with a successor: a range of the primary key
/// index (`installation_id, key`), compared byte by byte (the column is `COLLATE "C"` on
/// PostgreSQL; SQLite compares text as bytes). Public so a test can EXPLAIN it.
pub const KEYS_IN_RANGE: &str = "SELECT key FROM connector_storage \
     WHERE installation_id = $1 AND key >= $2 AND key < $3 ORDER BY key LIMIT $4";

/// The same without an upper bound: an empty prefix, or one with no successor.
pub const KEYS_FROM: &str = "SELECT key FROM connector_storage \
     WHERE installation_id = $1 AND key >= $2 ORDER BY key LIMIT $3";

/// Connector key-value spaces kept in Airlock's own database.
#[derive(Debug, Clone)]
pub struct SqlStorage {
    db: Db,
}

impl SqlStorage {
    /// Serve connector storage from `db`.
    pub fn new(db: Db) -> Self {
        SqlStorage { db }
    }
}

/// Lock the installation's usage row (creating it) for the rest of `tx` and read it: every
/// write of one installation then waits for the one before it, on both backends, so two
/// calls cannot both pass the check with the last free bytes.
async fn lock_usage(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    installation: &InstallationId,
) -> Result<(u64, u64), sqlx::Error> {
    sqlx::query(
        "INSERT INTO connector_storage_usage (installation_id, byte_count, key_count) \
         VALUES ($1, 0, 0) ON CONFLICT (installation_id) DO NOTHING",
    )
    .bind(installation.as_str())
    .execute(&mut **tx)
    .await?;
    let row = sqlx::query(
        "UPDATE connector_storage_usage SET key_count = key_count WHERE installation_id = $1 \
         RETURNING byte_count, key_count",
    )
    .bind(installation.as_str())
    .fetch_one(&mut **tx)
    .await?;
    let bytes: i64 = row.try_get("byte_count")?;
    let keys: i64 = row.try_get("key_count")?;
    Ok((bytes.max(0) as u64, keys.max(0) as u64))
}

/// The stored length of `key`'s value, if it has one.
async fn value_len(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    installation: &InstallationId,
    key: &str,
) -> Result<Option<u64>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT CAST(length(value) AS BIGINT) AS len FROM connector_storage WHERE installation_id = $1 AND key = $2",
    )
    .bind(installation.as_str())
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| r.try_get::<i64, _>("len").map(|n| n.max(0) as u64))
        .transpose()
}

async fn set_usage(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    installation: &InstallationId,
    bytes: u64,
    keys: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE connector_storage_usage SET byte_count = $1, key_count = $2 WHERE installation_id = $3",
    )
    .bind(bytes as i64)
    .bind(keys as i64)
    .bind(installation.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl ConnectorStorage for SqlStorage {
    async fn get(
        &self,
        installation: &InstallationId,
        key: &str,
    ) -> Result<Option<Vec<u8>>, DataError> {
        let row = sqlx::query(
            "SELECT value FROM connector_storage WHERE installation_id = $1 AND key = $2",
        )
        .bind(installation.as_str())
        .bind(key)
        .fetch_optional(&self.db.pool)
        .await?;
        Ok(row.map(|r| r.try_get::<Vec<u8>, _>("value")).transpose()?)
    }

    async fn set(
        &self,
        installation: &InstallationId,
        key: &str,
        value: &[u8],
        quota: StorageQuota,
    ) -> Result<(), StorageError> {
        let mut tx = self.db.pool.begin().await?;
        let (bytes, keys) = lock_usage(&mut tx, installation).await?;
        let old = value_len(&mut tx, installation, key).await?;
        let entry = (key.len() + value.len()) as u64;
        let after = bytes.saturating_sub(old.map_or(0, |n| n + key.len() as u64)) + entry;
        let keys_after = keys + u64::from(old.is_none());
        // Dropping `tx` rolls back: nothing of a refused write is stored.
        if after > quota.bytes && after > bytes {
            return Err(StorageError::Quota {
                unit: "bytes",
                limit: quota.bytes,
            });
        }
        if keys_after > quota.keys && keys_after > keys {
            return Err(StorageError::Quota {
                unit: "keys",
                limit: quota.keys,
            });
        }
        sqlx::query(
            "INSERT INTO connector_storage (installation_id, key, value, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (installation_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(installation.as_str())
        .bind(key)
        .bind(value.to_vec())
        .bind(super::now_ms())
        .execute(&mut *tx)
        .await?;
        set_usage(&mut tx, installation, after, keys_after).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete(&self, installation: &InstallationId, key: &str) -> Result<(), DataError> {
        let mut tx = self.db.pool.begin().await?;
        let (bytes, keys) = lock_usage(&mut tx, installation).await?;
        if let Some(len) = value_len(&mut tx, installation, key).await? {
            sqlx::query("DELETE FROM connector_storage WHERE installation_id = $1 AND key = $2")
                .bind(installation.as_str())
                .bind(key)
                .execute(&mut *tx)
                .await?;
            let freed = len + key.len() as u64;
            set_usage(
                &mut tx,
                installation,
                bytes.saturating_sub(freed),
                keys.saturating_sub(1),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn keys(
        &self,
        installation: &InstallationId,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>, DataError> {
        let query = match prefix_successor(prefix) {
            Some(end) => sqlx::query(KEYS_IN_RANGE)
                .bind(installation.as_str())
                .bind(prefix)
                .bind(end),
            None => sqlx::query(KEYS_FROM)
                .bind(installation.as_str())
                .bind(prefix),
        };
        let rows = query
            .bind(i64::from(limit))
            .fetch_all(&self.db.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("key")?))
            .collect()
    }

    async fn wipe(&self, installation: &InstallationId) -> Result<u64, DataError> {
        let mut tx = self.db.pool.begin().await?;
        let done = sqlx::query("DELETE FROM connector_storage WHERE installation_id = $1")
            .bind(installation.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM connector_storage_usage WHERE installation_id = $1")
            .bind(installation.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}
