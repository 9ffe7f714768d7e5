//! The Wasmtime side: one Engine per host with the pooling allocator and an epoch ticker,
//! components compiled once per digest, and a fresh Store per invocation carrying the
//! merchant, the installation, the effective grant and the limits.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;
use wasmtime::component::{Component, Linker};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap,
    UpdateDeadline,
};

use crate::artifact::{Artifact, ArtifactError};
use crate::bindings::ConnectorPre;
use crate::bindings::airlock::connector::types as wit;
use crate::capabilities::log::{LogLine, sanitize};
use crate::commerce::{CommerceData, ConnectorStorage};
use crate::db::secrets::Secrets;
use crate::fairness::{SharedClock, Shares, Timed};
use crate::grants::{Grant, Scope, ScopeSet};
use crate::ids::{Digest, InstallationId, MerchantId};
use crate::manifest::{Manifest, Origin, Topic};
use crate::outbound::{Network, NetworkPolicy, OutboundCall};
use crate::state::{Access, CallContext, HostState, Live, Spent, host_state};

/// How often the epoch ticks: deadlines are whole ticks, and a running connector hands its
/// worker thread back at every tick (behind every task already waiting).
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Linear memory above which a finished call's Store is dropped on a blocking thread.
const BIG_MEMORY: usize = 8 << 20;

/// How long past its deadline a call waiting inside a host call may take before the outer
/// timeout drops it (guest code is stopped by the epoch at the deadline itself).
const OUTER_GRACE: Duration = Duration::from_millis(50);

/// Worker time a call may use before it starts giving way.
pub const FAIR_SLICE: Duration = Duration::from_millis(5);
/// Worker time a call may take without it counting against its merchant's share: a typical
/// event handler needs well under a millisecond, and a merchant busy with many such events
/// is busy, not hostile. A call that runs longer is charged in full, from its start.
pub const FREE_WORK: Duration = Duration::from_millis(2);
/// Ticks a call past its fair slice pauses for every tick it runs.
pub const PAUSE_TICKS: u32 = 19;

/// Limits of one invocation. The host's defaults; a plan and a connector can override each
/// field ([`LimitOverrides`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Wall-clock time for instantiation plus the call.
    pub deadline: Duration,
    /// Instructions (Wasmtime fuel) for instantiation plus the call; `None`: unlimited.
    pub fuel: Option<u64>,
    /// Linear memory, in bytes.
    pub memory_bytes: usize,
    /// Table elements.
    pub table_elements: usize,
    /// Core instances a component may create.
    pub instances: usize,
    /// Host calls.
    pub max_host_calls: u32,
    /// Log lines kept.
    pub max_log_lines: usize,
    /// Outbound HTTP requests.
    pub max_outbound_requests: u32,
    /// Bytes of one outbound request body.
    pub max_request_bytes: u64,
    /// Bytes of one response body (a larger `Content-Length` is refused up front).
    pub max_response_bytes: u64,
    /// Bytes the connector may put out in one call: its summary, log lines and storage writes.
    pub max_output_bytes: u64,
    /// Bytes the host may hand it in one call: the event, storage values, response bodies.
    pub max_input_bytes: u64,
    /// Invocations of one installation running at once; more are refused, not queued.
    pub max_concurrent: u32,
}

/// Per-plan or per-connector changes to [`Limits`]: each field set replaces the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitOverrides {
    /// Deadline, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
    /// Instructions per call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
    /// Linear memory, in bytes (never above the host's own cap, which sizes its pool).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<usize>,
    /// Table elements (never above the host's own cap).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_elements: Option<usize>,
    /// Host calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_host_calls: Option<u32>,
    /// Outbound requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_outbound_requests: Option<u32>,
    /// Output bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_output_bytes: Option<u64>,
    /// Input bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_input_bytes: Option<u64>,
    /// Concurrent invocations per installation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrent: Option<u32>,
}

impl LimitOverrides {
    /// True when nothing is overridden.
    pub fn is_empty(&self) -> bool {
        *self == LimitOverrides::default()
    }
}

