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
//! - `cache`: the compiled components in memory, least recently used evicted past a bound;
//! - `disk`: compiled components on disk, checked before they are loaded (the only `unsafe`).

mod abort;
mod admission;
mod cache;
mod disk;
mod engine;
mod invoke;
mod limiter;
mod state;
mod wasi;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker};

pub use disk::MAX_COMPILE_CACHE_BYTES;
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

/// One import of a component: its full name, and the functions it takes from it (empty for
/// an import that is not an instance of functions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentImport {
    /// The import name, such as `airlock:connector/orders@0.1.0`.
    pub name: String,
    /// The functions it uses from that instance (wit-component keeps only those it calls).
    pub functions: Vec<String>,
}

impl Prepared {
    /// What the component imports, read from its compiled type: the code's reach on every
    /// path, not only the ones a run takes.
    pub fn imports(&self) -> Vec<ComponentImport> {
        let component = self.pre.instance_pre().component();
        let engine = component.engine();
        component
            .component_type()
            .imports(engine)
            .map(|(name, item)| ComponentImport {
                name: name.to_owned(),
                functions: match item.ty {
                    ComponentItem::ComponentInstance(instance) => instance
                        .exports(engine)
                        .filter(|(_, e)| matches!(e.ty, ComponentItem::ComponentFunc(_)))
                        .map(|(function, _)| function.to_owned())
                        .collect(),
                    _ => Vec::new(),
                },
            })
            .collect()
    }
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

/// The sandbox on its own: the engine, the linker and the compiled-component caches (in
/// memory, and on disk with [`Sandbox::compile_cache`]). [`crate::Host`] adds the registry,
/// approvals and audit on top; a platform with its own registry can embed this directly.
pub struct Sandbox {
    engine: Engine,
    network: Arc<Network>,
    linker: Linker<HostState>,
    cache: Mutex<cache::Cache<Prepared>>,
    /// What compiled code of this engine is compatible with (names its files on disk).
    engine_key: disk::EngineKey,
    disk: Option<disk::DiskCache>,
    /// Components compiled (not loaded from disk), and loaded from disk.
    compiles: AtomicU64,
    disk_loads: AtomicU64,
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
            engine_key: engine::engine_key(&engine, limits),
            disk: None,
            compiles: AtomicU64::new(0),
            disk_loads: AtomicU64::new(0),
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

    /// Also keep compiled components in `dir` (created 0700 if missing), so that another
    /// sandbox or process with the same engine configuration loads them instead of compiling
    /// (at most [`MAX_COMPILE_CACHE_BYTES`], least recently used evicted). A directory that
    /// cannot be used (not writable, another user's, not a directory) is logged as a warning
    /// and the sandbox keeps compiled components in memory only.
    pub fn compile_cache(mut self, dir: impl AsRef<Path>) -> Sandbox {
        let dir = dir.as_ref();
        match disk::DiskCache::open(dir, self.engine_key, MAX_COMPILE_CACHE_BYTES) {
            Ok(cache) => self.disk = Some(cache),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e,
                    "the compile cache directory cannot be used: compiled components are kept in memory only");
                self.disk = None;
            }
        }
        self
    }

    /// The directory compiled components are kept in, if any (see [`Sandbox::compile_cache`]).
    pub fn compile_cache_dir(&self) -> Option<&Path> {
        self.disk.as_ref().map(disk::DiskCache::dir)
    }

    /// How many components this sandbox compiled (not counting those loaded from disk).
    pub fn compiles(&self) -> u64 {
        self.compiles.load(Ordering::Relaxed)
    }

    /// How many compiled components this sandbox loaded from its compile cache directory.
    pub fn disk_loads(&self) -> u64 {
        self.disk_loads.load(Ordering::Relaxed)
    }

    /// The prepared component of `digest`, if in memory.
    pub fn cached(&self, digest: &Digest) -> Option<Arc<Prepared>> {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(digest)
    }

    /// Drop the compiled component of `digest`, in memory and on disk (its artifact is gone).
    pub fn forget(&self, digest: &Digest) {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(digest);
        if let Some(disk) = &self.disk {
            disk.remove(digest);
        }
    }

    /// Check imports against the manifest (from the bytes, before compiling: a refusal never
    /// waits for a compile), compile, and link; cached by digest in memory (a bounded cache:
    /// see `cache`) and, with [`Sandbox::compile_cache`], on disk.
    /// CPU-heavy when neither has it: call from a blocking thread.
    pub fn prepare(&self, artifact: &Artifact) -> Result<Arc<Prepared>, ArtifactError> {
        if let Some(ready) = self.prepare_compiled(artifact)? {
            return Ok(ready);
        }
        let needs = crate::imports::check(&artifact.bytes, &artifact.manifest)?;
        self.compiles.fetch_add(1, Ordering::Relaxed);
        let component = Component::new(&self.engine, &artifact.bytes[..])
            .map_err(|e| ArtifactError::Compile(format!("{e:#}")))?;
        let prepared = self.link(artifact, &component, needs)?;
        // Only a component that passed the import check is kept: a refused upload must not
        // take the place of an installed connector's file.
        if let Some(disk) = &self.disk {
            disk.store(&artifact.digest, &component);
        }
        Ok(self.keep(artifact, prepared))
    }

    /// The prepared component of `artifact` from memory or from the compile cache directory;
    /// `None` if it would have to be compiled. Never compiles; loading from disk takes
    /// milliseconds (call from a blocking thread all the same).
    pub fn prepare_compiled(
        &self,
        artifact: &Artifact,
    ) -> Result<Option<Arc<Prepared>>, ArtifactError> {
        if let Some(hit) = self.cached(&artifact.digest) {
            return Ok(Some(hit));
        }
        let Some(disk) = &self.disk else {
            return Ok(None);
        };
        let Some(component) = disk.load(&self.engine, &artifact.digest) else {
            return Ok(None);
        };
        self.disk_loads.fetch_add(1, Ordering::Relaxed);
        let needs = crate::imports::check(&artifact.bytes, &artifact.manifest)?;
        let prepared = self.link(artifact, &component, needs)?;
        Ok(Some(self.keep(artifact, prepared)))
    }

    /// Link a compiled component whose imports passed the check (`needs` is what they ask).
    fn link(
        &self,
        artifact: &Artifact,
        component: &Component,
        needs: ScopeSet,
    ) -> Result<Prepared, ArtifactError> {
        let pre = self
            .linker
            .instantiate_pre(component)
            .and_then(ConnectorPre::new)
            .map_err(|e| ArtifactError::Compile(format!("{e:#}")))?;
        Ok(Prepared {
            connections: Connections::of(&artifact.manifest),
            manifest: artifact.manifest.clone(),
            needs,
            pre,
        })
    }

    /// Keep `prepared` in memory under the artifact's digest.
    fn keep(&self, artifact: &Artifact, prepared: Prepared) -> Arc<Prepared> {
        let prepared = Arc::new(prepared);
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(artifact.digest, prepared.clone(), artifact.bytes.len());
        prepared
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
