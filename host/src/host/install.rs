//! Installing and approving: an artifact becomes a pending installation (every check first,
//! nothing stored unless all pass), then an active one; and the views of what is installed.

use crate::artifact::Artifact;
use crate::db::audit::{self, AuditEntry};
use crate::db::registry::{self, InstallOutcome, Plan};
use crate::error::Error;
use crate::grants::{Scope, ScopeSet};
use crate::ids::{InstallationId, MerchantId};
use crate::manifest::Manifest;
use crate::prompt::{Language, Prompt};
use crate::views::{self, Installation, Installed};

use super::Host;

impl Host {
    /// Validate, compile and check an artifact, then install it for `merchant` pending
    /// approval. Nothing is stored unless every check passes.
    pub async fn install(
        &self,
        merchant: &MerchantId,
        bytes: &[u8],
        actor: &str,
    ) -> Result<Installed, Error> {
        // Cheap checks first: an unknown merchant or a refused manifest costs no compilation.
        let plan = registry::plan_of(&self.db, merchant)
            .await?
            .ok_or_else(|| Error::UnknownMerchant(merchant.clone()))?;
        let artifact = Artifact::parse(bytes)?;
        self.check_provenance(&artifact).await?;
        self.check_policy(&artifact.manifest)?;
        let prepared = self.prepare(&artifact).await?;
        let manifest = &prepared.manifest;
        let id = InstallationId::generate();
        let outcome =
            registry::insert_installation(&self.db, merchant, &plan, &artifact, &id).await?;
        refusal(outcome, merchant, plan, manifest)?;
        let mut entry = AuditEntry::new(merchant, Some(&id), actor, "install");
        entry.detail = format!("{} {} {}", manifest.id, manifest.version, artifact.digest);
        audit::append(&self.db, &[entry]).await?;
        let installation = self.installation(merchant, id.as_str()).await?;
        Ok(Installed {
            installation,
            prompt: Prompt::for_manifest(manifest, Language::En),
        })
    }

    /// Refuse a manifest that requires a scope platform policy forbids.
    pub(crate) fn check_policy(&self, manifest: &Manifest) -> Result<(), Error> {
        match manifest.required().minus(self.policy).iter().next() {
            Some(scope) => Err(Error::PolicyForbids {
                scope,
                connector: manifest.id.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Approve every required scope and the chosen optional ones; the installation becomes
    /// active. `key` is an installation id or a connector id.
    pub async fn approve(
        &self,
        merchant: &MerchantId,
        key: &str,
        optional: &[Scope],
        approver: &str,
    ) -> Result<Installation, Error> {
        let row = self.row(merchant, key).await?;
        if let Some(pending) = row.pending_digest.clone() {
            return self
                .approve_upgrade(merchant, &row, &pending, optional, approver)
                .await;
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
        registry::approve(&self.db, &row.id, scopes, approver).await?;
        let entries: Vec<AuditEntry> = scopes
            .iter()
            .map(|scope| {
                let mut e = AuditEntry::new(merchant, Some(&row.id), approver, "approve");
                e.scope = Some(scope.to_string());
                e
            })
            .collect();
        audit::append(&self.db, &entries).await?;
        self.installation(merchant, row.id.as_str()).await
    }

    /// The capability prompt of an installation, in `language`.
    pub async fn prompt(
        &self,
        merchant: &MerchantId,
        key: &str,
        language: Language,
    ) -> Result<Prompt, Error> {
        let row = self.row(merchant, key).await?;
        Ok(Prompt::for_manifest(
            &self.manifest_of(&row).await?,
            language,
        ))
    }

    /// Every installation of `merchant`.
    pub async fn list(&self, merchant: &MerchantId) -> Result<Vec<Installation>, Error> {
        let mut out = Vec::new();
        for row in registry::installations(&self.db, merchant).await? {
            let manifest = self.manifest_of(&row).await?;
            let grant = self.grant(&manifest, &row);
            let pending = self.pending_manifest(&row).await?;
            out.push(views::installation(row, &manifest, grant, pending.as_ref()));
        }
        Ok(out)
    }

    /// One installation, by installation id or connector id.
    pub async fn installation(
        &self,
        merchant: &MerchantId,
        key: &str,
    ) -> Result<Installation, Error> {
        let row = self.row(merchant, key).await?;
        let manifest = self.manifest_of(&row).await?;
        let grant = self.grant(&manifest, &row);
        let pending = self.pending_manifest(&row).await?;
        Ok(views::installation(row, &manifest, grant, pending.as_ref()))
    }
}

/// The error for an install the database refused (plan full, already installed), if any.
fn refusal(
    outcome: InstallOutcome,
    merchant: &MerchantId,
    plan: Plan,
    manifest: &Manifest,
) -> Result<(), Error> {
    match outcome {
        InstallOutcome::Installed => Ok(()),
        InstallOutcome::PlanFull { used } => Err(Error::PlanLimit {
            merchant: merchant.clone(),
            plan: plan.name,
            slots: plan.app_slots,
            used,
        }),
        InstallOutcome::AlreadyInstalled(installation) => Err(Error::AlreadyInstalled {
            connector: manifest.id.clone(),
            installation,
        }),
    }
}