impl Limits {
    /// These limits with `overrides` applied. Memory and tables stay within `self`, which
    /// sized the engine's pool.
    pub fn with(&self, overrides: &LimitOverrides) -> Limits {
        let mut out = self.clone();
        if let Some(ms) = overrides.deadline_ms {
            out.deadline = Duration::from_millis(ms);
        }
        if let Some(fuel) = overrides.fuel {
            out.fuel = Some(fuel);
        }
        if let Some(bytes) = overrides.memory_bytes {
            out.memory_bytes = bytes.min(self.memory_bytes);
        }
        if let Some(elements) = overrides.table_elements {
            out.table_elements = elements.min(self.table_elements);
        }
        if let Some(n) = overrides.max_host_calls {
            out.max_host_calls = n;
        }
        if let Some(n) = overrides.max_outbound_requests {
            out.max_outbound_requests = n;
        }
        if let Some(n) = overrides.max_output_bytes {
            out.max_output_bytes = n;
        }
        if let Some(n) = overrides.max_input_bytes {
            out.max_input_bytes = n;
        }
        if let Some(n) = overrides.max_concurrent {
            out.max_concurrent = n;
        }
        out
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline: Duration::from_secs(2),
            // Shopify Functions' budget: generous for a connector, tiny for a miner.
            fuel: Some(11_000_000),
            memory_bytes: 64 * 1024 * 1024,
            table_elements: 20_000,
            instances: 32,
            max_host_calls: 1_000,
            max_log_lines: 100,
            max_outbound_requests: 20,
            max_request_bytes: 1024 * 1024,
            max_response_bytes: 1024 * 1024,
            max_output_bytes: 1024 * 1024,
            max_input_bytes: 8 * 1024 * 1024,
            max_concurrent: 4,
        }
    }
}

/// The engine configuration Airlock runs connectors under: component model, epoch
/// interruption for deadlines, fuel for instruction budgets, a 512 KiB wasm stack (engine-wide:
/// Wasmtime fixes it per engine, not per call), and a pooling allocator sized for `limits`
/// (instantiation from a pool is what keeps a fresh Store per event cheap).
pub fn engine_config(limits: &Limits) -> Config {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(200)
        .total_core_instances(2_000)
        .total_memories(400)
        .total_tables(400)
        .total_stacks(200)
        .max_memory_size(limits.memory_bytes)
        .max_core_instances_per_component(32)
        .max_memories_per_component(8)
        .max_tables_per_component(16)
        .table_elements(limits.table_elements);
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .consume_fuel(true)
        .max_wasm_stack(512 * 1024)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

/// Where host calls read and write.
#[derive(Clone)]
pub struct DataSources {
    /// Orders, customers, stock.
    pub commerce: Arc<dyn CommerceData>,
    /// Each installation's own key-value space.
    pub storage: Arc<dyn ConnectorStorage>,
    /// Sealed secrets; `None` when the host has no vault key (secrets then cannot be used).
    pub secrets: Option<Arc<Secrets>>,
}

/// What an artifact may reach beyond the host calls: the origins it declares (approved with
/// the app), where each secret may be attached, and which secrets it may read.
#[derive(Debug, Clone, Default)]
pub struct Connections {
    /// Origins outbound requests may go to.
    pub origins: Arc<Vec<Origin>>,
    /// For each secret name, the origins the host may attach it to.
    pub send_to: Arc<HashMap<String, Vec<Origin>>>,
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
                    .map(|s| (s.name.clone(), s.send_to.clone()))
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

/// A platform event as the host delivers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Unique id, the same on every redelivery.
    pub id: String,
    /// Topic.
    pub topic: Topic,
    /// The record it is about.
    pub subject_id: String,
    /// Milliseconds since the Unix epoch.
    pub occurred_at: u64,
}

/// The failure causes a connector reports, as merchants need to see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "cause", rename_all = "kebab-case")]
pub enum ConnectorFailure {
    /// Provider session expired.
    AuthExpired,
    /// Provider rejected the credentials.
    InvalidCredentials,
    /// A scope the merchant has not granted.
    PermissionMissing {
        /// The scope.
        scope: Scope,
    },
    /// Provider down.
    ProviderUnavailable,
    /// Provider rate limiting.
    RateLimited {
        /// Seconds to wait, if known.
        retry_after_secs: Option<u32>,
    },
    /// Provider plan, billing or usage limit.
    UsageLimit,
    /// Wrong configuration.
    Config {
        /// What to fix (connector's words, sanitised).
        message: String,
    },
    /// Network failure.
    Network {
        /// Detail (connector's words, sanitised).
        message: String,
    },
    /// Anything else.
    Other {
        /// Detail (connector's words, sanitised).
        message: String,
    },
}

impl ConnectorFailure {
    /// The cause's stable code, as merchants' checklists and scripts key on it.
    pub fn code(&self) -> &'static str {
        match self {
            ConnectorFailure::AuthExpired => "auth-expired",
            ConnectorFailure::InvalidCredentials => "invalid-credentials",
            ConnectorFailure::PermissionMissing { .. } => "permission-missing",
            ConnectorFailure::ProviderUnavailable => "provider-unavailable",
            ConnectorFailure::RateLimited { .. } => "rate-limited",
            ConnectorFailure::UsageLimit => "usage-limit",
            ConnectorFailure::Config { .. } => "config",
            ConnectorFailure::Network { .. } => "network",
            ConnectorFailure::Other { .. } => "other",
        }
    }
}

