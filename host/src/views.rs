//! What the platform and the merchant see of installations and deliveries: plain serialisable
//! views, built from database rows and manifests.

use serde::Serialize;

use crate::db::registry::InstallationRow;
use crate::grants::{Grant, Scope};
use crate::ids::{InstallationId, MerchantId};
use crate::manifest::{ConnectorKind, Manifest, Topic};
use crate::prompt::Prompt;
use crate::report::{Event, InvocationReport};
use crate::status::InstallationStatus;

/// An approved scope with who approved it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Approval {
    /// The scope.
    #[schema(value_type = String)]
    pub scope: Scope,
    /// Who approved it.
    pub by: String,
    /// When, in milliseconds since the Unix epoch.
    pub at: i64,
}

/// An installation as the platform and merchant see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Installation {
    /// Installation id.
    #[schema(value_type = String)]
    pub id: InstallationId,
    /// The merchant.
    #[schema(value_type = String)]
    pub merchant: MerchantId,
    /// Connector id.
    pub connector: String,
    /// Display name.
    pub name: String,
    /// Publisher.
    pub publisher: String,
    /// Version.
    pub version: String,
    /// Integration kind.
    pub kind: ConnectorKind,
    /// `sha256:` digest of the artifact.
    pub digest: String,
    /// `pending` (awaiting approval), `active` or `disabled`.
    pub status: InstallationStatus,
    /// Installed at, ms since the epoch.
    pub installed_at: i64,
    /// Scopes required.
    #[schema(value_type = Vec<String>)]
    pub required: Vec<Scope>,
    /// Scopes optional.
    #[schema(value_type = Vec<String>)]
    pub optional: Vec<Scope>,
    /// What the merchant approved.
    pub approved: Vec<Approval>,
    /// What host calls may use right now: declared ∩ approved ∩ policy.
    #[schema(value_type = Vec<String>)]
    pub effective: Vec<Scope>,
    /// Subscribed topics.
    #[schema(value_type = Vec<String>)]
    pub events: Vec<Topic>,
    /// A newer version waiting for the merchant to approve the scopes it adds.
    pub pending_version: Option<String>,
    /// Its digest, `sha256:...`: what `approve` names to approve it.
    pub pending_digest: Option<String>,
}

/// The result of an install: the new installation and the prompt to show the merchant.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Installed {
    /// The installation, pending approval.
    pub installation: Installation,
    /// The capability prompt.
    pub prompt: Prompt,
}

/// The result of emitting one event.
#[derive(Debug, Clone, Serialize)]
pub struct Emitted {
    /// The event.
    pub event: Event,
    /// One report per installation it was delivered to.
    pub deliveries: Vec<InvocationReport>,
}

/// The view of one installation under its effective `grant`.
pub(crate) fn installation(
    row: InstallationRow,
    manifest: &Manifest,
    grant: Grant,
    pending: Option<&Manifest>,
) -> Installation {
    let effective = grant.effective().iter().collect();
    Installation {
        id: row.id.clone(),
        merchant: row.merchant.clone(),
        connector: row.connector_id.clone(),
        name: manifest.name.clone(),
        publisher: manifest.publisher.clone(),
        version: manifest.version.clone(),
        kind: manifest.kind,
        digest: format!("sha256:{}", row.digest),
        status: row.status,
        installed_at: row.installed_at,
        required: manifest.required().iter().collect(),
        optional: manifest.optional().iter().collect(),
        approved: row
            .approvals
            .iter()
            .map(|(scope, by, at)| Approval {
                scope: *scope,
                by: by.clone(),
                at: *at,
            })
            .collect(),
        effective,
        events: manifest.events.clone(),
        pending_version: pending.map(|m| m.version.clone()),
        pending_digest: row.pending_digest.as_ref().map(|d| format!("sha256:{d}")),
    }
}
