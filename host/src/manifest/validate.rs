//! The checks on a parsed manifest: ids, texts, version, scopes, events, origins and secrets.
//! Each refusal names the first field that is wrong and says how to fix it.

use super::parse::invalid;
use super::{
    MAX_ORIGINS, MAX_REASON_CHARS, MAX_SECRET_HEADERS, MAX_SECRETS, Manifest, ManifestError,
    ScopeRequest, SecretRequest,
};
use crate::grants::ScopeSet;
use crate::text::sanitize_quoted;

impl Manifest {
    /// Check every field; the error names the first field that is wrong.
    pub fn validate(&self) -> Result<(), ManifestError> {
        check_id(&self.id)?;
        check_text("name", &self.name, 64)?;
        check_text("publisher", &self.publisher, 64)?;
        check_description(&self.description)?;
        check_version(&self.version)?;
        self.check_scopes()?;
        self.check_events()?;
        self.check_origins()?;
        self.check_secrets()
    }

    /// The two scope lists, with the names their fields have.
    fn scope_lists(&self) -> [(&'static str, &Vec<ScopeRequest>); 2] {
        [
            ("required", &self.scopes.required),
            ("optional", &self.scopes.optional),
        ]
    }

    /// Each scope once, each with a reason; then what each scope needs declared with it.
    fn check_scopes(&self) -> Result<(), ManifestError> {
        let mut seen = ScopeSet::EMPTY;
        for (list, requests) in self.scope_lists() {
            for (i, request) in requests.iter().enumerate() {
                let field = format!("scopes.{list}[{i}]");
                if seen.contains(request.scope) {
                    return Err(invalid(
                        format!("{field}.scope"),
                        format!("`{}` is listed twice; list each scope once", request.scope),
                    ));
                }
                seen = seen.with(request.scope);
                let scope = request.scope.to_string();
                check_reason(&format!("{field}.reason"), &request.reason, &scope)?;
            }
        }
        self.check_scope_needs(seen)
    }

    /// A scope that needs another (contact details need the customer) has it declared, and
    /// required when it is required itself.
    fn check_scope_needs(&self, declared: ScopeSet) -> Result<(), ManifestError> {
        for (list, requests) in self.scope_lists() {
            for (i, request) in requests.iter().enumerate() {
                let Some(needed) = request.scope.requires() else {
                    continue;
                };
                let ok = if list == "required" {
                    self.required().contains(needed)
                } else {
                    declared.contains(needed)
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

    /// Each topic once, and only with the read scope it needs.
    fn check_events(&self) -> Result<(), ManifestError> {
        let declared = self.declared();
        for (i, topic) in self.events.iter().enumerate() {
            if self.events[..i].contains(topic) {
                return Err(invalid(
                    format!("events[{i}]"),
                    format!("`{topic}` is listed twice"),
                ));
            }
            if let Some(needs) = topic.needs()
                && !declared.contains(needs)
            {
                return Err(invalid(
                    format!("events[{i}]"),
                    format!("subscribing to `{topic}` needs the scope `{needs}`; declare it"),
                ));
            }
        }
        Ok(())
    }

    /// At most [`MAX_ORIGINS`] origins, each once, each with a reason.
    fn check_origins(&self) -> Result<(), ManifestError> {
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
        Ok(())
    }

    /// At most [`MAX_SECRETS`] secrets, each valid on its own.
    fn check_secrets(&self) -> Result<(), ManifestError> {
        if self.secrets.len() > MAX_SECRETS {
            return Err(invalid("secrets", format!("at most {MAX_SECRETS} secrets")));
        }
        for (i, secret) in self.secrets.iter().enumerate() {
            self.check_secret(i, secret)?;
        }
        Ok(())
    }

    /// `secrets[i]`: a good name listed once, a reason, origins declared under `[[http]]`, and
    /// a use (attached somewhere, or readable).
    fn check_secret(&self, i: usize, secret: &SecretRequest) -> Result<(), ManifestError> {
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
        check_headers(&field, secret)?;
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
        Ok(())
    }
}

/// Headers the HTTP stack writes itself, or that providers and proxies are known to log,
/// store or reflect: a key is never attached in them, whatever a manifest says.
const NEVER_CREDENTIAL_HEADERS: [&str; 14] = [
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "te",
    "trailer",
    "upgrade",
    "keep-alive",
    "expect",
    "origin",
    "referer",
    "user-agent",
    "idempotency-key",
];

/// `secrets[i].headers`: HTTP header names (RFC 9110 tokens), each once, at most
/// [`MAX_SECRET_HEADERS`], none the HTTP stack owns or providers echo, and only on a secret
/// that is attached somewhere.
fn check_headers(field: &str, secret: &SecretRequest) -> Result<(), ManifestError> {
    if secret.headers.len() > MAX_SECRET_HEADERS {
        return Err(invalid(
            format!("{field}.headers"),
            format!("at most {MAX_SECRET_HEADERS} headers besides `Authorization`"),
        ));
    }
    if !secret.headers.is_empty() && secret.send_to.is_empty() {
        return Err(invalid(
            format!("{field}.headers"),
            "headers say where the host attaches the key; list the origins in `send_to` too",
        ));
    }
    for (j, header) in secret.headers.iter().enumerate() {
        let at = format!("{field}.headers[{j}]");
        if !is_header_name(header) {
            return Err(invalid(
                at,
                "must be an HTTP header name of 1 to 64 letters, digits and                  !#$%&'*+-.^_`|~ (for example `X-Api-Key`)",
            ));
        }
        let lower = header.to_ascii_lowercase();
        if NEVER_CREDENTIAL_HEADERS.contains(&lower.as_str()) {
            return Err(invalid(
                at,
                format!(
                    "`{lower}` is written by the HTTP stack or stored and echoed by providers;                      a key cannot be attached in it"
                ),
            ));
        }
        if secret.headers[..j]
            .iter()
            .any(|h| h.eq_ignore_ascii_case(header))
        {
            return Err(invalid(at, format!("`{lower}` is listed twice")));
        }
    }
    Ok(())
}

/// An HTTP field name: 1 to 64 `tchar`s (RFC 9110 section 5.6.2).
fn is_header_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Secret names: `[a-z][a-z0-9_]{0,63}`, so a `{{secret:NAME}}` placeholder is unambiguous.
pub fn is_secret_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A publisher's reason for `what`: not blank, one line, at most [`MAX_REASON_CHARS`].
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

fn check_description(description: &str) -> Result<(), ManifestError> {
    if description.chars().count() > 500 || has_control(description) {
        return Err(invalid(
            "description",
            "must be at most 500 characters without control characters",
        ));
    }
    Ok(())
}

fn check_version(version: &str) -> Result<(), ManifestError> {
    semver::Version::parse(version).map_err(|e| {
        invalid(
            "version",
            format!(
                "`{}` is not a semantic version like 1.2.0: {}",
                sanitize_quoted(version, 64),
                sanitize_quoted(&e.to_string(), 200)
            ),
        )
    })?;
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
                sanitize_quoted(id, 64)
            ),
        ))
    }
}