/// Why the host ended an invocation early.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum AbortReason {
    /// Ran past its wall-clock deadline.
    Deadline {
        /// The deadline, in milliseconds.
        limit_ms: u64,
    },
    /// Tried to grow memory past its cap.
    Memory {
        /// The cap, in bytes.
        limit_bytes: usize,
    },
    /// Used up its instruction budget.
    Fuel {
        /// The budget, in instructions.
        limit: u64,
    },
    /// Tried to grow a table past its cap.
    Table {
        /// The cap, in elements.
        limit_elements: usize,
    },
    /// Kept calling the host after its host-call quota ran out.
    HostCalls {
        /// The quota.
        limit: u32,
    },
    /// Put out more than its output allowance (summary, logs, storage writes).
    Output {
        /// The allowance, in bytes.
        limit_bytes: u64,
    },
    /// Was handed more than its input allowance (storage values, response bodies).
    Input {
        /// The allowance, in bytes.
        limit_bytes: u64,
    },
    /// Kept sending HTTP requests after its outbound-request limit.
    Outbound {
        /// Requests allowed per call.
        limit: u32,
    },
    /// Too many invocations of this installation were already running; this one never started.
    Busy {
        /// Invocations allowed at once.
        limit: u32,
    },
    /// Overflowed the wasm stack.
    StackOverflow,
    /// The installation was disabled or uninstalled while the call ran.
    Stopped,
    /// Trapped (a panic in the connector, an unreachable, a bad access).
    Trap {
        /// Wasmtime's description.
        message: String,
    },
}

impl AbortReason {
    /// The reason's stable code, as in JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            AbortReason::Deadline { .. } => "deadline",
            AbortReason::Fuel { .. } => "fuel",
            AbortReason::Memory { .. } => "memory",
            AbortReason::Table { .. } => "table",
            AbortReason::HostCalls { .. } => "host-calls",
            AbortReason::Output { .. } => "output",
            AbortReason::Input { .. } => "input",
            AbortReason::Outbound { .. } => "outbound",
            AbortReason::Busy { .. } => "busy",
            AbortReason::StackOverflow => "stack-overflow",
            AbortReason::Stopped => "stopped",
            AbortReason::Trap { .. } => "trap",
        }
    }

    /// One line for people: what stopped the call and the limit it hit.
    pub fn describe(&self) -> String {
        match self {
            AbortReason::Deadline { limit_ms } => format!("deadline of {limit_ms} ms"),
            AbortReason::Fuel { limit } => format!("instruction budget of {limit}"),
            AbortReason::Memory { limit_bytes } => format!("memory cap of {limit_bytes} bytes"),
            AbortReason::Table { limit_elements } => {
                format!("table cap of {limit_elements} elements")
            }
            AbortReason::HostCalls { limit } => format!("host-call quota of {limit}"),
            AbortReason::Output { limit_bytes } => {
                format!("output allowance of {limit_bytes} bytes")
            }
            AbortReason::Input { limit_bytes } => format!("input allowance of {limit_bytes} bytes"),
            AbortReason::Outbound { limit } => format!("limit of {limit} outbound requests"),
            AbortReason::Busy { limit } => {
                format!("{limit} concurrent invocations already running")
            }
            AbortReason::StackOverflow => "wasm stack overflow".to_owned(),
            AbortReason::Stopped => "the app was disabled or removed".to_owned(),
            AbortReason::Trap { message } => format!("trap: {message}"),
        }
    }
}

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum CallResult {
    /// The connector returned an outcome.
    Done {
        /// Whether it acted.
        acted: bool,
        /// Its one-line summary (sanitised).
        summary: String,
    },
    /// The connector returned an error.
    Failed {
        /// The cause.
        error: ConnectorFailure,
    },
    /// The host stopped it.
    Aborted {
        /// Why.
        reason: AbortReason,
    },
}

