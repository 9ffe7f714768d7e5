//! The least manifest for what a run used: the scopes, events, origins and secrets it needed
//! (and what install needs for the code to be accepted at all), with every other declaration
//! dropped or made optional, written as TOML with a comment on each decision. The TOML is
//! parsed back with the host's own manifest parser, so what is suggested is what installs.

use serde::Serialize;

use super::refusals::{OriginPlacement, OriginUse};
use super::usage::{Placement, Reach, ScopeUse};
use crate::grants::Scope;
use crate::manifest::{Manifest, SecretRequest, Topic};
use crate::text::is_unsafe_char;

/// The reason written for a declaration the author has to explain.
const TODO_REASON: &str = "TODO: tell the merchant why the connector needs this";

/// The least manifest that would pass for what one run used.
#[derive(Debug, Clone, Serialize)]
pub struct LeastManifest {
    /// `[[scopes.required]]`.
    pub required: Vec<Scope>,
    /// `[[scopes.optional]]`.
    pub optional: Vec<Scope>,
    /// `events`.
    pub events: Vec<Topic>,
    /// `[[http]]` origins.
    pub http: Vec<String>,
    /// `[[secrets]]` names.
    pub secrets: Vec<String>,
    /// What differs from the manifest the run used, one line each.
    pub changes: Vec<String>,
    /// The whole manifest as TOML, a comment on each decision.
    pub toml: String,
    /// Why the TOML would not pass the host's manifest checks, if it would not (a bug).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalid: Option<String>,
}

/// The least manifest from `manifest` and what the run used.
pub(crate) fn least_manifest(
    manifest: &Manifest,
    scopes: &[ScopeUse],
    origins: &[OriginUse],
    reach: &Reach,
    topic: Topic,
) -> LeastManifest {
    let placed = |p: Placement| -> Vec<Scope> {
        scopes
            .iter()
            .filter(|u| u.suggestion == p)
            .map(|u| u.scope)
            .collect()
    };
    let (required, optional) = (placed(Placement::Required), placed(Placement::Optional));
    let kept = |s: Scope| required.contains(&s) || optional.contains(&s);
    let mut changes = Vec::new();
    let mut events: Vec<Topic> = Vec::new();
    for t in &manifest.events {
        match t.needs() {
            Some(needs) if !kept(needs) => {
                changes.push(format!("events: drop `{t}` with `{needs}`"));
            }
            _ => events.push(*t),
        }
    }
    if !events.contains(&topic) {
        events.push(topic);
        changes.push(format!(
            "events: subscribe to `{topic}`: a platform delivers a connector only the events \
             it subscribes to"
        ));
    }
    for u in scopes {
        let was = match u.declared {
            super::usage::Declared::Required => Placement::Required,
            super::usage::Declared::Optional => Placement::Optional,
            super::usage::Declared::No => Placement::Drop,
        };
        if was != u.suggestion {
            changes.push(scope_change(u.scope, was, u.suggestion, &u.why));
        }
    }
    let http: Vec<&OriginUse> = origins
        .iter()
        .filter(|o| o.suggestion != OriginPlacement::Drop)
        .collect();
    for o in origins {
        match o.suggestion {
            OriginPlacement::Add => changes.push(format!("[[http]]: add {}: {}", o.origin, o.why)),
            OriginPlacement::Drop => {
                changes.push(format!("[[http]]: drop {}: {}", o.origin, o.why))
            }
            OriginPlacement::Keep => {}
        }
    }
    let kept_origins: Vec<String> = http.iter().map(|o| o.origin.clone()).collect();
    let secrets = least_secrets(manifest, &kept_origins, reach, &mut changes);
    let toml = render(manifest, scopes, &events, &http, &secrets, &changes);
    let invalid = Manifest::parse(toml.as_bytes())
        .err()
        .map(|e| e.to_string());
    LeastManifest {
        required,
        optional,
        events,
        http: kept_origins,
        secrets: secrets.iter().map(|s| s.name.clone()).collect(),
        changes,
        toml,
        invalid,
    }
}

fn scope_change(scope: Scope, was: Placement, now: Placement, why: &str) -> String {
    let verb = match (was, now) {
        (Placement::Drop, _) => format!("add `{scope}` as {}", now.as_str()),
        (_, Placement::Drop) => format!("drop `{scope}`"),
        _ => format!("make `{scope}` {}", now.as_str()),
    };
    format!("scopes: {verb}: {why}")
}

