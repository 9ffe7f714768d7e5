//! The connector manifest: who made the connector, what it is, and what it asks for.
//!
//! It travels inside the component (custom section `airlock-manifest`, written by the SDK's
//! `export!` macro), so one `.wasm` file is the whole artifact and its digest pins both.

use serde::{Deserialize, Serialize};

use crate::grants::{Scope, ScopeSet};
pub use crate::origin::Origin;
pub use crate::topics::Topic;

/// Largest manifest accepted, in bytes.
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024;
/// Longest `reason` a publisher may give for a scope, in characters.
pub const MAX_REASON_CHARS: usize = 280;

/// What kind of integration a connector is; the health view picks the merchant's checklist by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// Why a manifest was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Larger than [`MAX_MANIFEST_BYTES`].
    #[error("manifest is {0} bytes; the limit is {MAX_MANIFEST_BYTES}")]
    TooLarge(usize),
    /// Not UTF-8 text.
    #[error("manifest is not UTF-8 text")]
    NotUtf8,
    /// Not valid TOML, or a field is missing, unknown or of the wrong type.
    #[error("manifest is not valid: {0}")]
    Syntax(String),
    /// A field has a value the host does not accept.
    #[error("manifest field `{field}`: {problem}")]
    Invalid {
        /// The field, such as `scopes.optional[1].reason`.
        field: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> ManifestError {
    ManifestError::Invalid {
        field: field.into(),
        problem: problem.into(),
    }
}

impl Manifest {
    /// Parse and validate manifest bytes (TOML).
    pub fn parse(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(ManifestError::TooLarge(bytes.len()));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| ManifestError::NotUtf8)?;
        let manifest: Manifest = toml::from_str(text)
            .map_err(|e| ManifestError::Syntax(e.to_string().trim().to_owned()))?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Check every field; the error names the first field that is wrong.
    pub fn validate(&self) -> Result<(), ManifestError> {
        check_id(&self.id)?;
        check_text("name", &self.name, 64)?;
        check_text("publisher", &self.publisher, 64)?;
        if self.description.chars().count() > 500 || has_control(&self.description) {
            return Err(invalid(
                "description",
                "must be at most 500 characters without control characters",
            ));
        }
        semver::Version::parse(&self.version).map_err(|e| {
            invalid(
                "version",
                format!(
                    "`{}` is not a semantic version like 1.2.0: {e}",
                    self.version
                ),
            )
        })?;
        self.check_scopes()?;
        self.check_events()?;
        self.check_connections()
    }

    fn check_connections(&self) -> Result<(), ManifestError> {
        if self.http.len() > MAX_ORIGINS {
            return Err(invalid(
                "http",
                format!("at most {MAX_ORIGINS} origins; a connector talks to its provider"),
            ));
        }
        for (i, request) in self.http.iter().enumerate() {
            if self.http[..i].iter().any(|o| o.origin == request.origin) {
                return Err(invalid(
                    format!("http[{i}].origin"),
                    format!("`{}` is listed twice", request.origin),
                ));
            }
            check_reason(
                &format!("http[{i}].reason"),
                &request.reason,
                &request.origin.to_string(),
            )?;
        }
        if self.secrets.len() > MAX_SECRETS {
            return Err(invalid("secrets", format!("at most {MAX_SECRETS} secrets")));
        }
        for (i, secret) in self.secrets.iter().enumerate() {
            let field = format!("secrets[{i}]");
            if !is_secret_name(&secret.name) {
                return Err(invalid(
                    format!("{field}.name"),
                    "must be 1 to 64 characters of a-z, 0-9 and `_`, starting with a letter \
                     (for example `gateway_key`)",
                ));
            }
            if self.secrets[..i].iter().any(|s| s.name == secret.name) {
                return Err(invalid(
                    format!("{field}.name"),
                    format!("`{}` is listed twice", secret.name),
                ));
            }
            check_reason(&format!("{field}.reason"), &secret.reason, &secret.name)?;
            for (j, origin) in secret.send_to.iter().enumerate() {
                if !self.http.iter().any(|h| &h.origin == origin) {
                    return Err(invalid(
                        format!("{field}.send_to[{j}]"),
                        format!("`{origin}` is not declared under [[http]]; declare it there too"),
                    ));
                }
            }
            if secret.send_to.is_empty() && !secret.readable {
                return Err(invalid(
                    format!("{field}.send_to"),
                    format!(
                        "`{}` can be neither attached nor read: list the origins it is sent to, \
                         or set `readable = true`",
                        secret.name
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The declared secret called `name`.
    pub fn secret(&self, name: &str) -> Option<&SecretRequest> {
        self.secrets.iter().find(|s| s.name == name)
    }

    /// Every origin the manifest declares.
    pub fn origins(&self) -> impl Iterator<Item = &Origin> {
        self.http.iter().map(|h| &h.origin)
    }

    fn check_scopes(&self) -> Result<(), ManifestError> {
        let mut seen = ScopeSet::EMPTY;
        let lists = [
            ("required", &self.scopes.required),
            ("optional", &self.scopes.optional),
        ];
        for (list, requests) in lists {
            for (i, request) in requests.iter().enumerate() {
                let field = format!("scopes.{list}[{i}]");
                if seen.contains(request.scope) {
                    return Err(invalid(
                        format!("{field}.scope"),
                        format!("`{}` is listed twice; list each scope once", request.scope),
                    ));
                }
                seen = seen.with(request.scope);
                let reason = request.reason.trim();
                if reason.is_empty() {
                    return Err(invalid(
                        format!("{field}.reason"),
                        format!("say why the connector needs `{}`", request.scope),
                    ));
                }
                if request.reason.chars().count() > MAX_REASON_CHARS || has_control(&request.reason)
                {
                    return Err(invalid(
                        format!("{field}.reason"),
                        format!("must be one line of at most {MAX_REASON_CHARS} characters"),
                    ));
                }
            }
        }
        for (list, requests) in lists {
            for (i, request) in requests.iter().enumerate() {
                let Some(needed) = request.scope.requires() else {
                    continue;
                };
                let ok = if list == "required" {
                    self.required().contains(needed)
                } else {
                    seen.contains(needed)
                };
                if !ok {
                    return Err(invalid(
                        format!("scopes.{list}[{i}].scope"),
                        format!(
                            "`{}` needs `{needed}` declared as well (and required if this one is)",
                            request.scope
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_events(&self) -> Result<(), ManifestError> {
        let declared = self.declared();
        for (i, topic) in self.events.iter().enumerate() {
            if self.events[..i].contains(topic) {
                return Err(invalid(
                    format!("events[{i}]"),
                    format!("`{topic}` is listed twice"),
                ));
            }
            if !declared.contains(topic.needs()) {
                return Err(invalid(
                    format!("events[{i}]"),
                    format!(
                        "subscribing to `{topic}` needs the scope `{}`; declare it",
                        topic.needs()
                    ),
                ));
            }
        }
        Ok(())
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

/// Most origins one connector may declare.
pub const MAX_ORIGINS: usize = 16;
/// Most secrets one connector may declare.
pub const MAX_SECRETS: usize = 16;

/// Secret names: `[a-z][a-z0-9_]{0,63}`, so a `{{secret:NAME}}` placeholder is unambiguous.
pub fn is_secret_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn check_reason(field: &str, reason: &str, what: &str) -> Result<(), ManifestError> {
    if reason.trim().is_empty() {
        return Err(invalid(
            field,
            format!("say why the connector needs `{what}`"),
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS || has_control(reason) {
        return Err(invalid(
            field,
            format!("must be one line of at most {MAX_REASON_CHARS} characters"),
        ));
    }
    Ok(())
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

fn check_text(field: &str, value: &str, max: usize) -> Result<(), ManifestError> {
    let padded = value.trim() != value;
    if value.trim().is_empty() || value.chars().count() > max || has_control(value) || padded {
        return Err(invalid(
            field,
            format!(
                "must be 1 to {max} characters without control characters or surrounding spaces"
            ),
        ));
    }
    Ok(())
}

fn check_id(id: &str) -> Result<(), ManifestError> {
    let ok_len = (3..=64).contains(&id.len());
    let ok_start = id.starts_with(|c: char| c.is_ascii_lowercase());
    let ok_chars = id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    if ok_len && ok_start && ok_chars {
        Ok(())
    } else {
        Err(invalid(
            "id",
            format!(
                "`{}` must be 3 to 64 characters of a-z, 0-9, `.`, `-`, `_`, starting with a letter \
                 (for example `acme.order-notifier`)",
                id.chars().take(64).collect::<String>()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "acme.order-notifier"
name = "Order Notifier"
publisher = "Acme Labs"
version = "1.0.0"
kind = "messaging"
events = ["order.created"]

[[scopes.required]]
scope = "orders:read"
reason = "Read the order to write the message"

[[scopes.required]]
scope = "customers:read"
reason = "Find who placed the order"

[[scopes.optional]]
scope = "customers:read-contact"
reason = "Address the customer by name"
"#;

    fn field_of(err: ManifestError) -> String {
        match err {
            ManifestError::Invalid { field, .. } => field,
            other => panic!("expected an invalid field, got {other}"),
        }
    }

    #[test]
    fn a_good_manifest_parses_with_its_scope_sets() {
        let m = Manifest::parse(GOOD.as_bytes()).unwrap();
        assert_eq!(m.kind, ConnectorKind::Messaging);
        assert_eq!(m.required().to_string(), "orders:read, customers:read");
        assert_eq!(m.optional().to_string(), "customers:read-contact");
        assert_eq!(m.events, [Topic::OrderCreated]);
    }

    #[test]
    fn unknown_scope_names_the_scope_and_lists_the_valid_ones() {
        let text = GOOD.replace("\"customers:read-contact\"", "\"customers:delete\"");
        let err = Manifest::parse(text.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("customers:delete"), "{err}");
        assert!(err.contains("customers:read-contact"), "{err}");
    }

    #[test]
    fn missing_and_unknown_fields_are_named() {
        let missing = GOOD.replace("publisher = \"Acme Labs\"\n", "");
        let err = Manifest::parse(missing.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("publisher"), "{err}");
        let typo = GOOD.replace("kind = ", "knd = \"x\"\nkind = ");
        let err = Manifest::parse(typo.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("knd"), "{err}");
    }

    #[test]
    fn bad_values_name_their_field() {
        let cases = [
            (GOOD.replace("acme.order-notifier", "Acme Notifier!"), "id"),
            (GOOD.replace("1.0.0", "one"), "version"),
            (
                GOOD.replace("Find who placed the order", " "),
                "scopes.required[1].reason",
            ),
            (
                GOOD.replace("Address the customer by name", "line one\\nline two"),
                "scopes.optional[0].reason",
            ),
            (
                GOOD.replace("\"customers:read-contact\"", "\"orders:read\""),
                "scopes.optional[0].scope",
            ),
            (
                GOOD.replace(
                    "[\"order.created\"]",
                    "[\"order.created\", \"order.created\"]",
                ),
                "events[1]",
            ),
            (
                GOOD.replace("[\"order.created\"]", "[\"inventory.changed\"]"),
                "events[0]",
            ),
        ];
        for (text, field) in cases {
            assert_eq!(
                field_of(Manifest::parse(text.as_bytes()).unwrap_err()),
                field
            );
        }
    }

    #[test]
    fn contact_scope_needs_the_customer_scope() {
        let text = GOOD.replace(
            "scope = \"customers:read\"\nreason = \"Find who placed the order\"",
            "scope = \"orders:write\"\nreason = \"Mark orders\"",
        );
        let err = Manifest::parse(text.as_bytes()).unwrap_err();
        assert_eq!(field_of(err), "scopes.optional[0].scope");
    }

    #[test]
    fn unknown_kind_and_topic_are_refused() {
        let err = Manifest::parse(GOOD.replace("messaging", "crypto").as_bytes()).unwrap_err();
        assert!(err.to_string().contains("crypto"), "{err}");
        let err = Manifest::parse(GOOD.replace("order.created", "order.exploded").as_bytes())
            .unwrap_err();
        assert!(err.to_string().contains("order.exploded"), "{err}");
    }

    const CONNECTED: &str = r#"
[[http]]
origin = "https://api.gateway.example"
reason = "Check that the order was paid"

[[http]]
origin = "http://127.0.0.1:8080"
reason = "Local courier"

[[secrets]]
name = "gateway_key"
reason = "Your gateway API key"
send_to = ["https://api.gateway.example"]
"#;

    #[test]
    fn origins_and_secrets_parse_and_bad_ones_name_their_field() {
        let text = format!("{GOOD}{CONNECTED}");
        let m = Manifest::parse(text.as_bytes()).unwrap();
        assert_eq!(m.origins().count(), 2);
        assert_eq!(m.secret("gateway_key").unwrap().send_to.len(), 1);
        assert!(!m.secret("gateway_key").unwrap().readable);
        let cases = [
            (
                text.replace(
                    "origin = \"https://api.gateway.example\"",
                    "origin = \"https://api.gateway.example/v1\"",
                ),
                "http[0].origin",
            ),
            (text.replace("Local courier", ""), "http[1].reason"),
            (
                text.replace(
                    "send_to = [\"https://api.gateway.example\"]",
                    "send_to = [\"https://evil.example\"]",
                ),
                "secrets[0].send_to[0]",
            ),
            (
                text.replace("send_to = [\"https://api.gateway.example\"]", ""),
                "secrets[0].send_to",
            ),
            (
                text.replace("gateway_key", "Gateway Key"),
                "secrets[0].name",
            ),
            (
                text.replace(
                    "origin = \"http://127.0.0.1:8080\"",
                    "origin = \"https://api.gateway.example:443\"",
                ),
                "http[1].origin",
            ),
        ];
        for (bad, field) in cases {
            let err = Manifest::parse(bad.as_bytes()).unwrap_err();
            let shown = err.to_string();
            match err {
                ManifestError::Invalid { field: f, .. } => assert_eq!(f, field, "{shown}"),
                ManifestError::Syntax(s) => assert!(s.contains("origin"), "{field}: {s}"),
                other => panic!("{field}: {other}"),
            }
        }
    }

    #[test]
    fn oversized_and_non_utf8_manifests_are_refused() {
        let big = vec![b'#'; MAX_MANIFEST_BYTES + 1];
        assert_eq!(
            Manifest::parse(&big),
            Err(ManifestError::TooLarge(big.len()))
        );
        assert_eq!(Manifest::parse(&[0xff, 0xfe]), Err(ManifestError::NotUtf8));
    }
}
