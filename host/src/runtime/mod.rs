//! The Wasmtime side: one Engine per host with the pooling allocator and an epoch ticker,
//! components compiled once per digest, and a fresh Store per invocation carrying the
//! merchant, the installation, the effective grant and the limits.
//!
//! - `engine`: the engine configuration and the epoch ticker;
//! - `state`: the data of one Store (capabilities, outbound hooks, WASI, limiter);
//! - `limiter`: memory and table caps, and which one a call hit;
//! - `invoke`: one call, as set-up, epoch callback, run and finish;
//! - `abort`: how a call that did not return is classified and its text cleaned;
//! - `admission`: each merchant's share of the engine's instance pool;
//! - `wasi`: the WASI functions whose host-side work Airlock bounds per call;
//! - `cache`: the compiled components, least recently used evicted past a bound.

mod abort;
mod admission;
mod cache;
mod engine;
mod invoke;
mod limiter;
mod state;
mod wasi;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

pub use engine::engine_config;
pub use wasi::{MAX_POLL_LIST, MAX_RANDOM_REQUEST, MAX_RESOURCES, STDERR_KEPT};

pub(crate) use state::HostState;

use crate::artifact::{Artifact, ArtifactError};
use crate::bindings::ConnectorPre;
use crate::call::Live;
use crate::commerce::{CommerceData, ConnectorStorage, SecretSource};
use crate::fairness::Shares;
use crate::grants::{Grant, ScopeSet};
use crate::ids::{Digest, InstallationId, MerchantId};
use crate::limits::Limits;
use crate::manifest::{Manifest, Origin};
use crate::outbound::{Network, NetworkPolicy, SecretPlacement};
use crate::report::{Event, InvocationReport};

/// Where host calls read and write.
#[derive(Clone)]
pub struct DataSources {
    /// Orders, customers, stock.
    pub commerce: Arc<dyn CommerceData>,
    /// Each installation's own key-value space.
    pub storage: Arc<dyn ConnectorStorage>,
    /// Sealed secrets; `None` when the host has no vault key (secrets then cannot be used).
    pub secrets: Option<Arc<dyn SecretSource>>,
}

/// What an artifact may reach beyond the host calls: the origins it declares (approved with
/// the app), where each secret may be attached, and which secrets it may read.
#[derive(Debug, Clone, Default)]
pub struct Connections {
    /// Origins outbound requests may go to.
    pub origins: Arc<Vec<Origin>>,
    /// For each secret name, the origins and headers the host may attach it in.
    pub send_to: Arc<HashMap<String, SecretPlacement>>,
    /// Secrets the connector may read itself.
    pub readable: Arc<HashSet<String>>,
}

impl Connections {
    /// The connections `manifest` declares.
    pub fn of(manifest: &Manifest) -> Connections {
        Connections {
            origins: Arc::new(manifest.origins().cloned().collect()),
            send_to: Arc::new(
                manifest
                    .secrets
                    .iter()
                    .map(|s| (s.name.clone(), SecretPlacement::of(s)))
                    .collect(),
            ),
            readable: Arc::new(
                manifest
                    .secrets
                    .iter()
                    .filter(|s| s.readable)
                    .map(|s| s.name.clone())
                    .collect(),
            ),
        }
    }
}

/// A compiled, linked component ready to instantiate (one per artifact digest).
pub struct Prepared {
    /// The manifest it carries.
    pub manifest: Manifest,
    /// Scopes its imports can ask for.
    pub needs: ScopeSet,
    /// Origins and secrets it may use.
    pub connections: Connections,
    pre: ConnectorPre<HostState>,
}

/// Who an invocation runs for and what it may do.
pub struct CallSetup {
    merchant: MerchantId,
    installation: InstallationId,
    grant: Grant,
    live: Option<Live>,
}

impl CallSetup {
    /// Run for `installation` of `merchant` under a fixed `grant`.
    pub fn new(merchant: MerchantId, installation: InstallationId, grant: Grant) -> Self {
        CallSetup {
            merchant,
            installation,
            grant,
            live: None,
        }
    }

