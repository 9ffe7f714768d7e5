//! Per-invocation state: one fresh [`HostState`] per Store, one field per capability, all
//! sharing one [`CallContext`] that holds the grant and counts what the call touched.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;
use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::bindings::airlock::connector::types::HostError;
use crate::capabilities::{
    customers::CustomersState, inventory::InventoryState, log::LogState, orders::OrdersState,
    secrets::SecretsState, storage::StorageState,
};
use crate::commerce::DataError;
use crate::grants::{Grant, Scope, ScopeSet};
use crate::ids::{InstallationId, MerchantId};
use crate::live::{GrantSource, Signal};
use crate::outbound::{Outbound, OutboundCall, OutboundEntry};
use crate::redact::Redactor;

/// Longest id or SKU a plugin may pass, in bytes.
pub(crate) const MAX_ID_BYTES: usize = 128;

/// How one kind of host call went during an invocation: counts only, never record contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    /// The host function, such as `orders.get`.
    pub operation: &'static str,
    /// The scope it needs, if any.
    pub scope: Option<Scope>,
    /// Calls allowed and served.
    pub allowed: u32,
    /// Calls refused because the grant lacks `scope`.
    pub denied: u32,
    /// Calls that found no record (or another merchant's, which looks the same).
    pub not_found: u32,
    /// Calls refused for bad input, a quota, or a data source failure.
    pub failed: u32,
    /// Records returned or changed.
    pub records: u64,
}

/// What a single host call came to, for the access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Served {
    /// Served, touching this many records.
    Records(u64),
    /// Refused by the grant.
    Denied,
    /// No such record.
    NotFound,
    /// Bad input, quota or data source failure.
    Failed,
}

/// A per-call allowance the connector ran through; the epoch callback ends the call with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Spent {
    /// Kept calling the host after the quota.
    #[error("the host-call quota of {0} ran out")]
    HostCalls(u32),
    /// Put out more than allowed.
    #[error("the output allowance of {0} bytes ran out")]
    Output(u64),
    /// Was handed more than allowed.
    #[error("the input allowance of {0} bytes ran out")]
    Input(u64),
    /// Kept sending requests after the outbound-request limit.
    #[error("the outbound-request limit of {0} ran out")]
    Outbound(u32),
}

/// Outbound requests one report lists; more are still refused or served, not listed.
const MAX_OUTBOUND_RECORDS: usize = 64;

/// How an invocation learns of revocations while it runs (see [`crate::live`]).
pub(crate) struct Live {
    pub signal: Arc<Signal>,
    /// The generation the invocation started under.
    pub started: u64,
    pub source: Arc<dyn GrantSource>,
    pub declared: ScopeSet,
    pub policy: ScopeSet,
}

/// Who is calling and what they may do; shared by every capability of one invocation.
pub(crate) struct CallContext {
    pub merchant: MerchantId,
    pub installation: InstallationId,
    /// The effective grant right now, as [`ScopeSet`] bits: lowered by a revocation mid-run.
    grant: AtomicU32,
    live: Option<Live>,
    /// The generation `grant` was last read at.
    seen: AtomicU64,
    stopped: AtomicBool,
    max_host_calls: u32,
    host_calls: AtomicU32,
    max_output: u64,
    output: AtomicU64,
    max_input: u64,
    input: AtomicU64,
    /// The first allowance the call ran through, if any.
    spent: Mutex<Option<Spent>>,
    accesses: Mutex<Vec<Access>>,
    outbound: Mutex<Vec<OutboundEntry>>,
    /// Secret values this call has seen, kept out of everything it leaves behind.
    redactor: Mutex<Redactor>,
}

