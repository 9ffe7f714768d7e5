//! Installing: an artifact becomes a pending installation (every check first, the cheap ones
//! before compiling, nothing stored unless all pass); and the views of what is installed.
//! Approving is in `consent`.

use crate::artifact::Artifact;
use crate::db::audit::{self, AuditEntry};
use crate::db::registry::{self, InstallOutcome, Plan};
use crate::error::Error;
use crate::ids::{InstallationId, MerchantId};
use crate::manifest::Manifest;
use crate::prompt::{Language, Prompt};
use crate::views::{self, Installation, Installed};

use super::Host;
use super::invoke::new_event;
use super::provenance::provenance;
use crate::topics::Topic;

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
        // A full plan or a duplicate costs no compilation either (checked again when stored).
        let precheck = registry::refusal_now(&self.db, merchant, &plan, &artifact.manifest.id);
        if let Some(refused) = precheck.await? {
            refusal(refused, merchant, plan.clone(), &artifact.manifest)?;
        }
        let signer = self.check_provenance(&artifact).await?;
        self.check_policy(&artifact.manifest)?;
        let prepared = self.prepare(&artifact).await?;
        let manifest = &prepared.manifest;
        let id = InstallationId::generate();
        let event = new_event(Topic::AppInstalled, &manifest.id, self.clock.now_ms())?;
        let outcome =
            registry::insert_installation(&self.db, merchant, &plan, &artifact, &id, &event)
                .await?;
        refusal(outcome, merchant, plan, manifest)?;
        self.event_written();
        let mut entry = AuditEntry::new(merchant, Some(&id), actor, "install");
        entry.detail = format!("{} {} {}", manifest.id, manifest.version, artifact.digest);
        audit::append(&self.db, &[entry]).await?;
        let installation = self.installation(merchant, id.as_str()).await?;
        Ok(Installed {
            installation,
            prompt: Prompt::for_manifest(manifest, Language::En)
                .with_provenance(provenance(signer)),
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
