//! Upgrades. A version asking for the same or fewer scopes replaces the old one at once; one
//! asking for more, or any upgrade of an app never approved, waits, with the old version still
//! serving, until the merchant approves it by digest. Downgrades, artifacts of another
//! connector or publisher, and unsigned upgrades of a signed installation are refused.

use serde::Serialize;

use crate::Host;
use crate::artifact::Artifact;
use crate::db::audit::{self, AuditEntry};
use crate::db::lifecycle::{self, Switch};
use crate::db::registry::{self, InstallationRow, Versions};
use crate::error::Error;
use crate::grants::{Scope, ScopeSet};
use crate::ids::MerchantId;
use crate::manifest::Manifest;
use crate::prompt::{Language, Prompt};
use crate::status::InstallationStatus;
use crate::views::Installation;

use super::provenance::provenance;

/// What an upgrade did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Upgraded {
    /// The installation after the upgrade (its version is the new one only if applied).
    pub installation: Installation,
    /// True when the new version is live; false when it waits for approval.
    pub applied: bool,
    /// The offered version's digest, `sha256:...`: what `approve` names when it waits.
    pub digest: String,
    /// For a pending upgrade: the prompt with only what it adds (all of it for an app never
    /// approved).
    pub prompt: Option<Prompt>,
}

/// The scopes `new` asks for that the merchant has not approved for `old`: required ones not
/// approved, and optional ones `old` did not offer.
fn added(old: &Manifest, new: &Manifest, approved: ScopeSet) -> (ScopeSet, ScopeSet) {
    let required = new.required().minus(approved);
    let optional = new.optional().minus(old.declared()).minus(required);
    (required, optional)
}

/// What `new` reaches beyond `old`: origins `old` did not declare, and secrets that are new,
/// newly readable, or sent to more origins. Approving an app approves its connections, so any
/// of these makes an upgrade wait like a wider scope does.
fn added_connections(old: &Manifest, new: &Manifest) -> (Vec<String>, Vec<String>) {
    let origins = new
        .origins()
        .filter(|o| !old.origins().any(|p| p == *o))
        .map(ToString::to_string)
        .collect();
    let secrets = new
        .secrets
        .iter()
        .filter(|s| match old.secret(&s.name) {
            None => true,
            Some(before) => {
                (s.readable && !before.readable)
                    || s.send_to.iter().any(|o| !before.send_to.contains(o))
            }
        })
        .map(|s| s.name.clone())
        .collect();
    (origins, secrets)
}

/// Everything a new version asks for beyond what the merchant approved for the old one.
pub(super) struct Additions {
    /// Required scopes not approved.
    required: ScopeSet,
    /// Optional scopes the old version did not offer.
    optional: ScopeSet,
    /// Origins, and secrets, that reach further (see [`added_connections`]).
    connections: (Vec<String>, Vec<String>),
}

impl Additions {
    /// What `new` asks for beyond `approved` (for `old`).
    pub(super) fn between(old: &Manifest, new: &Manifest, approved: ScopeSet) -> Self {
        let (required, optional) = added(old, new, approved);
        Additions {
            required,
            optional,
            connections: added_connections(old, new),
        }
    }

    /// Nothing beyond what is approved: the upgrade can apply at once.
    fn is_empty(&self) -> bool {
        self.required.is_empty()
            && self.optional.is_empty()
            && self.connections.0.is_empty()
            && self.connections.1.is_empty()
    }

    /// What the merchant is asked about, for the audit line.
    fn asks(&self) -> String {
        let mut asks: Vec<String> = self
            .required
            .union(self.optional)
            .iter()
            .map(|s| s.to_string())
            .collect();
        asks.extend(self.connections.0.iter().cloned());
        asks.extend(self.connections.1.iter().map(|n| format!("secret {n}")));
        asks.join(", ")
    }

    /// The prompt for `new` restricted to what it adds.
    pub(super) fn prompt(&self, new: &Manifest, language: Language) -> Prompt {
        let mut diff = new.clone();
        diff.scopes
            .required
            .retain(|r| self.required.contains(r.scope));
        diff.scopes
            .optional
            .retain(|r| self.optional.contains(r.scope));
        diff.http
            .retain(|h| self.connections.0.contains(&h.origin.to_string()));
        diff.secrets
            .retain(|s| self.connections.1.contains(&s.name));
        Prompt::for_manifest(&diff, language)
    }
}

fn check_successor(old: &Manifest, new: &Manifest) -> Result<(), Error> {
    if new.id != old.id {
        return Err(Error::NotSuccessor {
            field: "id",
            current: old.id.clone(),
            offered: new.id.clone(),
        });
    }
    if new.publisher != old.publisher {
        return Err(Error::NotSuccessor {
            field: "publisher",
            current: old.publisher.clone(),
            offered: new.publisher.clone(),
        });
    }
    check_newer(&old.version, &new.version)
}

