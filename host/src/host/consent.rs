//! Consent bound to what the merchant saw. What waits for approval on an installation is one
//! artifact, named by its digest: the waiting upgrade if there is one, else the installed
//! version. `approve` names that digest and is refused when something else waits by the time
//! it lands; the prompt of what waits can be printed again at any time.

use serde::Serialize;

use crate::db::audit::{self, AuditEntry};
use crate::db::registry::{self, InstallationRow, Versions};
use crate::error::Error;
use crate::grants::{Scope, ScopeSet};
use crate::ids::{InstallationId, MerchantId};
use crate::prompt::{Language, Prompt};
use crate::signing;
use crate::status::InstallationStatus;
use crate::text::sanitize;
use crate::views::Installation;

use super::Host;
use super::provenance::provenance;
use super::upgrade::Additions;

/// What waits for a merchant's approval on one installation, and the prompt that shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Waiting {
    /// The installation.
    #[schema(value_type = String)]
    pub installation: InstallationId,
    /// Its status now (an approval leaves a disabled app disabled).
    pub status: InstallationStatus,
    /// The version that waits.
    pub version: String,
    /// Its digest, `sha256:...`: what `approve` names.
    pub digest: String,
    /// True when it is an upgrade waiting beside a running version.
    pub upgrade: bool,
    /// The prompt: for an upgrade of an app approved before, only what it adds; else all of it.
    pub prompt: Prompt,
}

/// What declining what waits came to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "declined", rename_all = "kebab-case")]
pub enum Declined {
    /// A pending install, declined: the app is removed and its slot freed.
    Install {
        /// What the removal deleted.
        removed: super::lifecycle::Uninstalled,
    },
    /// A waiting upgrade, declined: it is dropped and the running version keeps working with
    /// its grants.
    Upgrade {
        /// The installation as it is now.
        installation: Box<Installation>,
        /// The version declined.
        version: String,
    },
}

/// The digest (hex) that waits on `row`: the waiting upgrade's, else the running version's.
fn waiting_digest(row: &InstallationRow) -> &str {
    row.pending_digest.as_deref().unwrap_or(&row.digest)
}

/// `sha256:<hex>` or `<hex>`, in any case, as lowercase hex.
fn digest_hex(named: &str) -> String {
    let named = named.trim();
    named
        .strip_prefix("sha256:")
        .unwrap_or(named)
        .to_ascii_lowercase()
}

impl Host {
    /// What waits for approval on an installation (by installation id or connector id), with
    /// its prompt in `language`.
    pub async fn waiting(
        &self,
        merchant: &MerchantId,
        key: &str,
        language: Language,
    ) -> Result<Waiting, Error> {
        let row = self.row(merchant, key).await?;
        let digest = waiting_digest(&row).to_owned();
        let artifact = self.stored_artifact(&digest).await?;
        let signer = signing::find(&artifact.bytes)?.map(|s| s.key);
        let new = &artifact.manifest;
        let upgrade = row.pending_digest.is_some();
        let prompt = if upgrade && row.status != InstallationStatus::Pending {
            let old = self.manifest_of(&row).await?;
            Additions::between(&old, new, row.approved()).prompt(new, language)
        } else {
            // Never approved (or every approval withdrawn): the merchant sees all of it.
            Prompt::for_manifest(new, language)
        };
        Ok(Waiting {
            installation: row.id.clone(),
            status: row.status,
            version: new.version.clone(),
            digest: format!("sha256:{digest}"),
            upgrade,
            prompt: prompt.with_provenance(provenance(signer)),
        })
    }

    /// The capability prompt of what waits for approval on an installation (see
    /// [`Host::waiting`]), in `language`.
    pub async fn prompt(
        &self,
        merchant: &MerchantId,
        key: &str,
        language: Language,
    ) -> Result<Prompt, Error> {
        Ok(self.waiting(merchant, key, language).await?.prompt)
    }

