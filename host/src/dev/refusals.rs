//! The origins a run requested against the ones the manifest declares, and every call the run
//! was refused (a scope, the event's delivery, an outbound request), each with how to fix it.

use serde::Serialize;

use super::usage::{Declared, Reach, ScopeUse};
use crate::grants::Scope;
use crate::manifest::{Manifest, Origin};
use crate::outbound::OFFLINE_REFUSAL;
use crate::report::{Event, InvocationReport};

/// Where an origin goes in the least manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OriginPlacement {
    /// Declared, and kept.
    Keep,
    /// Not declared, and needed: add it.
    Add,
    /// Declared, and not needed: drop it.
    Drop,
}

/// One origin: declared or requested, what its requests came to, and where it belongs.
#[derive(Debug, Clone, Serialize)]
pub struct OriginUse {
    /// The origin (scheme, host, port).
    pub origin: String,
    /// Whether the manifest declares it under `[[http]]`.
    pub declared: bool,
    /// Requests this run made to it.
    pub requests: u32,
    /// Requests the provider answered.
    pub answered: u32,
    /// Requests that passed every check but were not sent: no network in this run.
    pub offline: u32,
    /// Requests the host refused.
    pub refused: u32,
    /// Where it belongs in the least manifest.
    pub suggestion: OriginPlacement,
    /// Why, in one sentence.
    pub why: String,
}

/// A call the run was refused, and how to fix it.
#[derive(Debug, Clone, Serialize)]
pub struct Denial {
    /// What was refused: host operations, the event's delivery, or a request's method and
    /// origin.
    pub call: String,
    /// The scope it needed, when a scope was the reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// How many times.
    pub count: u32,
    /// Why the host refused it.
    pub cause: String,
    /// What to change.
    pub fix: String,
}

/// Every declared or requested origin, with where it belongs.
pub(crate) fn origin_uses(
    manifest: &Manifest,
    reach: &Reach,
    report: Option<&InvocationReport>,
) -> Vec<OriginUse> {
    let mut uses: Vec<OriginUse> = manifest
        .origins()
        .map(|o| blank(o.to_string(), true))
        .collect();
    for call in report.iter().flat_map(|r| &r.outbound) {
        let Ok(origin) = Origin::parse(&call.origin) else {
            continue; // a relative URI: listed among the denials
        };
        let shown = origin.to_string();
        let index = match uses.iter().position(|u| u.origin == shown) {
            Some(i) => i,
            None => {
                uses.push(blank(shown, false));
                uses.len() - 1
            }
        };
        let u = &mut uses[index];
        u.requests += 1;
        match (&call.error, call.refused, call.status) {
            (Some(e), true, _) if e == OFFLINE_REFUSAL => u.offline += 1,
            (_, true, _) => u.refused += 1,
            (_, _, Some(_)) => u.answered += 1,
            _ => {}
        }
    }
    let any_requested = uses.iter().any(|u| u.requests > 0);
    for u in &mut uses {
        (u.suggestion, u.why) = place_origin(u, reach.http, any_requested);
    }
    uses
}

fn blank(origin: String, declared: bool) -> OriginUse {
    OriginUse {
        origin,
        declared,
        requests: 0,
        answered: 0,
        offline: 0,
        refused: 0,
        suggestion: OriginPlacement::Drop,
        why: String::new(),
    }
}

fn place_origin(u: &OriginUse, http: bool, any_requested: bool) -> (OriginPlacement, String) {
    if u.requests > 0 && !u.declared {
        let why = format!(
            "requested by this run ({} request(s)) and refused: not declared",
            u.requests
        );
        return (OriginPlacement::Add, why);
    }
    if u.requests > 0 {
        let mut why = format!("requested by this run: {} request(s)", u.requests);
        if u.offline > 0 {
            why.push_str(&format!(
                ", {} not sent (no network: pass `--allow-network` to send them)",
                u.offline
            ));
        }
        return (OriginPlacement::Keep, why);
    }
    if !http {
        let why = "the code never makes HTTP requests (it does not import wasi:http): drop it \
                   (true for every event)";
        return (OriginPlacement::Drop, why.to_owned());
    }
    if !any_requested {
        let why = "this run made no request, but the code imports wasi:http and install needs \
                   at least one [[http]] origin; run events that make requests to see which";
        return (OriginPlacement::Keep, why.to_owned());
    }
    let why = "not requested by this run; keep it only if another event calls it (one run \
               shows one path)";
    (OriginPlacement::Drop, why.to_owned())
}