/// Refuse `offered` unless it is a newer semantic version than `current` (the installed
/// version, or the one waiting that it would replace).
fn check_newer(current: &str, offered: &str) -> Result<(), Error> {
    let newer = match (
        semver::Version::parse(current),
        semver::Version::parse(offered),
    ) {
        (Ok(current), Ok(offered)) => offered > current,
        _ => false,
    };
    if !newer {
        return Err(Error::NotNewer {
            current: current.to_owned(),
            offered: offered.to_owned(),
        });
    }
    Ok(())
}

impl Host {
    /// Offer a new version of an installed connector; a pending upgrade's prompt is in
    /// `language`. It waits for approval when it asks for more than the merchant approved,
    /// or when the installation was never approved (the merchant may be reading the current
    /// version's prompt); a version already waiting is replaced, its prompt void (audited).
    pub async fn upgrade(
        &self,
        merchant: &MerchantId,
        key: &str,
        bytes: &[u8],
        actor: &str,
        language: Language,
    ) -> Result<Upgraded, Error> {
        let row = self.row(merchant, key).await?;
        let old = self.manifest_of(&row).await?;
        let artifact = Artifact::parse(bytes)?;
        let new = &artifact.manifest;
        check_successor(&old, new)?;
        let replaced = self.pending_manifest(&row).await?;
        if let Some(waiting) = &replaced {
            check_newer(&waiting.version, &new.version)?;
        }
        let signer = self.check_provenance(&artifact).await?;
        Host::check_sticky(&self.stored_artifact(&row.digest).await?, signer.as_deref())?;
        self.check_policy(new)?;
        self.prepare(&artifact).await?;
        let additions = Additions::between(&old, new, row.approved());
        let never_approved = row.status == InstallationStatus::Pending;
        let waits = never_approved || !additions.is_empty();
        let seen = Versions::of(&row);
        let mut entry = AuditEntry::new(merchant, Some(&row.id), actor, "upgrade");
        if waits {
            if !lifecycle::set_pending(&self.db, &row.id, &seen, &artifact).await? {
                return Err(concurrent(&row));
            }
            entry.outcome = "pending".into();
            entry.detail = format!(
                "{} -> {} waits for approval of {}",
                old.version,
                new.version,
                if never_approved {
                    "all of it (never approved)".to_owned()
                } else {
                    additions.asks()
                }
            );
        } else {
            let keep = row.approved().intersect(new.declared());
            let how = Switch::Apply;
            let switched = lifecycle::switch_version(
                &self.db,
                &row.id,
                &seen,
                &artifact,
                keep,
                ScopeSet::EMPTY,
                how,
                actor,
            );
            if !switched.await? {
                return Err(concurrent(&row));
            }
            self.signals.changed(&row.id);
            entry.detail = format!("{} -> {} applied", old.version, new.version);
        }
        let mut entries = vec![entry];
        if let (Some(digest), Some(waiting)) = (&row.pending_digest, &replaced) {
            let mut void = AuditEntry::new(merchant, Some(&row.id), actor, "upgrade-superseded");
            void.detail = format!(
                "waiting {} (sha256:{}) replaced by {}; its prompt is void",
                waiting.version,
                digest.get(..12).unwrap_or(digest),
                new.version
            );
            entries.push(void);
        }
        audit::append(&self.db, &entries).await?;
        let mut unused: Vec<&str> = row.pending_digest.iter().map(String::as_str).collect();
        if !waits {
            unused.push(&row.digest);
        }
        self.collect_unused(&unused).await;
        let prompt = waits.then(|| {
            let prompt = if never_approved {
                Prompt::for_manifest(new, language)
            } else {
                additions.prompt(new, language)
            };
            prompt.with_provenance(provenance(signer))
        });
        Ok(Upgraded {
            installation: self.installation(merchant, row.id.as_str()).await?,
            applied: !waits,
            digest: artifact.digest.to_string(),
            prompt,
        })
    }