impl CallContext {
    pub fn new(
        merchant: MerchantId,
        installation: InstallationId,
        grant: Grant,
        live: Option<Live>,
        limits: &crate::runtime::Limits,
    ) -> Self {
        let seen = live.as_ref().map_or(0, |l| l.started);
        CallContext {
            merchant,
            installation,
            grant: AtomicU32::new(grant.effective().bits()),
            live,
            seen: AtomicU64::new(seen),
            stopped: AtomicBool::new(false),
            max_host_calls: limits.max_host_calls,
            host_calls: AtomicU32::new(0),
            max_output: limits.max_output_bytes,
            output: AtomicU64::new(0),
            max_input: limits.max_input_bytes,
            input: AtomicU64::new(0),
            spent: Mutex::new(None),
            accesses: Mutex::new(Vec::new()),
            outbound: Mutex::new(Vec::new()),
            redactor: Mutex::new(Redactor::default()),
        }
    }

    fn spend(&self, what: Spent) {
        self.spent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert(what);
    }

    /// The allowance the call ran through, if it did: the call must end.
    pub fn over_quota(&self) -> Option<Spent> {
        *self.spent.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Count `bytes` the connector puts out; false (and the call ends) once over the allowance.
    pub fn put_out(&self, bytes: u64) -> bool {
        let total = self.output.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if total > self.max_output {
            self.spend(Spent::Output(self.max_output));
            return false;
        }
        true
    }

    /// Count `bytes` handed to the connector; false (and the call ends) once over the allowance.
    pub fn take_input(&self, bytes: u64) -> bool {
        let total = self.input.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if total > self.max_input {
            self.spend(Spent::Input(self.max_input));
            return false;
        }
        true
    }

    /// Record one outbound request; `received` keeps counting while its body is read.
    pub fn record_outbound(&self, mut call: OutboundCall, received: Arc<AtomicU64>) {
        let mut entries = self.outbound.lock().unwrap_or_else(PoisonError::into_inner);
        // Bounded: a connector looping on refused requests must not grow host memory.
        if entries.len() >= MAX_OUTBOUND_RECORDS {
            return;
        }
        call.origin = crate::capabilities::log::sanitize(&call.origin, 200);
        call.method = crate::capabilities::log::sanitize(&call.method, 16);
        entries.push(OutboundEntry { call, received });
    }

    /// End the call: it went past its outbound-request limit.
    pub fn outbound_spent(&self, limit: u32) {
        self.spend(Spent::Outbound(limit));
    }

    /// Every outbound request so far, in order, with bytes read up to now.
    pub fn outbound(&self) -> Vec<OutboundCall> {
        self.outbound
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|e| OutboundCall {
                bytes_received: e.received.load(Ordering::Relaxed),
                error: e.call.error.as_deref().map(|m| self.redact(m)),
                origin: self.redact(&e.call.origin),
                method: self.redact(&e.call.method),
                ..e.call.clone()
            })
            .collect()
    }

    /// Remember a secret value this call has seen, so it is redacted from what it leaves.
    pub fn remember_secret(&self, value: &str) {
        self.redactor
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .add(value);
    }

    /// `text` with every secret this call has seen replaced.
    pub fn redact(&self, text: &str) -> String {
        self.redactor
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .apply(text)
    }

    /// True when the grant allows `scope` right now.
    pub fn allows(&self, scope: Scope) -> bool {
        ScopeSet::from_bits(self.grant.load(Ordering::SeqCst)).contains(scope)
    }

    /// Re-read the grant if the installation changed since it was last read. Fails closed: a
    /// store that cannot answer leaves the call with no grant until it can.
    async fn refresh(&self) {
        let Some(live) = &self.live else { return };
        let now = live.signal.generation();
        if now == self.seen.load(Ordering::SeqCst) {
            return;
        }
        if live.signal.stopped_since(live.started) {
            self.grant.store(0, Ordering::SeqCst);
            self.stopped.store(true, Ordering::SeqCst);
            return;
        }
        match live.source.approved(&self.installation).await {
            Ok(Some(approved)) => {
                let grant = Grant::new(live.declared, approved, live.policy);
                self.grant.store(grant.effective().bits(), Ordering::SeqCst);
                self.seen.store(now, Ordering::SeqCst);
            }
            Ok(None) => {
                self.grant.store(0, Ordering::SeqCst);
                self.stopped.store(true, Ordering::SeqCst);
                self.seen.store(now, Ordering::SeqCst);
            }
            Err(err) => {
                self.grant.store(0, Ordering::SeqCst);
                eprintln!(
                    "airlock: re-reading the grant of {}: {err}",
                    self.installation
                );
            }
        }
    }

