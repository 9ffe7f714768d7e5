//! Sealed secrets per installation. Values are sealed and opened by [`VaultKey`]; this table
//! only ever sees ciphertext.

use std::sync::Arc;

use serde::Serialize;
use sqlx::Row;
use zeroize::Zeroizing;

use super::{Db, DbError, now_ms};
use crate::ids::InstallationId;
use crate::vault::{Sealed, VaultError, VaultKey};

/// What the vault knows about one secret: never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretInfo {
    /// Its name.
    pub name: String,
    /// When it was first set (ms since the Unix epoch).
    pub created_at: i64,
    /// When its value last changed (ms since the Unix epoch).
    pub rotated_at: i64,
    /// Who last set it.
    pub rotated_by: String,
    /// Fingerprint of the vault key that sealed it.
    pub key_id: String,
}

/// Why reading or writing a secret failed.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The vault refused (no key, wrong key, tampered value, bad value).
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Whether a write must create the secret or replace it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretWrite {
    /// First value: refused if one is set.
    Set,
    /// New value: refused if none is set.
    Rotate,
}

/// The outcome of a write that did not happen because of the secret's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteRefused {
    /// `Set` of a secret that has a value.
    AlreadySet,
    /// `Rotate` of a secret that has none.
    NotSet,
}

/// Secrets kept sealed in Airlock's database.
#[derive(Debug, Clone)]
pub struct Secrets {
    db: Db,
    key: Option<Arc<VaultKey>>,
}

fn info(row: &sqlx::any::AnyRow) -> Result<SecretInfo, sqlx::Error> {
    Ok(SecretInfo {
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        rotated_at: row.try_get("rotated_at")?,
        rotated_by: row.try_get("rotated_by")?,
        key_id: row.try_get("key_id")?,
    })
}

/// Replace the row of `info.name` of `installation` with `sealed`, inside `tx`.
async fn replace(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    installation: &InstallationId,
    sealed: &Sealed,
    info: &SecretInfo,
) -> Result<(), DbError> {
    let err = || DbError::sql("write secret");
    sqlx::query("DELETE FROM secrets WHERE installation_id = $1 AND name = $2")
        .bind(installation.as_str())
        .bind(&info.name)
        .execute(&mut **tx)
        .await
        .map_err(err())?;
    sqlx::query(
        "INSERT INTO secrets (installation_id, name, key_id, nonce, ciphertext, created_at, \
         rotated_at, rotated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(installation.as_str())
    .bind(&info.name)
    .bind(&sealed.key_id)
    .bind(&sealed.nonce)
    .bind(&sealed.ciphertext)
    .bind(info.created_at)
    .bind(info.rotated_at)
    .bind(&info.rotated_by)
    .execute(&mut **tx)
    .await
    .map_err(err())?;
    Ok(())
}

impl Secrets {
    /// Secrets in `db`, sealed under `key` (without a key, only listing works).
    pub fn new(db: Db, key: Option<Arc<VaultKey>>) -> Self {
        Secrets { db, key }
    }

    fn key(&self) -> Result<&VaultKey, VaultError> {
        self.key.as_deref().ok_or(VaultError::NoKey)
    }

    /// Seal and store `value` as `name` of `installation`.
    pub async fn write(
        &self,
        installation: &InstallationId,
        name: &str,
        value: &str,
        by: &str,
        mode: SecretWrite,
    ) -> Result<Result<SecretInfo, WriteRefused>, SecretError> {
        crate::vault::check_value(value)?;
        let sealed = self.key()?.seal(installation, name, value.as_bytes())?;
        let err = || DbError::sql("write secret");
        let mut tx = self.db.pool.begin().await.map_err(err())?;
        let existing =
            sqlx::query("SELECT created_at FROM secrets WHERE installation_id = $1 AND name = $2")
                .bind(installation.as_str())
                .bind(name)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err())?;
        let now = now_ms();
        let created_at = match (mode, existing) {
            (SecretWrite::Set, Some(_)) => return Ok(Err(WriteRefused::AlreadySet)),
            (SecretWrite::Rotate, None) => return Ok(Err(WriteRefused::NotSet)),
            (SecretWrite::Set, None) => now,
            (SecretWrite::Rotate, Some(row)) => row.try_get("created_at").map_err(err())?,
        };
        let info = SecretInfo {
            name: name.to_owned(),
            created_at,
            rotated_at: now,
            rotated_by: by.to_owned(),
            key_id: sealed.key_id.clone(),
        };
        replace(&mut tx, installation, &sealed, &info).await?;
        tx.commit().await.map_err(err())?;
        Ok(Ok(info))
    }

    /// Every secret of `installation` that has a value, by name.
    pub async fn list(&self, installation: &InstallationId) -> Result<Vec<SecretInfo>, DbError> {
        let rows = sqlx::query(
            "SELECT name, created_at, rotated_at, rotated_by, key_id FROM secrets \
             WHERE installation_id = $1 ORDER BY name",
        )
        .bind(installation.as_str())
        .fetch_all(&self.db.pool)
        .await
        .map_err(DbError::sql("list secrets"))?;
        rows.iter()
            .map(info)
            .collect::<Result<_, _>>()
            .map_err(DbError::sql("list secrets"))
    }

    /// The value of `name`, or `None` when it was never set.
    pub async fn reveal(
        &self,
        installation: &InstallationId,
        name: &str,
    ) -> Result<Option<Zeroizing<String>>, SecretError> {
        let err = || DbError::sql("read secret");
        let row = sqlx::query(
            "SELECT key_id, nonce, ciphertext FROM secrets WHERE installation_id = $1 AND name = $2",
        )
        .bind(installation.as_str())
        .bind(name)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(err())?;
        let Some(row) = row else { return Ok(None) };
        let sealed = Sealed {
            key_id: row.try_get("key_id").map_err(err())?,
            nonce: row.try_get("nonce").map_err(err())?,
            ciphertext: row.try_get("ciphertext").map_err(err())?,
        };
        Ok(Some(self.key()?.open(installation, name, &sealed)?))
    }
}

#[async_trait::async_trait]
impl crate::commerce::SecretSource for Secrets {
    async fn reveal(
        &self,
        installation: &InstallationId,
        name: &str,
    ) -> Result<Option<Zeroizing<String>>, crate::commerce::DataError> {
        Secrets::reveal(self, installation, name)
            .await
            .map_err(|e| crate::commerce::DataError(e.to_string()))
    }
}