    /// Approve a pending upgrade: its new required scopes and the chosen new optional ones.
    /// Approvals the new version no longer declares are dropped. The caller checked that
    /// `pending` is what the merchant named; the switch lands only if it still waits.
    pub(crate) async fn approve_upgrade(
        &self,
        merchant: &MerchantId,
        row: &InstallationRow,
        pending: &str,
        optional: &[Scope],
        by: &str,
    ) -> Result<Installation, Error> {
        let old = self.manifest_of(row).await?;
        let artifact = self.stored_artifact(pending).await?;
        let new = &artifact.manifest;
        let approved = row.approved();
        let (required, offered) = added(&old, new, approved);
        if let Some(scope) = optional
            .iter()
            .copied()
            .find(|s| !new.optional().contains(*s))
        {
            return Err(Error::NotOptional {
                scope,
                connector: new.id.clone(),
                optional: offered,
            });
        }
        let chosen: ScopeSet = optional.iter().copied().collect();
        let keep = approved.intersect(new.declared());
        let add = required.union(chosen).intersect(self.policy);
        let seen = Versions::of(row);
        let switched = lifecycle::switch_version(
            &self.db,
            &row.id,
            &seen,
            &artifact,
            keep,
            add,
            Switch::Approve,
            by,
        );
        if !switched.await? {
            let now = self.row(merchant, row.id.as_str()).await?;
            return Err(self
                .not_waiting(merchant, &now, &format!("sha256:{pending}"))
                .await);
        }
        self.signals.changed(&row.id);
        let mut entry = AuditEntry::new(merchant, Some(&row.id), by, "approve-upgrade");
        entry.detail = format!("{} -> {}; added {}", old.version, new.version, add);
        audit::append(&self.db, &[entry]).await?;
        self.collect_unused(&[&row.digest]).await;
        self.installation(merchant, row.id.as_str()).await
    }

    /// The manifest of a pending upgrade, if there is one.
    pub(crate) async fn pending_manifest(
        &self,
        row: &InstallationRow,
    ) -> Result<Option<Manifest>, Error> {
        let Some(digest) = &row.pending_digest else {
            return Ok(None);
        };
        Ok(registry::manifest(&self.db, digest).await?)
    }
}

/// The refusal of an upgrade that lost a race with another change of the installation.
fn concurrent(row: &InstallationRow) -> Error {
    Error::Concurrent {
        installation: row.id.clone(),
        action: "upgrade",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{ConnectorKind, ScopeRequest, ScopeRequests};

    fn manifest(version: &str, required: &[Scope], optional: &[Scope]) -> Manifest {
        let req = |s: &Scope| ScopeRequest {
            scope: *s,
            reason: "r".into(),
        };
        Manifest {
            id: "acme.app".into(),
            name: "App".into(),
            publisher: "Acme".into(),
            version: version.into(),
            kind: ConnectorKind::Ads,
            description: String::new(),
            scopes: ScopeRequests {
                required: required.iter().map(req).collect(),
                optional: optional.iter().map(req).collect(),
            },
            events: vec![],
            http: vec![],
            secrets: vec![],
        }
    }

    #[test]
    fn only_scopes_not_yet_approved_or_offered_count_as_added() {
        use Scope::*;
        let old = manifest("1.0.0", &[OrdersRead], &[CustomersRead]);
        let approved: ScopeSet = [OrdersRead].into_iter().collect();
        // Same scopes: nothing added.
        let (r, o) = added(
            &old,
            &manifest("1.1.0", &[OrdersRead], &[CustomersRead]),
            approved,
        );
        assert!(r.is_empty() && o.is_empty());
        // An optional scope the merchant declined becomes required: that needs approval.
        let (r, o) = added(
            &old,
            &manifest("1.2.0", &[OrdersRead, CustomersRead], &[]),
            approved,
        );
        assert_eq!(
            (r.to_string(), o.is_empty()),
            ("customers:read".into(), true)
        );
        // A brand-new optional scope is offered.
        let (r, o) = added(
            &old,
            &manifest("1.3.0", &[OrdersRead], &[InventoryRead]),
            approved,
        );
        assert_eq!(
            (r.is_empty(), o.to_string()),
            (true, "inventory:read".into())
        );
    }

    #[test]
    fn successors_keep_id_and_publisher_and_move_the_version_up() {
        let old = manifest("1.2.0", &[], &[]);
        assert!(check_successor(&old, &manifest("1.2.1", &[], &[])).is_ok());
        for version in ["1.2.0", "1.1.9", "0.9.0"] {
            let err = check_successor(&old, &manifest(version, &[], &[])).unwrap_err();
            assert!(matches!(err, Error::NotNewer { .. }), "{version}: {err}");
        }
        let mut other = manifest("2.0.0", &[], &[]);
        other.publisher = "Mallory".into();
        assert!(matches!(
            check_successor(&old, &other),
            Err(Error::NotSuccessor {
                field: "publisher",
                ..
            })
        ));
        let mut other = manifest("2.0.0", &[], &[]);
        other.id = "acme.other".into();
        assert!(matches!(
            check_successor(&old, &other),
            Err(Error::NotSuccessor { field: "id", .. })
        ));
    }
}
