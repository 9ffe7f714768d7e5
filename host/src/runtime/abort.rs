//! How a call that did not return an outcome is classified, and how the text it leaves is
//! cleaned: typed errors from the epoch callback, the limiter and Wasmtime's traps, never
//! matched on error text.

use wasmtime::Trap;

use super::limiter::LimitHit;
use super::wasi::Refused;
use crate::bindings::airlock::connector::types as wit;
use crate::call::{CallContext, Spent};
use crate::failure::ConnectorFailure;
use crate::limits::Limits;
use crate::report::{AbortReason, CallResult};
use crate::text::sanitize;

/// Why the epoch callback ended a call whose installation was disabled or removed.
#[derive(Debug, thiserror::Error)]
#[error("the installation was disabled or removed while this call ran")]
pub(super) struct Stopped;

/// The connector's own error as the merchant-facing cause (text raw here; redacted, then
/// sanitised and cut by [`redact_result`]).
pub(super) fn failure(error: wit::ConnectorError) -> ConnectorFailure {
    use wit::ConnectorError as E;
    match error {
        E::AuthExpired => ConnectorFailure::AuthExpired,
        E::InvalidCredentials => ConnectorFailure::InvalidCredentials,
        E::PermissionMissing(scope) => ConnectorFailure::PermissionMissing {
            scope: scope.into(),
        },
        E::CredentialsChanged => ConnectorFailure::CredentialsChanged,
        E::VerificationRequired => ConnectorFailure::VerificationRequired,
        E::PolicyRestricted(message) => ConnectorFailure::PolicyRestricted { message },
        E::BillingIssue => ConnectorFailure::BillingIssue,
        E::PlanExpired => ConnectorFailure::PlanExpired,
        E::UsageLimit => ConnectorFailure::UsageLimit,
        E::ProviderUnavailable => ConnectorFailure::ProviderUnavailable,
        E::ProviderApiChanged(message) => ConnectorFailure::ProviderApiChanged { message },
        E::RateLimited(retry_after_secs) => ConnectorFailure::RateLimited { retry_after_secs },
        E::Config(message) => ConnectorFailure::Config { message },
        E::Network(message) => ConnectorFailure::Network { message },
        E::Other(message) => ConnectorFailure::Other { message },
    }
}

/// Why the host ended a call: the installation stopped, an allowance ran out, a cap the
/// limiter refused (`hit`), a WASI request past its bound, or one of Wasmtime's traps.
pub(super) fn abort_reason(
    err: &wasmtime::Error,
    hit: Option<LimitHit>,
    limits: &Limits,
) -> AbortReason {
    if err.downcast_ref::<Stopped>().is_some() {
        return AbortReason::Stopped;
    }
    if let Some(spent) = err.downcast_ref::<Spent>() {
        return spent_reason(*spent);
    }
    if let Some(refused) = Refused::of(err) {
        return refused.reason();
    }
    match hit {
        Some(LimitHit::Memory { .. }) => {
            return AbortReason::Memory {
                limit_bytes: limits.memory_bytes,
            };
        }
        Some(LimitHit::Table { .. }) => {
            return AbortReason::Table {
                limit_elements: limits.table_elements,
            };
        }
        None => {}
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => AbortReason::Deadline {
            limit_ms: limits.deadline.as_millis() as u64,
        },
        Some(Trap::OutOfFuel) => AbortReason::Fuel {
            limit: limits.fuel.unwrap_or(u64::MAX),
        },
        Some(Trap::StackOverflow) => AbortReason::StackOverflow,
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

fn spent_reason(spent: Spent) -> AbortReason {
    match spent {
        Spent::HostCalls(limit) => AbortReason::HostCalls { limit },
        Spent::Output(limit) => AbortReason::Output { limit_bytes: limit },
        Spent::Input(limit) => AbortReason::Input { limit_bytes: limit },
        Spent::Outbound(limit) => AbortReason::Outbound { limit },
    }
}

/// `result` with every secret the call saw redacted from its text, then sanitised and cut.
pub(super) fn redact_result(result: CallResult, call: &CallContext) -> CallResult {
    let clean = |m: String| sanitize(&call.redact(&m), 500);
    match result {
        CallResult::Done { acted, summary } => CallResult::Done {
            acted,
            summary: clean(summary),
        },
        CallResult::Failed { error } => CallResult::Failed {
            error: error.map_text(clean),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wit_cause_becomes_the_failure_of_the_same_name_text_kept() {
        use wit::ConnectorError as E;
        let text = || "the provider's words".to_owned();
        for (error, code) in [
            (E::AuthExpired, "auth-expired"),
            (E::InvalidCredentials, "invalid-credentials"),
            (E::CredentialsChanged, "credentials-changed"),
            (
                E::PermissionMissing(wit::Scope::OrdersRead),
                "permission-missing",
            ),
            (E::VerificationRequired, "verification-required"),
            (E::PolicyRestricted(text()), "policy-restricted"),
            (E::BillingIssue, "billing-issue"),
            (E::PlanExpired, "plan-expired"),
            (E::UsageLimit, "usage-limit"),
            (E::ProviderUnavailable, "provider-unavailable"),
            (E::ProviderApiChanged(text()), "provider-api-changed"),
            (E::RateLimited(Some(3)), "rate-limited"),
            (E::Config(text()), "config"),
            (E::Network(text()), "network"),
            (E::Other(text()), "other"),
        ] {
            let has_text = matches!(
                error,
                E::PolicyRestricted(_)
                    | E::ProviderApiChanged(_)
                    | E::Config(_)
                    | E::Network(_)
                    | E::Other(_)
            );
            let failure = failure(error);
            assert_eq!(failure.code(), code);
            let json = serde_json::to_value(&failure).unwrap_or_default();
            assert_eq!(json.get("message").is_some(), has_text, "{code}");
        }
    }
}
