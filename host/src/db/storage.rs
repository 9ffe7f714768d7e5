//! SQL implementation of [`ConnectorStorage`], keyed by installation.

use sqlx::Row;

use super::Db;
use crate::commerce::{ConnectorStorage, DataError};
use crate::ids::InstallationId;

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
    ) -> Result<(), DataError> {
        let mut tx = self.db.pool.begin().await?;
        sqlx::query("DELETE FROM connector_storage WHERE installation_id = $1 AND key = $2")
            .bind(installation.as_str())
            .bind(key)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO connector_storage (installation_id, key, value, updated_at) VALUES ($1, $2, $3, $4)")
            .bind(installation.as_str())
            .bind(key)
            .bind(value.to_vec())
            .bind(super::now_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete(&self, installation: &InstallationId, key: &str) -> Result<(), DataError> {
        sqlx::query("DELETE FROM connector_storage WHERE installation_id = $1 AND key = $2")
            .bind(installation.as_str())
            .bind(key)
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }

    async fn keys(
        &self,
        installation: &InstallationId,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>, DataError> {
        // Prefix match without LIKE, so `%` and `_` in a key are plain characters.
        let rows = sqlx::query(
            "SELECT key FROM connector_storage WHERE installation_id = $1 AND substr(key, 1, CAST($2 AS INTEGER)) = $3 \
             ORDER BY key LIMIT $4",
        )
        .bind(installation.as_str())
        .bind(prefix.chars().count() as i64)
        .bind(prefix)
        .bind(i64::from(limit))
        .fetch_all(&self.db.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("key")?))
            .collect()
    }
}
