//! The connector manifest: who made the connector, what it is, and what it asks for. This
//! module holds the types and the limits; `parse.rs` reads TOML, `validate.rs` checks fields.
//!
//! It travels inside the component (custom section `airlock-manifest`, written by the SDK's
//! `export!` macro), so one `.wasm` file is the whole artifact and its digest pins both.

mod parse;
#[cfg(test)]
mod tests;
mod validate;

use serde::{Deserialize, Serialize};

use crate::grants::{Scope, ScopeSet};
pub use crate::origin::Origin;
pub use crate::topics::Topic;
pub use parse::ManifestError;
pub use validate::is_secret_name;

/// Largest manifest accepted, in bytes.
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024;
/// Longest `reason` a publisher may give for a scope, in characters.
pub const MAX_REASON_CHARS: usize = 280;
/// Most origins one connector may declare.
pub const MAX_ORIGINS: usize = 16;
/// Most secrets one connector may declare.
pub const MAX_SECRETS: usize = 16;
/// Most extra credential headers one secret may declare.
pub const MAX_SECRET_HEADERS: usize = 4;

/// What kind of integration a connector is; the health view picks the merchant's checklist by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConnectorKind {
    /// Payment gateway.
    Payment,
    /// Courier or shipping aggregator.
    Logistics,
    /// WhatsApp, SMS or email messaging.
    Messaging,
    /// Traffic and sales analytics.
    Analytics,
    /// Advertising platform (conversions, audiences).
    Ads,
    /// Marketplace sync (catalogue, orders, stock).
    Marketplace,
}

impl ConnectorKind {
    /// Every kind.
    pub const ALL: [ConnectorKind; 6] = [
        ConnectorKind::Payment,
        ConnectorKind::Logistics,
        ConnectorKind::Messaging,
        ConnectorKind::Analytics,
        ConnectorKind::Ads,
        ConnectorKind::Marketplace,
    ];

    /// The kind as manifests spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorKind::Payment => "payment",
            ConnectorKind::Logistics => "logistics",
            ConnectorKind::Messaging => "messaging",
            ConnectorKind::Analytics => "analytics",
            ConnectorKind::Ads => "ads",
            ConnectorKind::Marketplace => "marketplace",
        }
    }
}

/// One scope a connector asks for, with the publisher's reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeRequest {
    /// The scope.
    pub scope: Scope,
    /// Why the connector needs it, in the publisher's words (shown quoted, never as host text).
    pub reason: String,
}

/// The scopes a connector asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeRequests {
    /// Scopes the connector cannot work without; the merchant approves all or none.
    #[serde(default)]
    pub required: Vec<ScopeRequest>,
    /// Scopes the merchant may approve one by one.
    #[serde(default)]
    pub optional: Vec<ScopeRequest>,
}

/// One origin a connector calls, with the publisher's reason (`[[http]]` in the manifest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpRequest {
    /// Exactly which scheme, host and port.
    pub origin: Origin,
    /// Why, in the publisher's words.
    pub reason: String,
}

/// One secret (API key, token) a connector uses, set by the merchant or platform
/// (`[[secrets]]` in the manifest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRequest {
    /// Its name, such as `gateway_key`: lowercase letters, digits and `_`.
    pub name: String,
    /// What it is, in the publisher's words.
    pub reason: String,
    /// Origins the host may attach it to (in a `{{secret:NAME}}` header placeholder): the
    /// connector uses the key without ever seeing it.
    #[serde(default)]
    pub send_to: Vec<Origin>,
    /// Headers besides `Authorization` the host may attach it in, such as `X-Api-Key` (HTTP
    /// header names, compared without case). Only these: a header that merely looks like a
    /// credential (`Idempotency-Key`) may be stored or echoed back by the provider.
    #[serde(default)]
    pub headers: Vec<String>,
    /// Whether the connector may read the value itself (for example to sign payloads). Off by
    /// default: a key the code never sees cannot be leaked by the code.
    #[serde(default)]
    pub readable: bool,
}

/// A validated connector manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Stable id, such as `acme.order-notifier`: lowercase letters, digits, `.`, `-`, `_`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Who publishes it.
    pub publisher: String,
    /// Semantic version of this build.
    pub version: String,
    /// What kind of integration it is.
    pub kind: ConnectorKind,
    /// One paragraph for the app listing.
    #[serde(default)]
    pub description: String,
    /// Scopes it asks for.
    #[serde(default)]
    pub scopes: ScopeRequests,
    /// Event topics it subscribes to.
    #[serde(default)]
    pub events: Vec<Topic>,
    /// Origins it calls over HTTP; approving the app approves these.
    #[serde(default)]
    pub http: Vec<HttpRequest>,
    /// Secrets it uses.
    #[serde(default)]
    pub secrets: Vec<SecretRequest>,
}

impl Manifest {
    /// The declared secret called `name`.
    pub fn secret(&self, name: &str) -> Option<&SecretRequest> {
        self.secrets.iter().find(|s| s.name == name)
    }

    /// Every origin the manifest declares.
    pub fn origins(&self) -> impl Iterator<Item = &Origin> {
        self.http.iter().map(|h| &h.origin)
    }

    /// Scopes the merchant must approve for the connector to run.
    pub fn required(&self) -> ScopeSet {
        self.scopes.required.iter().map(|r| r.scope).collect()
    }

    /// Scopes the merchant may approve one by one.
    pub fn optional(&self) -> ScopeSet {
        self.scopes.optional.iter().map(|r| r.scope).collect()
    }

    /// Every scope the manifest declares.
    pub fn declared(&self) -> ScopeSet {
        self.required().union(self.optional())
    }
}
