//! Running a loaded connector once: a sandbox of its own, the demo store's fixtures in memory,
//! the chosen grant; then the analysis of what it used. A component a platform would refuse
//! at install is explained in full (every missing declaration), never run.

use std::sync::Arc;

use super::least::least_manifest;
use super::refusals::{denials, origin_uses};
use super::usage::{Reach, scope_uses};
use super::{DEV_INSTALLATION, DevConnector, DevError, DevOptions, DevReport, Resources};
use crate::artifact::{Artifact, ArtifactError};
use crate::demo::{DEMO_MERCHANT, fixtures, seed_memory};
use crate::grants::{Grant, Scope, ScopeSet};
use crate::ids::{InstallationId, MerchantId};
use crate::manifest::{HttpRequest, Manifest, Origin, ScopeRequest, SecretRequest};
use crate::memory::MemoryData;
use crate::outbound::{NetworkPolicy, OFFLINE_REFUSAL};
use crate::report::{CallResult, Event, InvocationReport};
use crate::runtime::{CallSetup, DataSources, Sandbox};

impl DevConnector {
    /// Run `event` through the connector once under `options`, and analyse what it used.
    /// Compiles the component first: CPU-heavy (seconds for a large component).
    pub async fn run(&self, event: &Event, options: &DevOptions) -> Result<DevReport, DevError> {
        let granted = self.grants(options)?;
        let data = Arc::new(MemoryData::default());
        seed_memory(&data);
        let installation = InstallationId::new(DEV_INSTALLATION);
        self.put_secrets(&data, &installation, options)?;
        let policy = options
            .network
            .clone()
            .unwrap_or_else(|| NetworkPolicy::default().offline());
        let sandbox = Sandbox::with_network(&options.limits, policy)
            .map_err(|e| DevError::Engine(format!("{e:#}")))?;
        let prepared = match sandbox.prepare(&self.artifact) {
            Ok(prepared) => prepared,
            Err(refused) => return Err(self.explain_refusal(&sandbox, refused)),
        };
        let manifest = &self.artifact.manifest;
        let grant = Grant::new(manifest.declared(), granted, ScopeSet::all());
        let delivered = event.topic.allowed(|s| grant.allows(s));
        let report = if delivered {
            let sources = DataSources {
                commerce: data.clone(),
                storage: data.clone(),
                secrets: Some(data),
            };
            let merchant = MerchantId::new(DEMO_MERCHANT);
            let setup = CallSetup::new(merchant, installation, grant);
            let limits = &options.limits;
            Some(
                sandbox
                    .invoke(&prepared, setup, &sources, limits, event)
                    .await,
            )
        } else {
            None
        };
        let reach = Reach::of(&prepared.imports());
        Ok(self.analyse(event, options, granted, &reach, report))
    }

    /// The report of a finished (or undelivered) run.
    fn analyse(
        &self,
        event: &Event,
        options: &DevOptions,
        granted: ScopeSet,
        reach: &Reach,
        report: Option<InvocationReport>,
    ) -> DevReport {
        let manifest = &self.artifact.manifest;
        let run = report.as_ref();
        let scopes = scope_uses(manifest, reach, granted, event, run);
        let origins = origin_uses(manifest, reach, run);
        let denials = denials(manifest, &scopes, event, run);
        let least = least_manifest(manifest, &scopes, &origins, reach, event.topic);
        let done = run.is_some_and(|r| matches!(r.result, CallResult::Done { .. }));
        let mut notes = self.notes.clone();
        notes.extend(notes_for(manifest, event, options, run));
        DevReport {
            connector: manifest.id.clone(),
            version: manifest.version.clone(),
            manifest_from: self.from,
            event: event.clone(),
            granted: granted.iter().collect(),
            network: options.network.is_some(),
            delivered: run.is_some(),
            passed: done && denials.is_empty(),
            resources: run.map(Resources::of),
            run: report,
            scopes,
            origins,
            denials,
            least_manifest: least,
            notes,
        }
    }

    /// Each secret value given, checked as the vault would, under a name the manifest
    /// declares.
    fn put_secrets(
        &self,
        data: &MemoryData,
        installation: &InstallationId,
        options: &DevOptions,
    ) -> Result<(), DevError> {
        let manifest = &self.artifact.manifest;
        for (name, value) in &options.secrets {
            if manifest.secret(name).is_none() {
                let names: Vec<&str> = manifest.secrets.iter().map(|s| s.name.as_str()).collect();
                return Err(DevError::SecretUndeclared {
                    name: crate::text::sanitize_quoted(name, 64),
                    declared: if names.is_empty() {
                        "(none)".to_owned()
                    } else {
                        names.join(", ")
                    },
                });
            }
            crate::vault::check_value(value).map_err(|e| DevError::SecretValue {
                name: name.clone(),
                problem: e.to_string(),
            })?;
            data.put_secret(installation, name, value);
        }
        Ok(())
    }

    /// A component the install check refused: when the refusal is a missing declaration,
    /// compile it once more under a manifest that declares everything, to name every missing
    /// declaration at once rather than the first.
    fn explain_refusal(&self, sandbox: &Sandbox, refused: ArtifactError) -> DevError {
        if !matches!(refused, ArtifactError::UndeclaredScopes(_)) {
            return DevError::Artifact(refused);
        }
        let manifest = &self.artifact.manifest;
        let open = Artifact {
            manifest: declaring_everything(manifest),
            ..self.artifact.clone()
        };
        let Ok(prepared) = sandbox.prepare(&open) else {
            return DevError::Artifact(refused);
        };
        let reach = Reach::of(&prepared.imports());
        let problems = missing_declarations(manifest, &reach);
        if problems.is_empty() {
            return DevError::Artifact(refused);
        }
        DevError::WouldBeRefused(problems)
    }
}

