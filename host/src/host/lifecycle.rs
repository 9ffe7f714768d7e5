//! Revoke, disable, enable and uninstall: each commits to the database first, then signals
//! running invocations of the installation, then writes its audit entry.

use serde::Serialize;

use crate::Host;
use crate::db::audit::{self, AuditEntry};
use crate::db::lifecycle::{self, Deleted};
use crate::error::Error;
use crate::grants::Scope;
use crate::ids::{InstallationId, MerchantId};
use crate::status::InstallationStatus;
use crate::views::Installation;

/// What an uninstall did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Uninstalled {
    /// The installation that is gone.
    #[schema(value_type = String)]
    pub installation: InstallationId,
    /// Its connector.
    pub connector: String,
    /// What was deleted with it.
    pub deleted: Deleted,
}

impl Host {
    /// Withdraw one optional scope. Required scopes cannot be withdrawn one by one: revoke the
    /// app ([`Host::revoke_all`]) or uninstall it.
    pub async fn revoke_scope(
        &self,
        merchant: &MerchantId,
        key: &str,
        scope: Scope,
        by: &str,
    ) -> Result<Installation, Error> {
        let row = self.row(merchant, key).await?;
        let manifest = self.manifest_of(&row).await?;
        if manifest.required().contains(scope) {
            return Err(Error::RequiredScope {
                scope,
                connector: manifest.id,
            });
        }
        if !lifecycle::revoke_scope(&self.db, &row.id, scope).await? {
            return Err(Error::NotApproved {
                scope,
                installation: row.id,
            });
        }
        self.signals.changed(&row.id);
        let mut entry = AuditEntry::new(merchant, Some(&row.id), by, "revoke");
        entry.scope = Some(scope.to_string());
        audit::append(&self.db, &[entry]).await?;
        self.installation(merchant, row.id.as_str()).await
    }

    /// Withdraw every approval: the app keeps its slot but does nothing until approved again.
    pub async fn revoke_all(
        &self,
        merchant: &MerchantId,
        key: &str,
        by: &str,
    ) -> Result<Installation, Error> {
        let row = self.row(merchant, key).await?;
        let withdrawn = lifecycle::revoke_all(&self.db, &row.id).await?;
        self.signals.stopped(&row.id);
        let mut entry = AuditEntry::new(merchant, Some(&row.id), by, "revoke-all");
        entry.detail = format!("{withdrawn} scope(s) withdrawn");
        audit::append(&self.db, &[entry]).await?;
        self.installation(merchant, row.id.as_str()).await
    }

    /// Pause an active app (say, during a provider outage), keeping its grants. Running calls
    /// are interrupted; events are not delivered until it is enabled.
    pub async fn disable(
        &self,
        merchant: &MerchantId,
        key: &str,
        by: &str,
    ) -> Result<Installation, Error> {
        let (from, to) = (InstallationStatus::Active, InstallationStatus::Disabled);
        self.transition(merchant, key, by, "disable", from, to)
            .await
    }

    /// Resume a disabled app with the grants it had.
    pub async fn enable(
        &self,
        merchant: &MerchantId,
        key: &str,
        by: &str,
    ) -> Result<Installation, Error> {
        let (from, to) = (InstallationStatus::Disabled, InstallationStatus::Active);
        self.transition(merchant, key, by, "enable", from, to).await
    }

    async fn transition(
        &self,
        merchant: &MerchantId,
        key: &str,
        by: &str,
        action: &'static str,
        from: InstallationStatus,
        to: InstallationStatus,
    ) -> Result<Installation, Error> {
        let row = self.row(merchant, key).await?;
        if row.status != from {
            return Err(Error::BadTransition {
                installation: row.id,
                status: row.status,
                action,
                needs: from,
            });
        }
        // The status is checked again in the write itself: a full revoke that committed
        // since the read above leaves the app pending, and then nothing is changed here.
        if !lifecycle::transition(&self.db, &row.id, from, to).await? {
            let now = self.row(merchant, row.id.as_str()).await?;
            return Err(Error::BadTransition {
                installation: now.id,
                status: now.status,
                action,
                needs: from,
            });
        }
        if to == InstallationStatus::Active {
            self.signals.changed(&row.id);
        } else {
            self.signals.stopped(&row.id);
        }
        audit::append(
            &self.db,
            &[AuditEntry::new(merchant, Some(&row.id), by, action)],
        )
        .await?;
        self.installation(merchant, row.id.as_str()).await
    }

    /// Remove an app: its slot is free at once, running calls are interrupted, its grants,
    /// secrets and storage are deleted, and an audit entry says who did it and what went.
    /// Its artifacts go too unless another installation uses the same digest.
    pub async fn uninstall(
        &self,
        merchant: &MerchantId,
        key: &str,
        by: &str,
    ) -> Result<Uninstalled, Error> {
        let row = self.row(merchant, key).await?;
        // The kind goes into the audit line: the health view shows a removed app with its
        // kind's checklist after the artifact is gone.
        let kind = match self.manifest_of(&row).await {
            Ok(manifest) => manifest.kind.as_str(),
            Err(_) => "unknown",
        };
        let event = super::invoke::new_event(
            crate::topics::Topic::AppUninstalled,
            &row.connector_id,
            self.clock.now_ms(),
        )?;
        let deleted = lifecycle::uninstall(&self.db, merchant, &row.id, &event).await?;
        self.event_written();
        self.signals.stopped(&row.id);
        self.wipe_storage(&row.id).await;
        let mut entry = AuditEntry::new(merchant, Some(&row.id), by, "uninstall");
        entry.records = deleted.storage_keys as i64;
        entry.detail = format!(
            "{} {} ({kind}); deleted {} storage key(s), {} grant(s), {} secret(s)",
            row.connector_id,
            row.digest.get(..12).unwrap_or(&row.digest),
            deleted.storage_keys,
            deleted.grants,
            deleted.secrets
        );
        audit::append(&self.db, &[entry]).await?;
        let mut unused = vec![row.digest.as_str()];
        unused.extend(row.pending_digest.as_deref());
        self.collect_unused(&unused).await;
        Ok(Uninstalled {
            installation: row.id,
            connector: row.connector_id,
            deleted,
        })
    }
}
