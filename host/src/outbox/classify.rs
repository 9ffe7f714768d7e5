//! What a delivery's outcome means for the next try: done, try again later, or stop and wait
//! for the merchant. Retrying helps only when the cause can pass by itself (a provider down,
//! the network, a rate limit, a deadline); credentials, permissions, verification, billing
//! and policy need the merchant, and retrying them only hammers the provider.

use std::time::Duration;

use serde::Serialize;

use crate::failure::ConnectorFailure;
use crate::report::{AbortReason, CallResult, InvocationReport};

/// What to do with a delivery after one try.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "then", rename_all = "kebab-case")]
pub enum Disposition {
    /// It was handled: never try again.
    Delivered,
    /// It may succeed later: try again on the schedule (not before `retry_after`, when the
    /// provider said so).
    Retry {
        /// The cause's stable code.
        code: String,
        /// One line for people.
        detail: String,
        /// The provider's `retry-after`, when it gave one.
        #[serde(skip)]
        retry_after: Option<Duration>,
    },
    /// Only the merchant can fix it: hold every delivery of the installation (kept, not
    /// tried) until the cause is fixed.
    Pause {
        /// The cause's stable code.
        code: String,
        /// One line for people.
        detail: String,
    },
    /// The host never started the call because the installation or its merchant was at
    /// its concurrency limit: try again soon, and do not count it as a try.
    Busy,
}

impl Disposition {
    /// The disposition of one try's report.
    pub fn of(report: &InvocationReport) -> Disposition {
        match &report.result {
            CallResult::Done { .. } => Disposition::Delivered,
            CallResult::Failed { .. } => {
                // `cause()` is `Some` for every failed call; the fallback keeps this total.
                let cause = report.cause().unwrap_or(ConnectorFailure::Other {
                    message: String::new(),
                });
                of_failure(&cause)
            }
            CallResult::Aborted { reason } => of_abort(reason),
        }
    }

    /// The cause's code, when the try failed.
    pub fn code(&self) -> Option<&str> {
        match self {
            Disposition::Retry { code, .. } | Disposition::Pause { code, .. } => Some(code),
            Disposition::Delivered => None,
            Disposition::Busy => Some("busy"),
        }
    }
}

/// A connector-reported cause: retry what can pass, pause what needs the merchant.
pub fn of_failure(cause: &ConnectorFailure) -> Disposition {
    let code = cause.code().to_owned();
    let detail = describe(cause);
    match cause {
        ConnectorFailure::ProviderUnavailable
        | ConnectorFailure::Network { .. }
        | ConnectorFailure::UsageLimit
        | ConnectorFailure::Other { .. } => Disposition::Retry {
            code,
            detail,
            retry_after: None,
        },
        ConnectorFailure::RateLimited { retry_after_secs } => Disposition::Retry {
            code,
            detail,
            retry_after: retry_after_secs.map(|s| Duration::from_secs(u64::from(s))),
        },
        ConnectorFailure::AuthExpired
        | ConnectorFailure::InvalidCredentials
        | ConnectorFailure::CredentialsChanged
        | ConnectorFailure::PermissionMissing { .. }
        | ConnectorFailure::VerificationRequired
        | ConnectorFailure::PolicyRestricted { .. }
        | ConnectorFailure::BillingIssue
        | ConnectorFailure::PlanExpired
        | ConnectorFailure::ProviderApiChanged { .. }
        | ConnectorFailure::Config { .. } => Disposition::Pause { code, detail },
    }
}

/// One line about a cause: the connector's words when it gave some, else what to check.
fn describe(cause: &ConnectorFailure) -> String {
    match cause {
        ConnectorFailure::PolicyRestricted { message }
        | ConnectorFailure::ProviderApiChanged { message }
        | ConnectorFailure::Config { message }
        | ConnectorFailure::Network { message }
        | ConnectorFailure::Other { message } => message.clone(),
        ConnectorFailure::PermissionMissing { scope } => {
            format!("the app needs `{}`, which is not approved", scope.as_str())
        }
        ConnectorFailure::RateLimited {
            retry_after_secs: Some(secs),
        } => format!("the provider asked to wait {secs} s"),
        other => other.what_to_check().to_owned(),
    }
}

/// A call the host stopped: busy is not a try; the rest are retried on the schedule (a
/// deadline may pass; a trap or a limit may be fixed by an upgrade before the last try).
fn of_abort(reason: &AbortReason) -> Disposition {
    match reason {
        AbortReason::Busy { .. } | AbortReason::MerchantBusy { .. } => Disposition::Busy,
        other => Disposition::Retry {
            code: other.code().to_owned(),
            detail: other.describe(),
            retry_after: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grants::Scope;

    #[test]
    fn causes_that_pass_by_themselves_are_retried_and_the_merchants_pause() {
        let retried = [
            ConnectorFailure::ProviderUnavailable,
            ConnectorFailure::Network {
                message: "reset".into(),
            },
            ConnectorFailure::RateLimited {
                retry_after_secs: Some(30),
            },
            ConnectorFailure::UsageLimit,
            ConnectorFailure::Other {
                message: "?".into(),
            },
        ];
        for cause in &retried {
            assert!(
                matches!(of_failure(cause), Disposition::Retry { .. }),
                "{cause:?}"
            );
        }
        let paused = [
            ConnectorFailure::AuthExpired,
            ConnectorFailure::InvalidCredentials,
            ConnectorFailure::CredentialsChanged,
            ConnectorFailure::PermissionMissing {
                scope: Scope::OrdersRead,
            },
            ConnectorFailure::VerificationRequired,
            ConnectorFailure::PolicyRestricted {
                message: "template".into(),
            },
            ConnectorFailure::BillingIssue,
            ConnectorFailure::PlanExpired,
            ConnectorFailure::ProviderApiChanged {
                message: "v1 gone".into(),
            },
            ConnectorFailure::Config {
                message: "no sender".into(),
            },
        ];
        for cause in &paused {
            match of_failure(cause) {
                Disposition::Pause { code, .. } => assert_eq!(code, cause.code()),
                other => panic!("{cause:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn a_rate_limit_carries_its_retry_after_and_busy_is_not_a_try() {
        let d = of_failure(&ConnectorFailure::RateLimited {
            retry_after_secs: Some(30),
        });
        assert!(matches!(d, Disposition::Retry { retry_after: Some(a), .. } if a.as_secs() == 30));
        assert_eq!(of_abort(&AbortReason::Busy { limit: 1 }), Disposition::Busy);
        assert!(matches!(
            of_abort(&AbortReason::Deadline { limit_ms: 100 }),
            Disposition::Retry { code, .. } if code == "deadline"
        ));
    }
}
