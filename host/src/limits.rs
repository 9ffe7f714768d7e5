//! The limits of one invocation: the host's defaults and the per-plan or per-connector
//! overrides. Pure data; the runtime enforces them, the database stores the overrides.

use std::time::Duration;

use serde::Serialize;

/// Limits of one invocation. The host's defaults; a plan and a connector can override each
/// field ([`LimitOverrides`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Limits {
    /// Wall-clock time for instantiation plus the call.
    #[schema(value_type = SerdeDuration)]
    pub deadline: Duration,
    /// Instructions (Wasmtime fuel) for instantiation plus the call; `None`: unlimited.
    pub fuel: Option<u64>,
    /// Linear memory, in bytes.
    pub memory_bytes: usize,
    /// Table elements.
    pub table_elements: usize,
    /// Core instances a component may create (Rust and JavaScript components use 3 or 4,
    /// componentize-py ones 14: libc, libpython and its runtime are linked dynamically).
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
    /// Bytes (keys plus values) one installation may keep in its storage, over all its calls.
    pub storage_bytes: u64,
    /// Keys one installation may keep in its storage.
    pub storage_keys: u64,
    /// Component instances the host runs at once, all merchants together: it sizes the
    /// engine's pool (and, at the per-component maxima, its memories and tables). Host-wide:
    /// plans and connectors cannot change it.
    pub pool_instances: u32,
    /// Of [`Limits::pool_instances`], how many one merchant's calls may hold at once. A call
    /// over its merchant's share waits briefly for one of them to end, then is refused as
    /// `merchant-busy`, so no merchant (with connectors that sit in `wasi:io/poll`, say) can
    /// take the pool from the others. Host-wide: plans and connectors cannot change it.
    pub merchant_instances: u32,
}

/// How a [`Duration`] is written in JSON: whole seconds and the nanoseconds past them (the
/// schema of [`Limits::deadline`]; nothing is ever built of this type).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SerdeDuration {
    /// Whole seconds.
    secs: u64,
    /// Nanoseconds past them.
    nanos: u32,
}

/// Per-plan or per-connector changes to [`Limits`]: each field set replaces the default. The
/// API takes at most 2^31 - 1 for `u32` fields and 9.2e18 for the others, as its document says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitOverrides {
    /// Deadline, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 9.2e18)]
    pub deadline_ms: Option<u64>,
    /// Instructions per call.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 9.2e18)]
    pub fuel: Option<u64>,
    /// Linear memory, in bytes (never above the host's own cap, which sizes its pool).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 9.2e18)]
    pub memory_bytes: Option<usize>,
    /// Table elements (never above the host's own cap).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 9.2e18)]
    pub table_elements: Option<usize>,
    /// Host calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 2147483647)]
    pub max_host_calls: Option<u32>,
    /// Outbound requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 2147483647)]
    pub max_outbound_requests: Option<u32>,
    /// Output bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 9.2e18)]
    pub max_output_bytes: Option<u64>,
    /// Input bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 9.2e18)]
    pub max_input_bytes: Option<u64>,
    /// Concurrent invocations per installation.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 2147483647)]
    pub max_concurrent: Option<u32>,
    /// Storage bytes per installation.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 9.2e18)]
    pub storage_bytes: Option<u64>,
    /// Storage keys per installation.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 9.2e18)]
    pub storage_keys: Option<u64>,
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
        if let Some(n) = overrides.storage_bytes {
            out.storage_bytes = n;
        }
        if let Some(n) = overrides.storage_keys {
            out.storage_keys = n;
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
            // Room for cursors and id mappings of a sync connector; a plan can raise it.
            storage_bytes: 16 * 1024 * 1024,
            storage_keys: 10_000,
            pool_instances: 200,
            // A quarter of the pool: one merchant cannot take it all, and 50 calls at once
            // is far more than a store's events need (most calls take a millisecond).
            merchant_instances: 50,
        }
    }
}