/// Everything one invocation did.
#[derive(Debug, Clone, Serialize)]
pub struct InvocationReport {
    /// Which installation ran.
    pub installation: InstallationId,
    /// Its connector id.
    pub connector: String,
    /// The export called: `handle-event` or `health-check`.
    pub export: &'static str,
    /// The event delivered (none for a health check).
    pub event: Option<Event>,
    /// How it ended.
    pub result: CallResult,
    /// What it touched, per host function.
    pub accesses: Vec<Access>,
    /// Lines it logged.
    pub logs: Vec<LogLine>,
    /// Lines dropped over the cap.
    pub logs_dropped: u32,
    /// Outbound HTTP requests, in order (origin and status only).
    pub outbound: Vec<OutboundCall>,
    /// Host calls made.
    pub host_calls: u32,
    /// Wall-clock time, in milliseconds.
    pub elapsed_ms: f64,
    /// Time it held a worker thread, in milliseconds: its code and the host work done inline
    /// for it, not time waiting on the database or a provider. What fair sharing between
    /// merchants charges.
    pub busy_ms: f64,
    /// Instructions used (Wasmtime fuel), when a budget was set.
    pub fuel_used: Option<u64>,
    /// The limits it ran under.
    pub limits: Limits,
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
    cache: Mutex<HashMap<Digest, Arc<Prepared>>>,
    shares: Shares,
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