    /// Approve what waits on an installation, named by its `digest` (`sha256:...`, as the
    /// prompt's [`Waiting::digest`] or the installation's `digest`/`pending_digest`): every
    /// required scope and the chosen optional ones. Refused as [`Error::NotWaiting`] when
    /// something else waits. A pending app becomes active; a disabled one stays disabled
    /// (`enable` resumes it). `key` is an installation id or a connector id.
    pub async fn approve(
        &self,
        merchant: &MerchantId,
        key: &str,
        digest: &str,
        optional: &[Scope],
        approver: &str,
    ) -> Result<Installation, Error> {
        let row = self.row(merchant, key).await?;
        if digest_hex(digest) != waiting_digest(&row) {
            return Err(self.not_waiting(merchant, &row, digest).await);
        }
        if let Some(pending) = row.pending_digest.clone() {
            let approved = self
                .approve_upgrade(merchant, &row, &pending, optional, approver)
                .await?;
            // A new approval is the merchant's answer to a held permission: try again.
            self.lift_hold(&row.id).await?;
            return Ok(approved);
        }
        let manifest = self.manifest_of(&row).await?;
        let offered = manifest.optional();
        if let Some(scope) = optional.iter().copied().find(|s| !offered.contains(*s)) {
            return Err(Error::NotOptional {
                scope,
                connector: manifest.id.clone(),
                optional: offered,
            });
        }
        let chosen: ScopeSet = optional.iter().copied().collect();
        let scopes = manifest.required().union(chosen).intersect(self.policy);
        if !registry::approve(&self.db, &row.id, &Versions::of(&row), scopes, approver).await? {
            // An upgrade came in between: that is what waits now.
            let now = self.row(merchant, row.id.as_str()).await?;
            return Err(self.not_waiting(merchant, &now, digest).await);
        }
        self.signals.changed(&row.id);
        let entries: Vec<AuditEntry> = scopes
            .iter()
            .map(|scope| {
                let mut e = AuditEntry::new(merchant, Some(&row.id), approver, "approve");
                e.scope = Some(scope.to_string());
                e
            })
            .collect();
        audit::append(&self.db, &entries).await?;
        self.lift_hold(&row.id).await?;
        self.installation(merchant, row.id.as_str()).await
    }

    /// Decline what waits on an installation, named by its `digest` as for
    /// [`Host::approve`]: a waiting upgrade is dropped (the running version and its grants stay;
    /// the publisher may offer another); a pending install is removed, freeing its slot. An
    /// active app with nothing waiting has nothing to decline: uninstall it instead.
    pub async fn decline(
        &self,
        merchant: &MerchantId,
        key: &str,
        digest: &str,
        by: &str,
    ) -> Result<Declined, Error> {
        let row = self.row(merchant, key).await?;
        if digest_hex(digest) != waiting_digest(&row) {
            return Err(self.not_waiting(merchant, &row, digest).await);
        }
        let Some(pending) = row.pending_digest.clone() else {
            if row.status != InstallationStatus::Pending {
                return Err(Error::BadTransition {
                    installation: row.id.clone(),
                    status: row.status,
                    action: "decline",
                    needs: InstallationStatus::Pending,
                });
            }
            let removed = self.uninstall(merchant, row.id.as_str(), by).await?;
            return Ok(Declined::Install { removed });
        };
        let version = match registry::manifest(&self.db, &pending).await? {
            Some(manifest) => manifest.version,
            None => "(missing)".to_owned(),
        };
        if !crate::db::lifecycle::clear_pending(&self.db, &row.id, &Versions::of(&row)).await? {
            return Err(Error::Concurrent {
                installation: row.id.clone(),
                action: "decline",
            });
        }
        let mut line = AuditEntry::new(merchant, Some(&row.id), by, "decline-upgrade");
        line.detail = format!("version {} (sha256:{pending})", sanitize(&version, 64));
        audit::append(&self.db, &[line]).await?;
        self.collect_unused(&[pending.as_str()]).await;
        let installation = Box::new(self.installation(merchant, row.id.as_str()).await?);
        Ok(Declined::Upgrade {
            installation,
            version,
        })
    }

    /// The refusal of an approval that named `named` while `row`'s waiting version is
    /// another; a failure to read what waits becomes the error itself.
    pub(crate) async fn not_waiting(
        &self,
        merchant: &MerchantId,
        row: &InstallationRow,
        named: &str,
    ) -> Error {
        let waiting = waiting_digest(row);
        let version = match registry::manifest(&self.db, waiting).await {
            Ok(Some(manifest)) => manifest.version,
            Ok(None) => "(missing)".to_owned(),
            Err(err) => return err.into(),
        };
        Error::NotWaiting {
            merchant: merchant.clone(),
            installation: row.id.clone(),
            named: sanitize(named, 80),
            waiting: format!("sha256:{waiting}"),
            version,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_is_named_with_or_without_its_prefix_in_any_case() {
        assert_eq!(digest_hex(" sha256:ABcd "), "abcd");
        assert_eq!(digest_hex("abcd"), "abcd");
        assert_eq!(digest_hex("sha512:abcd"), "sha512:abcd");
    }
}
