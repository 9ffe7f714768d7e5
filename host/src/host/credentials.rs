//! Merchant- and platform-facing secrets: set, rotate and list an installation's API keys.
//! Values go straight into the vault; nothing here returns, logs or audits them.

use serde::Serialize;

use crate::Host;
use crate::db::audit::{self, AuditEntry};
use crate::db::registry::InstallationRow;
use crate::db::secrets::{SecretWrite, WriteRefused};
use crate::error::Error;
use crate::ids::{InstallationId, MerchantId};
use crate::text::sanitize;

/// One secret a connector declares, and whether and when it was set: never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SecretStatus {
    /// The name the manifest declares.
    pub name: String,
    /// What it is, in the publisher's words (sanitised).
    pub reason: String,
    /// Origins the host attaches it to.
    pub send_to: Vec<String>,
    /// Whether the connector can read the value itself.
    pub readable: bool,
    /// Whether a value is set.
    pub set: bool,
    /// When it was first set (ms since the Unix epoch).
    pub created_at: Option<i64>,
    /// When its value last changed.
    pub rotated_at: Option<i64>,
    /// Who last set it.
    pub rotated_by: Option<String>,
    /// Fingerprint of the vault key that sealed it.
    pub key_id: Option<String>,
    /// Why the value cannot be opened with the host's key (a wrong key, an altered row), or
    /// `None` when it opens or is not set.
    pub problem: Option<String>,
}

/// A set or rotation that happened.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SecretChanged {
    /// The installation.
    #[schema(value_type = String)]
    pub installation: InstallationId,
    /// The secret, as now stored.
    pub secret: SecretStatus,
    /// `set` or `rotate`.
    pub action: &'static str,
}

impl Host {
    /// Every secret the installation's connector declares, with when each was set.
    pub async fn secrets(
        &self,
        merchant: &MerchantId,
        key: &str,
    ) -> Result<Vec<SecretStatus>, Error> {
        let row = self.row(merchant, key).await?;
        let manifest = self.manifest_of(&row).await?;
        let stored = self.secrets.list(&row.id).await?;
        let mut problems = Vec::new();
        for info in &stored {
            // Opening each value (then dropping it) is how a wrong or missing key shows up
            // here, before a connector needs the key.
            match self.secrets.reveal(&row.id, &info.name).await {
                Ok(_) => {}
                Err(crate::db::secrets::SecretError::Db(db)) => return Err(db.into()),
                Err(crate::db::secrets::SecretError::Vault(vault)) => {
                    problems.push((info.name.clone(), vault.to_string()));
                }
            }
        }
        Ok(manifest
            .secrets
            .iter()
            .map(|declared| {
                let info = stored.iter().find(|s| s.name == declared.name);
                SecretStatus {
                    problem: problems
                        .iter()
                        .find(|(n, _)| *n == declared.name)
                        .map(|(_, p)| p.clone()),
                    name: declared.name.clone(),
                    reason: sanitize(&declared.reason, 200),
                    send_to: declared.send_to.iter().map(ToString::to_string).collect(),
                    readable: declared.readable,
                    set: info.is_some(),
                    created_at: info.map(|i| i.created_at),
                    rotated_at: info.map(|i| i.rotated_at),
                    rotated_by: info.map(|i| i.rotated_by.clone()),
                    key_id: info.map(|i| i.key_id.clone()),
                }
            })
            .collect())
    }

    /// Set a declared secret for the first time ([`SecretWrite::Set`]) or replace its value
    /// ([`SecretWrite::Rotate`]). The next host call that uses it gets the new value.
    pub async fn write_secret(
        &self,
        merchant: &MerchantId,
        key: &str,
        name: &str,
        value: &str,
        by: &str,
        mode: SecretWrite,
    ) -> Result<SecretChanged, Error> {
        let row = self.row(merchant, key).await?;
        let manifest = self.manifest_of(&row).await?;
        if manifest.secret(name).is_none() {
            return Err(not_declared(&manifest, name));
        }
        let action = match mode {
            SecretWrite::Set => "set",
            SecretWrite::Rotate => "rotate",
        };
        let written = self
            .secrets
            .write(&row.id, name, value, by, mode)
            .await
            .map_err(Error::from)?;
        if let Err(refused) = written {
            return Err(refused_write(refused, name, row.id));
        }
        let mut entry = AuditEntry::new(merchant, Some(&row.id), by, &format!("secret.{action}"));
        entry.detail = format!("{name} (value not recorded)");
        audit::append(&self.db, &[entry]).await?;
        self.recheck_hold(&row).await;
        let secret = self
            .secrets(merchant, row.id.as_str())
            .await?
            .into_iter()
            .find(|s| s.name == name)
            .ok_or_else(|| crate::db::DbError::Corrupt(format!("secret `{name}` vanished")))?;
        Ok(SecretChanged {
            installation: row.id,
            secret,
            action,
        })
    }
}

impl Host {
    /// After a key changed: if the installation's deliveries wait for the merchant, run its
    /// health check; a pass lets them go ([`Host::health_check`] lifts the hold). A check that
    /// cannot run (the app is disabled) leaves the hold for `enable` and the next check.
    async fn recheck_hold(&self, row: &InstallationRow) {
        match crate::db::outbox::hold_of(&self.db, &row.id).await {
            Ok(Some(_)) => {
                if let Err(err) = self.health_check(&row.merchant, row.id.as_str()).await {
                    tracing::info!(installation = %row.id, error = %err,
                        "held deliveries stay held: the health check after the key change could not run");
                }
            }
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(installation = %row.id, error = %err, "could not read the delivery hold")
            }
        }
    }
}

/// A secret the manifest does not declare, naming the ones it does.
fn not_declared(manifest: &crate::manifest::Manifest, name: &str) -> Error {
    let declared = if manifest.secrets.is_empty() {
        "none (its manifest has no [[secrets]])".to_owned()
    } else {
        manifest
            .secrets
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    Error::SecretNotDeclared {
        name: sanitize(name, 64),
        connector: manifest.id.clone(),
        declared,
    }
}

/// A set of a secret already set, or a rotation of one never set, with the command to use.
fn refused_write(refused: WriteRefused, name: &str, installation: InstallationId) -> Error {
    let problem = match refused {
        WriteRefused::AlreadySet => "is already set; use `airlock secrets rotate` to replace it",
        WriteRefused::NotSet => "is not set yet; use `airlock secrets set` first",
    };
    Error::SecretState {
        name: name.to_owned(),
        installation,
        problem,
    }
}
