//! What an invocation came to: the event it was about, how it ended, and everything it
//! touched (counts, origins, statuses, never contents). Pure data, read by the CLI, the audit
//! log and a platform; produced by the runtime.

use serde::Serialize;

use crate::call::{Access, OutboundCall};
use crate::capabilities::log::LogLine;
use crate::failure::ConnectorFailure;
use crate::ids::InstallationId;
use crate::limits::Limits;
use crate::topics::Topic;

/// A platform event as the host delivers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Event {
    /// Unique id, the same on every redelivery.
    pub id: String,
    /// Topic, such as `order.created`.
    #[schema(value_type = String)]
    pub topic: Topic,
    /// The record it is about.
    pub subject_id: String,
    /// Milliseconds since the Unix epoch.
    pub occurred_at: u64,
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
    /// Its merchant's calls already held the merchant's share of the host's instance pool,
    /// and none ended within a short wait; this one never started.
    MerchantBusy {
        /// Instances one merchant may hold at once.
        limit: u32,
    },
    /// Asked WASI for more than the host does for one call: too many random bytes in one
    /// request, too many pollables in one `poll`, too many resources held at once.
    Wasi {
        /// What it asked for: `get-random-bytes`, `poll` or `resources`.
        what: String,
        /// What the host allows (bytes per request, pollables per poll, resources held).
        limit: u64,
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
            AbortReason::MerchantBusy { .. } => "merchant-busy",
            AbortReason::Wasi { .. } => "wasi",
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
            AbortReason::MerchantBusy { limit } => {
                format!("the merchant's share of {limit} running instances was in use")
            }
            AbortReason::Wasi { what, limit } => {
                format!("WASI `{what}` past the host's limit of {limit}")
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
    /// What it wrote to stderr (a panic message, an uncaught exception's traceback), line by
    /// line: capped, redacted like its logs, control characters removed.
    pub stderr: Vec<String>,
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
    /// The most linear memory it held at once, over all its memories, in bytes: the memory
    /// limiter's high-water mark (a growth refused at the cap counts at the size it asked
    /// for; 0 for a call that never started).
    pub peak_memory_bytes: u64,
    /// The limits it ran under.
    pub limits: Limits,
    /// Orders the call marked paid: written after the call if it succeeded, discarded if it
    /// did not (payments fail closed).
    pub staged_paid: Vec<String>,
    /// Declared keys the call opened (read, or filled into a request header), by name, with
    /// how many times: never a value.
    pub keys_used: Vec<(String, u32)>,
}

impl InvocationReport {
    /// The event id, or `health-check`.
    pub fn call_id(&self) -> &str {
        self.event
            .as_ref()
            .map_or("health-check", |e| e.id.as_str())
    }

    /// The report of an event the host refused to deliver.
    pub fn refused(
        installation: &InstallationId,
        connector: &str,
        event: &Event,
        limits: &Limits,
        reason: AbortReason,
    ) -> InvocationReport {
        InvocationReport::not_started(installation, connector, Some(event), limits, reason)
    }

    /// The report of a call (an event, or a health check without one) the host refused to
    /// start.
    pub fn not_started(
        installation: &InstallationId,
        connector: &str,
        event: Option<&Event>,
        limits: &Limits,
        reason: AbortReason,
    ) -> InvocationReport {
        InvocationReport {
            installation: installation.clone(),
            connector: connector.to_owned(),
            export: if event.is_some() {
                "handle-event"
            } else {
                "health-check"
            },
            event: event.cloned(),
            result: CallResult::Aborted { reason },
            accesses: Vec::new(),
            logs: Vec::new(),
            logs_dropped: 0,
            stderr: Vec::new(),
            outbound: Vec::new(),
            host_calls: 0,
            elapsed_ms: 0.0,
            busy_ms: 0.0,
            fuel_used: None,
            peak_memory_bytes: 0,
            limits: limits.clone(),
            staged_paid: Vec::new(),
            keys_used: Vec::new(),
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