    /// Also follow revocations while running (how [`crate::Host`] runs every invocation).
    pub(crate) fn live(mut self, live: Live) -> Self {
        self.live = Some(live);
        self
    }
}

/// The sandbox on its own: the engine, the linker and the compiled-component cache. [`crate::Host`]
/// adds the registry, approvals and audit on top; a platform with its own registry can embed
/// this directly.
pub struct Sandbox {
    engine: Engine,
    network: Arc<Network>,
    linker: Linker<HostState>,
    cache: Mutex<cache::Cache<Prepared>>,
    shares: Shares,
    admission: admission::Admission,
    stop: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Start an engine sized for `limits`, with its epoch ticker and the default network
    /// policy (public addresses only).
    pub fn new(limits: &Limits) -> wasmtime::Result<Sandbox> {
        Sandbox::with_network(limits, NetworkPolicy::default())
    }

    /// Start an engine sized for `limits` whose connectors reach the network under `policy`.
    pub fn with_network(limits: &Limits, policy: NetworkPolicy) -> wasmtime::Result<Sandbox> {
        let network = Arc::new(Network::new(policy).map_err(wasmtime::Error::new)?);
        let engine = Engine::new(&engine_config(limits))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        crate::capabilities::add_to_linker(&mut linker)?;
        wasi::bound_wasi(&mut linker)?;

        let stop = Arc::new(AtomicBool::new(false));
        let ticker = engine::start_ticker(&engine, &stop)?;
        Ok(Sandbox {
            engine,
            network,
            linker,
            cache: Mutex::new(cache::Cache::new(
                cache::MAX_CACHED_COMPONENTS,
                cache::MAX_CACHED_ARTIFACT_BYTES,
            )),
            shares: Shares::default(),
            admission: admission::Admission::new(limits.merchant_instances),
            stop,
            ticker: Some(ticker),
        })
    }

    /// The prepared component of `digest`, if compiled already.
    pub fn cached(&self, digest: &Digest) -> Option<Arc<Prepared>> {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(digest)
    }

    /// Drop the compiled component of `digest` (its artifact is gone).
    pub fn forget(&self, digest: &Digest) {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(digest);
    }

    /// Check imports against the manifest (from the bytes, before compiling: a refusal never
    /// waits for a compile), compile, and link; cached by digest (a bounded cache: see
    /// `cache`). CPU-heavy on a cache miss: call from a blocking thread.
    pub fn prepare(&self, artifact: &Artifact) -> Result<Arc<Prepared>, ArtifactError> {
        if let Some(hit) = self.cached(&artifact.digest) {
            return Ok(hit);
        }
        let needs = crate::imports::check(&artifact.bytes, &artifact.manifest)?;
        let component = Component::new(&self.engine, &artifact.bytes[..])
            .map_err(|e| ArtifactError::Compile(format!("{e:#}")))?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .and_then(ConnectorPre::new)
            .map_err(|e| ArtifactError::Compile(format!("{e:#}")))?;
        let prepared = Arc::new(Prepared {
            connections: Connections::of(&artifact.manifest),
            manifest: artifact.manifest.clone(),
            needs,
            pre,
        });
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(artifact.digest, prepared.clone(), artifact.bytes.len());
        Ok(prepared)
    }

    /// Parse, compile and check an artifact (cached by digest). CPU-heavy on a cache miss.
    pub fn load(&self, bytes: &[u8]) -> Result<Arc<Prepared>, ArtifactError> {
        self.prepare(&Artifact::parse(bytes)?)
    }

    /// Run `handle-event` in a fresh Store under the setup's grant and `limits`.
    pub async fn invoke(
        &self,
        prepared: &Prepared,
        setup: CallSetup,
        sources: &DataSources,
        limits: &Limits,
        event: &Event,
    ) -> InvocationReport {
        self.call(prepared, setup, sources, limits, Some(event))
            .await
    }

    /// Run `health-check` in a fresh Store, under the same grant and limits as an event.
    pub async fn health_check(
        &self,
        prepared: &Prepared,
        setup: CallSetup,
        sources: &DataSources,
        limits: &Limits,
    ) -> InvocationReport {
        self.call(prepared, setup, sources, limits, None).await
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}
