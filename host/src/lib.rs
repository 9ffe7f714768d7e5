//! Airlock runs third-party commerce connectors (payments, logistics, messaging, analytics,
//! ads, marketplace sync) as sandboxed WebAssembly components. A connector can touch only the
//! orders, customers and stock its merchant approved: every host call checks the
//! installation's effective grant (declared ∩ approved ∩ platform policy) and is bound to the
//! merchant of the call, never to ids the plugin passes.
//!
//! Start with [`Host::open`], then [`Host::install`], [`Host::approve`] and [`Host::emit`]
//! (delivered by [`Host::dispatch`], which `airlock serve` runs; [`Host::dispatch_once`] is one
//! round of it).
#![deny(missing_docs)]

pub mod artifact;
pub mod authoring;
mod bindings;
mod call;
mod capabilities;
pub mod commerce;
pub mod data_access;
pub mod db;
mod declarations;
pub mod demo;
pub mod dev;
mod error;
mod failure;
mod fairness;
pub mod grants;
pub mod health;
mod host;
pub mod ids;
pub mod imports;
#[cfg(test)]
mod layering;
mod limits;
mod live;
pub mod manifest;
pub mod memory;
pub mod origin;
pub mod outbound;
pub mod outbox;
pub mod prompt;
mod prompt_text;
mod redact;
mod report;
mod runtime;
pub mod signing;
mod status;
pub mod text;
pub mod tokens;
pub mod topics;
pub mod vault;
mod views;

pub use call::{Access, OutboundCall};
pub use capabilities::log::{LogLevel, LogLine};
pub use capabilities::{CAPABILITIES, Descriptor, Requirement, descriptor, requirement};
pub use error::Error;
pub use failure::ConnectorFailure;
pub use host::{
    AppHealth, Checked, DEFAULT_MERCHANT_RATE, Declined, DispatchOptions, FOLLOW_EVERY, Host,
    HostBuilder, Round, SecretChanged, SecretStatus, Uninstalled, Until, Upgraded, Waiting,
};
pub use limits::{LimitOverrides, Limits};
pub use report::{AbortReason, CallResult, Event, InvocationReport};
pub use runtime::{
    CallSetup, ComponentImport, Connections, DataSources, MAX_COMPILE_CACHE_BYTES, MAX_POLL_LIST,
    MAX_RANDOM_REQUEST, MAX_RESOURCES, Prepared, STDERR_KEPT, Sandbox, engine_config,
};
pub use status::{InstallationStatus, UnknownStatus};
pub use views::{Approval, Emitted, Installation, Installed};