    /// The gate in front of every host call: count it against the quota, pick up any
    /// revocation, then check the scope. A refusal is recorded and returned as the typed error
    /// the plugin receives.
    pub async fn admit(
        &self,
        operation: &'static str,
        scope: Option<Scope>,
    ) -> Result<(), HostError> {
        let calls = self.host_calls.fetch_add(1, Ordering::Relaxed) + 1;
        if calls > self.max_host_calls {
            self.spend(Spent::HostCalls(self.max_host_calls));
            self.record(operation, scope, Served::Failed);
            return Err(HostError::LimitExceeded(format!(
                "at most {} host calls per invocation",
                self.max_host_calls
            )));
        }
        self.refresh().await;
        match scope {
            Some(scope) if !self.allows(scope) => {
                self.record(operation, Some(scope), Served::Denied);
                Err(HostError::Denied(scope.into()))
            }
            // Own-space calls need no scope, but not after the app was disabled or removed.
            None if self.stopped.load(Ordering::SeqCst) => {
                self.record(operation, None, Served::Denied);
                Err(HostError::Unavailable)
            }
            _ => Ok(()),
        }
    }

    /// [`Self::admit`], then refuse an empty or over-long id (recorded as a failed call).
    pub async fn admit_id(
        &self,
        operation: &'static str,
        scope: Option<Scope>,
        what: &str,
        id: &str,
    ) -> Result<(), HostError> {
        self.admit(operation, scope).await?;
        if id.is_empty() || id.len() > MAX_ID_BYTES {
            self.record(operation, scope, Served::Failed);
            return Err(HostError::InvalidInput(format!(
                "{what} must be 1 to {MAX_ID_BYTES} bytes"
            )));
        }
        Ok(())
    }

    /// Record how a single-record lookup ended and turn it into the plugin's answer.
    pub fn found<T>(
        &self,
        operation: &'static str,
        scope: Option<Scope>,
        looked_up: Result<Option<T>, DataError>,
    ) -> Result<T, HostError> {
        match looked_up {
            Ok(Some(record)) => {
                self.record(operation, scope, Served::Records(1));
                Ok(record)
            }
            Ok(None) => {
                self.record(operation, scope, Served::NotFound);
                Err(HostError::NotFound)
            }
            Err(err) => Err(self.unavailable(operation, scope, err)),
        }
    }

    /// Record how a list ended and turn it into the plugin's answer.
    pub fn listed<T>(
        &self,
        operation: &'static str,
        scope: Option<Scope>,
        listed: Result<Vec<T>, DataError>,
    ) -> Result<Vec<T>, HostError> {
        match listed {
            Ok(records) => {
                self.record(operation, scope, Served::Records(records.len() as u64));
                Ok(records)
            }
            Err(err) => Err(self.unavailable(operation, scope, err)),
        }
    }

    /// Record how a write of one record ended (`false`: no such record).
    pub fn changed(
        &self,
        operation: &'static str,
        scope: Option<Scope>,
        changed: Result<bool, DataError>,
    ) -> Result<(), HostError> {
        self.found(operation, scope, changed.map(|hit| hit.then_some(())))
    }

    /// A data source failure: the plugin learns only that it may retry; the operator gets the text.
    pub fn unavailable(
        &self,
        operation: &'static str,
        scope: Option<Scope>,
        err: DataError,
    ) -> HostError {
        self.record(operation, scope, Served::Failed);
        eprintln!("airlock: {operation} for {}: {err}", self.installation);
        HostError::Unavailable
    }