/// Every refusal of the run: scopes, the event's delivery, outbound requests.
pub(crate) fn denials(
    manifest: &Manifest,
    scopes: &[ScopeUse],
    event: &Event,
    report: Option<&InvocationReport>,
) -> Vec<Denial> {
    let mut out = Vec::new();
    // Not delivered: only a topic that needs a scope can be refused.
    if let (None, Some(scope)) = (report, event.topic.needs()) {
        out.push(Denial {
            call: format!("delivery of `{}`", event.topic),
            scope: Some(scope),
            count: 1,
            cause: format!(
                "the host delivers `{}` only to a connector granted `{scope}`",
                event.topic
            ),
            fix: scope_fix(Declared::of(manifest, scope), scope),
        });
    }
    for u in scopes.iter().filter(|u| u.denied_calls > 0) {
        out.push(Denial {
            call: u.operations.join(", "),
            scope: Some(u.scope),
            count: u.denied_calls,
            cause: format!("`{}` is not granted in this run", u.scope),
            fix: scope_fix(u.declared, u.scope),
        });
    }
    for call in report.iter().flat_map(|r| &r.outbound) {
        let Some(error) = call.error.as_deref().filter(|_| call.refused) else {
            continue;
        };
        if error == OFFLINE_REFUSAL {
            continue;
        }
        let undeclared = Origin::parse(&call.origin)
            .ok()
            .filter(|o| !manifest.origins().any(|d| d == o));
        let (cause, fix) = match undeclared {
            Some(origin) => (
                "the origin is not declared in the manifest".to_owned(),
                format!(
                    "add [[http]] origin = \"{origin}\" with a reason (the merchant approves \
                     it with the app), or stop calling it"
                ),
            ),
            None => (error.to_owned(), request_fix(error)),
        };
        out.push(Denial {
            call: format!("{} {}", call.method, call.origin),
            scope: None,
            count: 1,
            cause,
            fix,
        });
    }
    out
}

/// How to fix a refusal for want of `scope`, by how the manifest declares it.
pub(crate) fn scope_fix(declared: Declared, scope: Scope) -> String {
    match declared {
        Declared::Optional => format!(
            "`{scope}` is optional and this run did not grant it, as a merchant who declines \
             it. Simulate a merchant approving it with `--grant {scope}`. If the connector \
             cannot work without it, move it to [[scopes.required]] (every merchant must then \
             grant it); otherwise make sure it copes with the refusal"
        ),
        Declared::Required => format!(
            "`{scope}` is required, and this run granted nothing (`--grant none`); every \
             merchant who installs the app grants it: run without `--grant none`"
        ),
        Declared::No => format!(
            "the manifest does not declare `{scope}`: add it under [[scopes.required]] or \
             [[scopes.optional]] with a reason (a platform refuses at install any code that \
             calls a function needing an undeclared scope, and no merchant can grant it)"
        ),
    }
}

/// A hint for a request the host refused for another reason than its origin.
fn request_fix(error: &str) -> String {
    if error.starts_with("secret `") && error.ends_with("is not set") {
        "give the secret a value for this run: `--secret NAME=VALUE`, or the environment \
         variable AIRLOCK_DEV_SECRET_<NAME> (NAME in capitals)"
            .to_owned()
    } else if error.contains("prohibited addresses") {
        "the origin resolves to a loopback or private address, which connectors never reach \
         by default: for a local provider pass `--allow-private-ip CONNECTOR=IP:PORT` or \
         `--resolve HOST:PORT:ADDR`"
            .to_owned()
    } else if error.contains("absolute") {
        "send absolute http(s) URIs to a declared origin".to_owned()
    } else {
        "the request breaks a rule every platform enforces (README: \"Calling a provider\" \
         and the security model): change the request"
            .to_owned()
    }
}