/// `manifest` with every scope declared, an origin and a readable secret: what no import
/// can be refused under.
fn declaring_everything(manifest: &Manifest) -> Manifest {
    let mut open = manifest.clone();
    let declared = manifest.declared();
    for scope in Scope::ALL.into_iter().filter(|s| !declared.contains(*s)) {
        let reason = "dev run".to_owned();
        open.scopes.optional.push(ScopeRequest { scope, reason });
    }
    if let (true, Ok(origin)) = (open.http.is_empty(), Origin::parse("https://dev.invalid")) {
        let reason = "dev run".to_owned();
        open.http.push(HttpRequest { origin, reason });
    }
    if !open.secrets.iter().any(|s| s.readable) {
        open.secrets.push(SecretRequest {
            name: "dev_run".to_owned(),
            reason: "dev run".to_owned(),
            send_to: Vec::new(),
            headers: Vec::new(),
            readable: true,
        });
    }
    open
}

/// Every declaration the install check needs and `manifest` lacks, each with its fix.
fn missing_declarations(manifest: &Manifest, reach: &Reach) -> Vec<String> {
    let mut problems = Vec::new();
    let declared = manifest.declared();
    for scope in reach.needed().minus(declared).iter() {
        let functions = reach.functions_needing(scope);
        let (calls, need) = match functions.split_last() {
            Some((last, rest)) if !rest.is_empty() => {
                (format!("{} and {last}", rest.join(", ")), "need")
            }
            _ => (functions.join(""), "needs"),
        };
        problems.push(format!(
            "the code calls {calls}, which {need} `{scope}`, and the manifest does not declare \
             it (install reads the component's imports, so a call no event reaches counts \
             too): add\n      [[scopes.optional]]   # or [[scopes.required]] if the connector \
             cannot work without it\n      scope = \"{scope}\"\n      reason = \"...\""
        ));
    }
    if reach.http && manifest.http.is_empty() {
        problems.push(
            "the code imports wasi:http (outbound requests) and the manifest declares no \
             origin: add an [[http]] entry with `origin` and `reason` for each provider"
                .to_owned(),
        );
    }
    if reach.reads_secrets && !manifest.secrets.iter().any(|s| s.readable) {
        problems.push(
            "the code reads a secret's value and the manifest declares no readable secret: \
             set `readable = true` on it under [[secrets]], or attach it with a \
             {{secret:NAME}} header instead of reading it"
                .to_owned(),
        );
    }
    problems
}

/// What else the author should know about this run.
fn notes_for(
    manifest: &Manifest,
    event: &Event,
    options: &DevOptions,
    run: Option<&InvocationReport>,
) -> Vec<String> {
    let mut notes = vec![
        "one run shows one path: the least manifest covers what this event made the connector \
         do; rerun with other events (other topics, other ids, a missing one such as \
         ord_9999) before trusting it"
            .to_owned(),
    ];
    if !manifest.events.contains(&event.topic) {
        notes.push(format!(
            "the manifest does not subscribe to `{}`: a platform would not deliver it to this \
             connector (the least manifest subscribes)",
            event.topic
        ));
    }
    for scope in &options.grant {
        if manifest.required().contains(*scope) && options.required {
            notes.push(format!("`--grant {scope}`: required, so granted anyway"));
        }
    }
    let offline = run
        .iter()
        .flat_map(|r| &r.outbound)
        .filter(|o| o.error.as_deref() == Some(OFFLINE_REFUSAL))
        .count();
    if offline > 0 {
        notes.push(format!(
            "{offline} request(s) passed every check and were not sent: a dev run has no \
             network unless `--allow-network` (then the usual network policy applies)"
        ));
    }
    for secret in &manifest.secrets {
        if !options.secrets.iter().any(|(name, _)| *name == secret.name) {
            notes.push(format!(
                "secret `{}` has no value in this run: a request that attaches it is refused \
                 (give one with `--secret {}=VALUE` or AIRLOCK_DEV_SECRET_{})",
                secret.name,
                secret.name,
                secret.name.to_ascii_uppercase()
            ));
        }
    }
    if !manifest.secrets.is_empty() {
        notes.push(
            "[[secrets]] in the least manifest follow the origins kept: a run does not record \
             which key a request carried"
                .to_owned(),
        );
    }
    notes.push(data_note());
    notes
}

/// Which records the run could find.
fn data_note() -> String {
    let stores: Vec<String> = fixtures()
        .iter()
        .map(|s| {
            let ids = |v: Vec<&str>| {
                if v.is_empty() {
                    "-".to_owned()
                } else {
                    v.join(" ")
                }
            };
            format!(
                "{}: orders {}; customers {}; stock {}",
                s.merchant,
                ids(s.orders.iter().map(|o| o.id.as_str()).collect()),
                ids(s.customers.iter().map(|c| c.id.as_str()).collect()),
                ids(s.stock.iter().map(|l| l.sku.as_str()).collect()),
            )
        })
        .collect();
    format!(
        "data: the demo store's fixtures in memory; the run is {DEMO_MERCHANT}'s, so another \
         store's records look missing ({})",
        stores.join(" | ")
    )
}
