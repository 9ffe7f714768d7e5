//! `airlock dev run`, for connector authors: one event through a connector, in-process,
//! against the demo store's fixture data in memory ([`crate::memory::MemoryData`]), under the
//! grants the author picks; then what it really used against what its manifest declares, and
//! the least manifest that would pass for that run.
//!
//! Two sources meet: the component's imports (what the code can reach on any path, known
//! for certain) and the run's report (the one path this event took). No platform infers
//! least privilege from a run, so every suggestion says which of the two it rests on.
//!
//! - `event`: the event, from a JSON file or `TOPIC:ID`;
//! - `usage`: scopes used, denied or withheld, and where each belongs;
//! - `refusals`: origins requested, and every refusal with its fix;
//! - `least`: the least manifest, as TOML the host's own parser accepts.

mod event;
mod least;
mod refusals;
mod run;
#[cfg(test)]
mod tests;
mod usage;

use std::sync::Arc;

use serde::Serialize;
use zeroize::Zeroizing;

pub use event::{DEV_EVENT_ID, EventError, event_from_json, event_from_spec};
pub use least::LeastManifest;
pub use refusals::{Denial, OriginPlacement, OriginUse};
pub use usage::{Declared, Placement, RunUse, ScopeUse};

use crate::artifact::{Artifact, ArtifactError};
use crate::grants::{Scope, ScopeSet};
use crate::ids::Digest;
use crate::limits::Limits;
use crate::manifest::{Manifest, ManifestError};
use crate::outbound::NetworkPolicy;
use crate::report::{Event, InvocationReport};

/// The installation id a dev run's calls carry (its storage and secrets are keyed by it).
pub const DEV_INSTALLATION: &str = "dev-run";

/// Why a dev run could not start.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    /// The component was refused before anything ran.
    #[error("the component is refused: {0}")]
    Artifact(ArtifactError),
    /// The manifest given instead of the component's own is refused.
    #[error("the manifest is refused: {0}")]
    Manifest(ManifestError),
    /// A platform would refuse the connector at install: every problem, each with its fix.
    #[error(
        "a platform would refuse this connector at install, before any merchant sees it:\n{}",
        .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n")
    )]
    WouldBeRefused(Vec<String>),
    /// `--grant` of a scope the manifest does not declare.
    #[error(
        "--grant `{scope}`: the manifest does not declare it (it declares: {declared}); a \
         merchant can approve only what the manifest declares: add `{scope}` under \
         [[scopes.optional]] (or [[scopes.required]]) with a reason, then grant it"
    )]
    GrantUndeclared {
        /// The scope asked for.
        scope: Scope,
        /// What the manifest declares.
        declared: ScopeSet,
    },
    /// A secret value for a name the manifest does not declare.
    #[error(
        "secret `{name}`: the manifest declares no such secret (it declares: {declared}); \
         declare it under [[secrets]] first"
    )]
    SecretUndeclared {
        /// The name given.
        name: String,
        /// The names the manifest declares.
        declared: String,
    },
    /// A secret value the vault would refuse too.
    #[error("secret `{name}`: {problem}")]
    SecretValue {
        /// The secret's name.
        name: String,
        /// What is wrong with its value.
        problem: String,
    },
    /// Wasmtime could not start.
    #[error("could not start the WebAssembly engine: {0}")]
    Engine(String),
}

/// What a dev run grants, which network it has and which secrets it holds.
#[derive(Debug, Clone)]
pub struct DevOptions {
    /// Start from the manifest's required scopes, as a merchant approving the minimum;
    /// `false` starts from nothing (`--grant none`).
    pub required: bool,
    /// Scopes granted besides: optional ones the merchant approves.
    pub grant: Vec<Scope>,
    /// The network policy; `None`: no network, every request refused before connecting.
    pub network: Option<NetworkPolicy>,
    /// Secret values by name.
    pub secrets: Vec<(String, Zeroizing<String>)>,
    /// The limits the call runs under.
    pub limits: Limits,
}

impl Default for DevOptions {
    fn default() -> Self {
        DevOptions {
            required: true,
            grant: Vec::new(),
            network: None,
            secrets: Vec::new(),
            limits: Limits::default(),
        }
    }
}

/// Where the run's manifest came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ManifestFrom {
    /// The component's own `airlock-manifest` section.
    Component,
    /// A manifest file given with the component.
    File,
}

/// Instructions, memory, time and calls used against the limits.
#[derive(Debug, Clone, Serialize)]
pub struct Resources {
    /// Instructions (Wasmtime fuel) used, when a budget was set.
    pub instructions: Option<u64>,
    /// The instruction budget.
    pub instruction_limit: Option<u64>,
    /// The most linear memory held at once, in bytes.
    pub peak_memory_bytes: u64,
    /// The memory cap, in bytes.
    pub memory_limit_bytes: u64,
    /// Wall-clock time, in milliseconds.
    pub elapsed_ms: f64,
    /// The deadline, in milliseconds.
    pub deadline_ms: u64,
    /// Time it held a worker thread, in milliseconds.
    pub busy_ms: f64,
    /// Host calls made.
    pub host_calls: u32,
    /// The host-call quota.
    pub host_call_limit: u32,
    /// Outbound requests made.
    pub outbound_requests: u32,
    /// Outbound requests allowed.
    pub outbound_limit: u32,
    /// Log lines written (kept and dropped).
    pub log_lines: u64,
    /// Log lines kept.
    pub log_line_limit: u64,
}