        let stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let (engine, stop) = (engine.clone(), stop.clone());
            std::thread::Builder::new()
                .name("airlock-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                })?
        };
        Ok(Sandbox {
            engine,
            network,
            linker,
            cache: Mutex::new(HashMap::new()),
            shares: Shares::default(),
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
            .cloned()
    }

    /// Compile, check imports against the manifest, and link; cached by digest.
    /// CPU-heavy on a cache miss: call from a blocking thread.
    pub fn prepare(&self, artifact: &Artifact) -> Result<Arc<Prepared>, ArtifactError> {
        if let Some(hit) = self.cached(&artifact.digest) {
            return Ok(hit);
        }
        let component = Component::new(&self.engine, &artifact.bytes[..])
            .map_err(|e| ArtifactError::Compile(format!("{e:#}")))?;
        let needs = crate::imports::check(&self.engine, &component, &artifact.manifest)?;
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
            .insert(artifact.digest, prepared.clone());
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

    /// One export call: `handle-event` with an event, `health-check` without.
    async fn call(
        &self,
        prepared: &Prepared,
        setup: CallSetup,
        sources: &DataSources,
        limits: &Limits,
        event: Option<&Event>,
    ) -> InvocationReport {
        let started = Instant::now();
        let stop = setup.live.as_ref().map(|l| (l.signal.clone(), l.started));
        // Held to the end of this function: the merchant counts as running until then.
        let seat = self.shares.enter(&setup.merchant);
        let meter = seat.meter();
        let call = Arc::new(CallContext::new(
            setup.merchant,
            setup.installation.clone(),
            setup.grant,
            setup.live,
            limits,
        ));
        call.take_input(event.map_or(0, |e| e.subject_id.len() as u64));
        let deadline = started + limits.deadline;
        let state = host_state(
            call.clone(),
            sources,
            limits,
            &prepared.connections,
            self.network.clone(),
            deadline,
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        let fuel = limits.fuel.unwrap_or(u64::MAX);
        if let Err(err) = store.set_fuel(fuel) {
            eprintln!("airlock: setting fuel: {err}");
        }

        // Worker time is the time the call's future is polled (`Timed` below): waiting on
        // the database or a provider is not counted against the call or its merchant.
        let clock = SharedClock::default();
        let quota = call.clone();
        let (run_clock, start_meter) = (clock.clone(), meter.clone());
        // Checked at every epoch tick: the wall-clock deadline, and whether the installation
        // was disabled or removed meanwhile. Between ticks the guest yields to the executor,
        // so a busy connector never holds a worker thread.
        store.epoch_deadline_callback(move |_| {
            if stop
                .as_ref()
                .is_some_and(|(signal, at)| signal.stopped_since(*at))
            {
                return Err(wasmtime::Error::new(Stopped));
            }
            if Instant::now() >= deadline {
                return Err(wasmtime::Error::new(Trap::Interrupt));
            }
            if let Some(limit) = quota.over_quota() {
                return Err(wasmtime::Error::new(limit));
            }
            // Past its fair slice of worker time a call keeps running but pauses PAUSE_TICKS
            // for every tick it runs: a runaway connector then takes a fraction of a core, and
            // its deadline (wall-clock) still ends it. Connectors that finish within the
            // slice, nearly all of them, never pause. The merchant's account
            // (crate::fairness) carries use across calls: while other merchants are running, a
            // merchant past its burst pauses on every call, for as long as its running calls
            // together need to stay near the same fraction.
            let now = Instant::now();
            let (fresh, used) = run_clock.with(|c| c.chargeable(now, FREE_WORK));
            let share = meter.charge_work(fresh);
            let mut pause_ticks = 0;
            if used > FAIR_SLICE {
                pause_ticks = PAUSE_TICKS;
            }
            if share.over {
                pause_ticks = pause_ticks.max(PAUSE_TICKS.saturating_mul(share.running));
            }
            if pause_ticks > 0 {
                let pause = tokio::time::sleep(EPOCH_TICK * pause_ticks);
                return Ok(UpdateDeadline::YieldCustom(1, Box::pin(pause)));
            }
            // tokio's yield_now queues the call behind every task already waiting; a plain
            // self-wake could be polled again at once, ahead of them.
            Ok(UpdateDeadline::YieldCustom(
                1,
                Box::pin(tokio::task::yield_now()),
            ))
        });
        store.set_epoch_deadline(1);

        let wit_event = event.map(|event| wit::Event {
            id: event.id.clone(),
            topic: event.topic.as_str().to_owned(),
            subject_id: event.subject_id.clone(),
            occurred_at: event.occurred_at,
        });
        let run = async {
            // A merchant already past its share waits its turn before starting at all, so
            // restarting calls buys it nothing.
            let share = start_meter.charge_work(Duration::ZERO);
            if share.over {
                tokio::time::sleep(EPOCH_TICK * PAUSE_TICKS.saturating_mul(share.running)).await;
            }
            let instance = prepared.pre.instantiate_async(&mut store).await?;
            let handler = instance.airlock_connector_handler();
            match &wit_event {
                Some(wit_event) => handler.call_handle_event(&mut store, wit_event).await,
                None => handler.call_health_check(&mut store).await.map(|checked| {
                    checked.map(|()| wit::Outcome {
                        acted: false,
                        summary: "healthy".into(),
                    })
                }),
            }
        };
        // The epoch deadline stops guest code; this outer timeout also bounds time spent
        // waiting inside host calls, where no guest code runs.
        let run = Timed::new(run, clock.clone());
        let result = match tokio::time::timeout(limits.deadline + OUTER_GRACE, run).await {
            Ok(Ok(Ok(outcome))) if !call.put_out(outcome.summary.len() as u64) => {
                CallResult::Aborted {
                    reason: AbortReason::Output {
                        limit_bytes: limits.max_output_bytes,
                    },
                }
            }
            Ok(Ok(Ok(outcome))) => CallResult::Done {
                acted: outcome.acted,
                // Redacted, then sanitised and cut, in redact_result: cutting first could
                // leave part of a secret that straddles the cut.
                summary: outcome.summary,
            },
            Ok(Ok(Err(error))) => CallResult::Failed {
                error: failure(error),
            },
            Ok(Err(trap)) => CallResult::Aborted {
                reason: abort_reason(&trap, limits),
            },
            Err(_elapsed) => CallResult::Aborted {
                reason: AbortReason::Deadline {
                    limit_ms: limits.deadline.as_millis() as u64,
                },
            },
        };
        // What ran since the last tick is charged too, so a long call that ends between
        // ticks pays for all of its worker time.
        let (rest, busy) = clock.with(|c| c.chargeable(Instant::now(), FREE_WORK));
        seat.meter().charge_work(rest);
        let busy_ms = busy.as_secs_f64() * 1000.0;
        let fuel_used = limits
            .fuel
            .map(|budget| budget.saturating_sub(store.get_fuel().unwrap_or(0)));
        let log = &mut store.data_mut().log;
        // Nothing the call leaves behind may carry a secret it saw, in any encoding.
        let logs = std::mem::take(&mut log.lines)
            .into_iter()
            .map(|line| LogLine {
                message: sanitize(
                    &call.redact(&line.message),
                    crate::capabilities::log::MAX_LINE_CHARS,
                ),
                ..line
            })
            .collect();
        let report = InvocationReport {
            installation: setup.installation,
            connector: prepared.manifest.id.clone(),
            export: if event.is_some() {
                "handle-event"
            } else {
                "health-check"
            },
            event: event.cloned(),
            result: redact_result(result, &call),
            accesses: call.accesses(),
            logs,
            logs_dropped: log.dropped,
            outbound: call.outbound(),
            host_calls: call.host_calls(),
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
            busy_ms,
            fuel_used,
            limits: limits.clone(),
        };
        // Returning a big instance's memory to the pool (decommitting tens of MiB) is a
        // blocking syscall: do it off the async workers, which other merchants' calls share.
        // Small ones (nearly all) are cheaper to drop here than to hand to another thread.
        if store.data().limits.peak_memory > BIG_MEMORY
            && tokio::runtime::Handle::try_current().is_ok()
        {
            drop(tokio::task::spawn_blocking(move || drop(store)));
        }
        drop(seat);
        report
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

fn redact_result(result: CallResult, call: &CallContext) -> CallResult {
    let clean = |m: String| sanitize(&call.redact(&m), 500);
    match result {
        CallResult::Done { acted, summary } => CallResult::Done {
            acted,
            summary: clean(summary),
        },
        CallResult::Failed { error } => CallResult::Failed {
            error: match error {
                ConnectorFailure::Config { message } => ConnectorFailure::Config {
                    message: clean(message),
                },
                ConnectorFailure::Network { message } => ConnectorFailure::Network {
                    message: clean(message),
                },
                ConnectorFailure::Other { message } => ConnectorFailure::Other {
                    message: clean(message),
                },
                other => other,
            },
        },
        CallResult::Aborted {
            reason: AbortReason::Trap { message },
        } => CallResult::Aborted {
            reason: AbortReason::Trap {
                message: clean(message),
            },
        },
        aborted @ CallResult::Aborted { .. } => aborted,
    }
}

impl InvocationReport {
    /// The event id, or `health-check`.
    pub fn call_id(&self) -> &str {
        self.event
            .as_ref()
            .map_or("health-check", |e| e.id.as_str())
    }

    /// The report of a call the host refused to start.
    pub(crate) fn refused(
        installation: &InstallationId,
        connector: &str,
        event: &Event,
        limits: &Limits,
        reason: AbortReason,
    ) -> InvocationReport {
        InvocationReport {
            installation: installation.clone(),
            connector: connector.to_owned(),
            export: "handle-event",
            event: Some(event.clone()),
            result: CallResult::Aborted { reason },
            accesses: Vec::new(),
            logs: Vec::new(),
            logs_dropped: 0,
            outbound: Vec::new(),
            host_calls: 0,
            elapsed_ms: 0.0,
            busy_ms: 0.0,
            fuel_used: None,
            limits: limits.clone(),
        }
    }

    /// Why the call failed, for the merchant: the connector's own cause when it named one;
    /// when it said only `other` or `network`, the cause its last failed provider request
    /// points to (a 401, a 429, a 5xx, an unreachable provider). `None` when it succeeded.
    pub fn cause(&self) -> Option<ConnectorFailure> {
        let CallResult::Failed { error } = &self.result else {
            return None;
        };
        let vague = matches!(
            error,
            ConnectorFailure::Other { .. } | ConnectorFailure::Network { .. }
        );
        let observed = self.outbound.iter().rev().find_map(|o| o.cause.clone());
        match observed {
            Some(cause) if vague => Some(cause),
            _ => Some(error.clone()),
        }
    }
}

fn failure(error: wit::ConnectorError) -> ConnectorFailure {
    use wit::ConnectorError as E;
    // Raw here; redact_result redacts, then sanitises and cuts to 500 characters.
    let text = |m: String| m;
    match error {
        E::AuthExpired => ConnectorFailure::AuthExpired,
        E::InvalidCredentials => ConnectorFailure::InvalidCredentials,
        E::PermissionMissing(scope) => ConnectorFailure::PermissionMissing {
            scope: scope.into(),
        },
        E::ProviderUnavailable => ConnectorFailure::ProviderUnavailable,
        E::RateLimited(retry_after_secs) => ConnectorFailure::RateLimited { retry_after_secs },
        E::UsageLimit => ConnectorFailure::UsageLimit,
        E::Config(m) => ConnectorFailure::Config { message: text(m) },
        E::Network(m) => ConnectorFailure::Network { message: text(m) },
        E::Other(m) => ConnectorFailure::Other { message: text(m) },
    }
}

/// Why the epoch callback ended a call whose installation was disabled or removed.
#[derive(Debug, thiserror::Error)]
#[error("the installation was disabled or removed while this call ran")]
struct Stopped;

fn abort_reason(err: &wasmtime::Error, limits: &Limits) -> AbortReason {
    if err.downcast_ref::<Stopped>().is_some() {
        return AbortReason::Stopped;
    }
    match err.downcast_ref::<Spent>() {
        Some(Spent::HostCalls(limit)) => return AbortReason::HostCalls { limit: *limit },
        Some(Spent::Output(limit)) => {
            return AbortReason::Output {
                limit_bytes: *limit,
            };
        }
        Some(Spent::Input(limit)) => {
            return AbortReason::Input {
                limit_bytes: *limit,
            };
        }
        Some(Spent::Outbound(limit)) => return AbortReason::Outbound { limit: *limit },
        None => {}
    }
    let text = format!("{err:#}");
    match err.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => AbortReason::Deadline {
            limit_ms: limits.deadline.as_millis() as u64,
        },
        Some(Trap::OutOfFuel) => AbortReason::Fuel {
            limit: limits.fuel.unwrap_or(u64::MAX),
        },
        Some(Trap::StackOverflow) => AbortReason::StackOverflow,
        _ if text.contains("forcing trap when growing memory") => AbortReason::Memory {
            limit_bytes: limits.memory_bytes,
        },
        _ if text.contains("forcing trap when growing table") => AbortReason::Table {
            limit_elements: limits.table_elements,
        },

        // The root cause reads "wasm `unreachable` instruction executed" (what a Rust panic
        // becomes); the full chain starts with a backtrace, which belongs in operator logs.
        Some(trap) => AbortReason::Trap {
            message: sanitize(&trap.to_string(), 500),
        },
        None => AbortReason::Trap {
            message: sanitize(&err.root_cause().to_string(), 500),
        },
    }
}