/// Each declared secret, sent only to the origins kept and readable only if the code reads
/// secrets; one that can be neither sent nor read is dropped.
fn least_secrets(
    manifest: &Manifest,
    origins: &[String],
    reach: &Reach,
    changes: &mut Vec<String>,
) -> Vec<SecretRequest> {
    let mut out = Vec::new();
    for secret in &manifest.secrets {
        let mut least = secret.clone();
        least
            .send_to
            .retain(|o| origins.iter().any(|k| *k == o.to_string()));
        if least.send_to.is_empty() {
            least.headers.clear();
        }
        least.readable = secret.readable && reach.reads_secrets;
        if secret.readable && !least.readable {
            changes.push(format!(
                "[[secrets]] {}: not readable: the code never reads a secret's value",
                secret.name
            ));
        }
        if least.send_to.is_empty() && !least.readable {
            changes.push(format!(
                "[[secrets]]: drop {}: it would be neither attached to an origin kept nor read",
                secret.name
            ));
            continue;
        }
        out.push(least);
    }
    out
}

/// `text` as a TOML basic string, with anything a terminal would obey escaped.
fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() || is_unsafe_char(c) => {
                out.push_str(&format!("\\U{:08X}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn list(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().map(|i| quoted(&i)).collect();
    format!("[{}]", items.join(", "))
}

/// A comment line: one line, whatever the text.
fn comment(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("# {one_line}\n")
}

fn render(
    manifest: &Manifest,
    scopes: &[ScopeUse],
    events: &[Topic],
    http: &[&OriginUse],
    secrets: &[SecretRequest],
    changes: &[String],
) -> String {
    let mut out = String::new();
    out.push_str(&format!("id = {}\n", quoted(&manifest.id)));
    out.push_str(&format!("name = {}\n", quoted(&manifest.name)));
    out.push_str(&format!("publisher = {}\n", quoted(&manifest.publisher)));
    out.push_str(&format!("version = {}\n", quoted(&manifest.version)));
    out.push_str(&format!("kind = {}\n", quoted(manifest.kind.as_str())));
    if !manifest.description.is_empty() {
        out.push_str(&format!(
            "description = {}\n",
            quoted(&manifest.description)
        ));
    }
    let topics = events.iter().map(|t| t.as_str().to_owned());
    out.push_str(&format!("events = {}\n", list(topics)));
    for placement in [Placement::Required, Placement::Optional] {
        for u in scopes.iter().filter(|u| u.suggestion == placement) {
            let reason = declared_reason(manifest, u.scope).unwrap_or(TODO_REASON);
            out.push('\n');
            out.push_str(&comment(&u.why));
            out.push_str(&format!("[[scopes.{}]]\n", placement.as_str()));
            out.push_str(&format!("scope = {}\n", quoted(u.scope.as_str())));
            out.push_str(&format!("reason = {}\n", quoted(reason)));
        }
    }
    for o in http {
        let reason = manifest
            .http
            .iter()
            .find(|h| h.origin.to_string() == o.origin)
            .map_or(TODO_REASON, |h| h.reason.as_str());
        out.push('\n');
        out.push_str(&comment(&o.why));
        out.push_str(&format!("[[http]]\norigin = {}\n", quoted(&o.origin)));
        out.push_str(&format!("reason = {}\n", quoted(reason)));
    }
    for s in secrets {
        out.push_str(&format!("\n[[secrets]]\nname = {}\n", quoted(&s.name)));
        out.push_str(&format!("reason = {}\n", quoted(&s.reason)));
        if !s.send_to.is_empty() {
            let origins = s.send_to.iter().map(|o| o.to_string());
            out.push_str(&format!("send_to = {}\n", list(origins)));
        }
        if !s.headers.is_empty() {
            out.push_str(&format!("headers = {}\n", list(s.headers.iter().cloned())));
        }
        if s.readable {
            out.push_str("readable = true\n");
        }
    }
    let dropped: Vec<&String> = changes.iter().filter(|c| c.contains(": drop ")).collect();
    if !dropped.is_empty() {
        out.push('\n');
        for change in dropped {
            out.push_str(&comment(change));
        }
    }
    out
}

fn declared_reason(manifest: &Manifest, scope: Scope) -> Option<&str> {
    manifest
        .scopes
        .required
        .iter()
        .chain(&manifest.scopes.optional)
        .find(|r| r.scope == scope)
        .map(|r| r.reason.as_str())
}