impl Resources {
    /// What `report` used against its limits.
    pub fn of(report: &InvocationReport) -> Resources {
        let l = &report.limits;
        Resources {
            instructions: report.fuel_used,
            instruction_limit: l.fuel,
            peak_memory_bytes: report.peak_memory_bytes,
            memory_limit_bytes: l.memory_bytes as u64,
            elapsed_ms: report.elapsed_ms,
            deadline_ms: l.deadline.as_millis() as u64,
            busy_ms: report.busy_ms,
            host_calls: report.host_calls,
            host_call_limit: l.max_host_calls,
            outbound_requests: report.outbound.len() as u32,
            outbound_limit: l.max_outbound_requests,
            log_lines: report.logs.len() as u64 + u64::from(report.logs_dropped),
            log_line_limit: l.max_log_lines as u64,
        }
    }
}

/// Everything one dev run did and what it means for the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct DevReport {
    /// The connector id.
    pub connector: String,
    /// Its version.
    pub version: String,
    /// Where the manifest came from.
    pub manifest_from: ManifestFrom,
    /// The event delivered.
    pub event: Event,
    /// The scopes this run granted, in prompt order.
    pub granted: Vec<Scope>,
    /// Whether outbound requests could leave the host.
    pub network: bool,
    /// Whether the host delivered the event (it needs the topic's scope granted).
    pub delivered: bool,
    /// True when the event was delivered, the connector returned `Ok` and nothing was denied:
    /// what the exit status says.
    pub passed: bool,
    /// The invocation's own report; none when the event was not delivered.
    pub run: Option<InvocationReport>,
    /// What it used against the limits; none when the event was not delivered.
    pub resources: Option<Resources>,
    /// Every scope declared, reached by the code or touched by the run.
    pub scopes: Vec<ScopeUse>,
    /// Every origin declared or requested.
    pub origins: Vec<OriginUse>,
    /// Every refusal, with its fix.
    pub denials: Vec<Denial>,
    /// The least manifest that would pass for what this run used.
    pub least_manifest: LeastManifest,
    /// What else the author should know: the manifest's source, secrets, the data, the one
    /// path a run shows.
    pub notes: Vec<String>,
}

/// A connector loaded for a dev run: the component and the manifest it runs under.
#[derive(Debug, Clone)]
pub struct DevConnector {
    artifact: Artifact,
    from: ManifestFrom,
    notes: Vec<String>,
}

impl DevConnector {
    /// The component in `bytes` with its own manifest, or with `manifest` (TOML) instead,
    /// for a component that has none yet or an edited manifest not yet built in.
    pub fn load(bytes: &[u8], manifest: Option<&[u8]>) -> Result<DevConnector, DevError> {
        let Some(toml) = manifest else {
            let artifact = Artifact::parse(bytes).map_err(DevError::Artifact)?;
            let (from, notes) = (ManifestFrom::Component, Vec::new());
            return Ok(DevConnector {
                artifact,
                from,
                notes,
            });
        };
        let manifest = Manifest::parse(toml).map_err(DevError::Manifest)?;
        let note = match Artifact::parse(bytes) {
            Ok(_) => "the manifest given replaces the one built into the component for this \
                      run; a platform reads the component's own: rebuild before publishing"
                .to_owned(),
            Err(ArtifactError::NoManifest) => "the component carries no manifest, and a \
                 platform refuses it at install: embed this one with \
                 `airlock_sdk::export!(MyConnector, manifest = \"airlock.toml\")`"
                .to_owned(),
            Err(
                e @ (ArtifactError::Manifest(_)
                | ArtifactError::ManyManifests(_)
                | ArtifactError::ManifestFrame(_)),
            ) => format!(
                "the component's own manifest is refused ({e}); this run uses the one given"
            ),
            Err(other) => return Err(DevError::Artifact(other)),
        };
        let artifact = Artifact {
            bytes: Arc::from(bytes),
            digest: Digest::of(bytes),
            manifest,
        };
        Ok(DevConnector {
            artifact,
            from: ManifestFrom::File,
            notes: vec![note],
        })
    }

    /// The manifest the run uses.
    pub fn manifest(&self) -> &Manifest {
        &self.artifact.manifest
    }

    /// The scopes `options` grant: the required ones unless told otherwise, plus those
    /// named, each of which the manifest must declare.
    pub fn grants(&self, options: &DevOptions) -> Result<ScopeSet, DevError> {
        let declared = self.manifest().declared();
        let mut granted = if options.required {
            self.manifest().required()
        } else {
            ScopeSet::EMPTY
        };
        for scope in &options.grant {
            if !declared.contains(*scope) {
                return Err(DevError::GrantUndeclared {
                    scope: *scope,
                    declared,
                });
            }
            granted = granted.with(*scope);
        }
        Ok(granted)
    }
}
