//! Airlock runs third-party commerce connectors (payments, logistics, messaging, analytics,
//! ads, marketplace sync) as sandboxed WebAssembly components. A connector can touch only the
//! orders, customers and stock its merchant approved: every host call checks the
//! installation's effective grant (declared ∩ approved ∩ platform policy) and is bound to the
//! merchant of the call, never to ids the plugin passes.
//!
//! Start with [`Host::open`], then [`Host::install`], [`Host::approve`] and [`Host::emit`].
#![deny(missing_docs)]

pub mod artifact;
mod bindings;
mod capabilities;
pub mod commerce;
mod credentials;
pub mod db;
pub mod demo;
mod error;
mod fairness;
pub mod grants;
mod host;
pub mod ids;
mod imports;
mod lifecycle;
pub mod live;
pub mod manifest;
pub mod origin;
pub mod outbound;
pub mod prompt;
mod prompt_text;
mod provenance;
mod redact;
mod runtime;
pub mod signing;
mod state;
mod status;
pub mod topics;
mod upgrade;
pub mod vault;
mod views;

pub use capabilities::log::{LogLevel, LogLine};
pub use credentials::{SecretChanged, SecretStatus};
pub use error::Error;
pub use host::{Host, HostBuilder};
pub use imports::{Requirement, requirement};
pub use lifecycle::Uninstalled;
pub use runtime::{
    AbortReason, CallResult, CallSetup, Connections, ConnectorFailure, DataSources, EPOCH_TICK,
    Event, InvocationReport, LimitOverrides, Limits, Prepared, Sandbox, engine_config,
};
pub use state::Access;
pub use status::{InstallationStatus, UnknownStatus};
pub use upgrade::Upgraded;
pub use views::{Approval, Emitted, Installation, Installed};
