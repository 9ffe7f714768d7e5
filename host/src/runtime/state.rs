//! The data of one Store: a fresh one per invocation, so nothing leaks between calls. It
//! composes the capability states, the outbound-HTTP hooks, a locked-down WASI context and the
//! resource limiter.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::limiter::Limiter;
use super::wasi::{CallOutput, Kept, MAX_RESOURCES};
use super::{Connections, DataSources};
use crate::call::CallContext;
use crate::capabilities::{Capabilities, Deps, HasCapabilities};
use crate::limits::Limits;
use crate::outbound::{BodyCaps, Network, Outbound};

/// The data of one Store.
pub(crate) struct HostState {
    /// One state per capability.
    pub caps: Capabilities,
    /// The wasi-http hooks Airlock installs.
    pub outbound: Outbound,
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub table: ResourceTable,
    pub limits: Limiter,
    /// The call, for the WASI functions Airlock bounds itself.
    pub call: Arc<CallContext>,
    /// The start of what the call wrote to stderr.
    pub stderr: Arc<Mutex<Kept>>,
}

impl HasCapabilities for HostState {
    fn capabilities(&mut self) -> &mut Capabilities {
        &mut self.caps
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
    sources: &DataSources,
    limits: &Limits,
    connections: &Connections,
    network: Arc<Network>,
    deadline: Instant,
) -> HostState {
    // Rust's std on wasm32-wasip2 always imports WASI; give it nothing: no preopened
    // directories, no environment, no arguments, no network, no inherited stdio. Its stdout
    // and stderr are the call's own, charged to its output allowance.
    let stderr = Arc::new(Mutex::new(Kept::default()));
    let wasi = wasmtime_wasi::WasiCtxBuilder::new()
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .stdout(CallOutput::discarded(call.clone()))
        .stderr(CallOutput::kept(call.clone(), stderr.clone()))
        .build();
    let mut table = ResourceTable::new();
    table.set_max_capacity(MAX_RESOURCES);
    let deps = Deps {
        call: call.clone(),
        commerce: sources.commerce.clone(),
        storage: sources.storage.clone(),
        storage_quota: crate::commerce::StorageQuota {
            bytes: limits.storage_bytes,
            keys: limits.storage_keys,
        },
        secrets: sources.secrets.clone(),
        readable: connections.readable.clone(),
        max_log_lines: limits.max_log_lines,
    };
    HostState {
        caps: Capabilities::new(&deps),
        outbound: Outbound::new(
            call.clone(),
            network,
            connections.origins.clone(),
            connections.send_to.clone(),
            sources.secrets.clone(),
            deadline,
            BodyCaps::of(limits),
        ),
        wasi,
        http: WasiHttpCtx::new(),
        table,
        limits: Limiter::new(limits),
        call,
        stderr,
    }
}