    /// Record how an admitted call ended.
    pub fn record(&self, operation: &'static str, scope: Option<Scope>, served: Served) {
        let mut accesses = self.accesses.lock().unwrap_or_else(PoisonError::into_inner);
        let index = match accesses.iter().position(|a| a.operation == operation) {
            Some(i) => i,
            None => {
                accesses.push(Access {
                    operation,
                    scope,
                    allowed: 0,
                    denied: 0,
                    not_found: 0,
                    failed: 0,
                    records: 0,
                });
                accesses.len() - 1
            }
        };
        let entry = &mut accesses[index];
        match served {
            Served::Records(n) => {
                entry.allowed += 1;
                entry.records += n;
            }
            Served::Denied => entry.denied += 1,
            Served::NotFound => entry.not_found += 1,
            Served::Failed => entry.failed += 1,
        }
    }

    /// Every host call made so far, by operation, in first-call order.
    pub fn accesses(&self) -> Vec<Access> {
        self.accesses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many host calls were made.
    pub fn host_calls(&self) -> u32 {
        self.host_calls.load(Ordering::Relaxed)
    }
}

/// The data of one Store: a fresh one per invocation, so nothing leaks between calls.
pub(crate) struct HostState {
    pub orders: OrdersState,
    pub customers: CustomersState,
    pub inventory: InventoryState,
    pub storage: StorageState,
    pub log: LogState,
    pub secrets: SecretsState,
    pub outbound: Outbound,
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub table: ResourceTable,
    pub limits: Limiter,
}

/// Wasmtime's `StoreLimits`, also remembering the most linear memory the call asked for.
pub(crate) struct Limiter {
    inner: StoreLimits,
    /// Largest memory size requested, in bytes.
    pub peak_memory: usize,
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.peak_memory = self.peak_memory.max(desired);
        self.inner.memory_growing(current, desired, maximum)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            hooks: &mut self.outbound,
            table: &mut self.table,
            ctx: &mut self.http,
        }
    }
}

/// Build the state of one invocation from its call context and data sources.
pub(crate) fn host_state(
    call: Arc<CallContext>,
    sources: &crate::runtime::DataSources,
    limits: &crate::runtime::Limits,
    connections: &crate::runtime::Connections,
    network: Arc<crate::outbound::Network>,
    deadline: std::time::Instant,
) -> HostState {
    // Rust's std on wasm32-wasip2 always imports WASI; give it nothing: no preopened
    // directories, no environment, no arguments, no network, no inherited stdio.
    let wasi = wasmtime_wasi::WasiCtxBuilder::new()
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build();
    HostState {
        orders: OrdersState::new(call.clone(), sources.commerce.clone()),
        customers: CustomersState::new(call.clone(), sources.commerce.clone()),
        inventory: InventoryState::new(call.clone(), sources.commerce.clone()),
        storage: StorageState::new(call.clone(), sources.storage.clone()),
        secrets: SecretsState::new(
            call.clone(),
            sources.secrets.clone(),
            connections.readable.clone(),
        ),
        outbound: Outbound {
            call: call.clone(),
            network,
            allowed: connections.origins.clone(),
            send_to: connections.send_to.clone(),
            secrets: sources.secrets.clone(),
            deadline,
            max_requests: limits.max_outbound_requests,
            max_request_bytes: limits.max_request_bytes,
            max_response_bytes: limits.max_response_bytes,
            requests: 0,
        },
        log: LogState::new(call, limits.max_log_lines),
        wasi,
        http: WasiHttpCtx::new(),
        table: ResourceTable::new(),
        limits: Limiter {
            inner: wasmtime::StoreLimitsBuilder::new()
                .memory_size(limits.memory_bytes)
                .table_elements(limits.table_elements)
                .instances(limits.instances)
                .trap_on_grow_failure(true)
                .build(),
            peak_memory: 0,
        },
    }
}
