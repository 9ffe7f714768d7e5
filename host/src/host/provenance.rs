//! Provenance: which publisher keys the platform trusts, and the check every artifact passes
//! before it is compiled. A signed artifact is always verified; an unsigned one is accepted
//! only while the platform does not require signatures.

use sqlx::Row;

use crate::Host;
use crate::artifact::{Artifact, ArtifactError};
use crate::db::{DbError, now_ms};
use crate::error::Error;
use crate::prompt::Provenance;
use crate::signing;

impl Host {
    /// Trust `public_key` (64 hex characters, ed25519) for artifacts of `publisher`.
    pub async fn trust_key(
        &self,
        publisher: &str,
        public_key: &str,
        by: &str,
    ) -> Result<(), Error> {
        let key = public_key.trim().to_ascii_lowercase();
        let mut bytes = [0u8; 32];
        if hex::decode_to_slice(&key, &mut bytes).is_err()
            || ed25519_dalek::VerifyingKey::from_bytes(&bytes).is_err()
        {
            return Err(Error::BadKey(key.chars().take(80).collect()));
        }
        sqlx::query("DELETE FROM publisher_keys WHERE public_key = $1")
            .bind(&key)
            .execute(&self.db.pool)
            .await
            .map_err(DbError::sql("trust key"))?;
        sqlx::query("INSERT INTO publisher_keys (public_key, publisher, added_by, added_at) VALUES ($1, $2, $3, $4)")
            .bind(&key)
            .bind(publisher)
            .bind(by)
            .bind(now_ms())
            .execute(&self.db.pool)
            .await
            .map_err(DbError::sql("trust key"))?;
        Ok(())
    }

    /// Verify an artifact's signature and signer before anything compiles it; the key that
    /// signed it (hex), or `None` for an unsigned artifact the platform accepts.
    pub(crate) async fn check_provenance(
        &self,
        artifact: &Artifact,
    ) -> Result<Option<String>, Error> {
        let Some(signed) = signing::find(&artifact.bytes)? else {
            return if self.require_signatures {
                Err(ArtifactError::Unsigned.into())
            } else {
                Ok(None)
            };
        };
        signing::verify(&artifact.bytes, &signed)?;
        let owner = sqlx::query("SELECT publisher FROM publisher_keys WHERE public_key = $1")
            .bind(&signed.key)
            .fetch_optional(&self.db.pool)
            .await
            .map_err(DbError::sql("read publisher keys"))?;
        let owner: String = match owner {
            Some(row) => row
                .try_get("publisher")
                .map_err(DbError::sql("read publisher keys"))?,
            None => return Err(ArtifactError::UnknownKey(signed.key).into()),
        };
        if owner != artifact.manifest.publisher {
            return Err(ArtifactError::KeyOfAnotherPublisher {
                key: signed.key,
                owner,
                publisher: artifact.manifest.publisher.clone(),
            }
            .into());
        }
        Ok(Some(signed.key))
    }

    /// Provenance is sticky: once an installation runs a signed artifact, an upgrade must be
    /// signed too. `offered` is what [`Host::check_provenance`] found on the upgrade, which
    /// also proved its key registered to the manifest's publisher, the same publisher as the
    /// installed version's (`check_successor`).
    pub(crate) fn check_sticky(installed: &Artifact, offered: Option<&str>) -> Result<(), Error> {
        match (signing::find(&installed.bytes)?, offered) {
            (Some(signed), None) => Err(ArtifactError::UnsignedUpgrade {
                installed_key: signed.key,
            }
            .into()),
            _ => Ok(()),
        }
    }
}

/// What the prompt says of an artifact's signature.
pub(crate) fn provenance(signer: Option<String>) -> Provenance {
    match signer {
        Some(key) => Provenance::Signed { key },
        None => Provenance::Unsigned,
    }
}
