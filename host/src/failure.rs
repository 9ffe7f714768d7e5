//! The failure causes a connector reports, as merchants need to see them: pure data shared by
//! the per-call accounting (a provider's answer points to a cause), the runtime and the report.

use serde::Serialize;

use crate::grants::Scope;

/// The failure causes a connector reports, as merchants need to see them. Each says where the
/// merchant looks to fix it; [`ConnectorFailure::code`] is its stable name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "cause", rename_all = "kebab-case")]
pub enum ConnectorFailure {
    /// The provider session or token expired: the merchant reconnects the app to the provider.
    AuthExpired,
    /// The provider rejected the key: the merchant checks the key set in the app against the
    /// one in the provider account, and its rights there.
    InvalidCredentials,
    /// The credentials stopped working after a change at the provider (password reset, user
    /// removed, key revoked): the merchant sets the new key or reconnects.
    CredentialsChanged,
    /// A scope the merchant has not granted: the merchant approves it, or accepts what the app
    /// does without it.
    PermissionMissing {
        /// The scope.
        scope: Scope,
    },
    /// The provider account's verification (KYC, business or phone number) is not complete:
    /// the merchant finishes it in the provider's dashboard.
    VerificationRequired,
    /// The provider refused under one of its policies (a blocked category, a template or
    /// consent rule, a compliance hold): the merchant reads the provider's reason and
    /// contacts the provider.
    PolicyRestricted {
        /// The provider's words, as the connector passed them (sanitised).
        message: String,
    },
    /// The provider account's billing failed (unpaid invoice, low balance): the merchant pays
    /// or tops up at the provider.
    BillingIssue,
    /// The provider plan or subscription expired: the merchant renews it at the provider.
    PlanExpired,
    /// A provider usage limit or quota was reached: the merchant checks the plan's limits at
    /// the provider, or waits for the quota to reset.
    UsageLimit,
    /// The provider is down or answering with server errors: the merchant checks the
    /// provider's status page and waits.
    ProviderUnavailable,
    /// The provider changed or retired the API the connector uses: nothing for the merchant
    /// to fix but to ask the publisher for an update.
    ProviderApiChanged {
        /// What changed (connector's words, sanitised).
        message: String,
    },
    /// The provider is rate limiting: the merchant waits (this long, when known).
    RateLimited {
        /// Seconds to wait, if known.
        retry_after_secs: Option<u32>,
    },
    /// The app is configured wrongly: the merchant fixes the app's settings as the text says.
    Config {
        /// What to fix (connector's words, sanitised).
        message: String,
    },
    /// The network between the host and the provider failed: the merchant retries later.
    Network {
        /// Detail (connector's words, sanitised).
        message: String,
    },
    /// Anything else: the merchant reads the text, and contacts the publisher if it persists.
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
            ConnectorFailure::CredentialsChanged => "credentials-changed",
            ConnectorFailure::PermissionMissing { .. } => "permission-missing",
            ConnectorFailure::VerificationRequired => "verification-required",
            ConnectorFailure::PolicyRestricted { .. } => "policy-restricted",
            ConnectorFailure::BillingIssue => "billing-issue",
            ConnectorFailure::PlanExpired => "plan-expired",
            ConnectorFailure::UsageLimit => "usage-limit",
            ConnectorFailure::ProviderUnavailable => "provider-unavailable",
            ConnectorFailure::ProviderApiChanged { .. } => "provider-api-changed",
            ConnectorFailure::RateLimited { .. } => "rate-limited",
            ConnectorFailure::Config { .. } => "config",
            ConnectorFailure::Network { .. } => "network",
            ConnectorFailure::Other { .. } => "other",
        }
    }

    /// What the merchant checks, in a few words (English; the code is the stable part).
    pub fn what_to_check(&self) -> &'static str {
        match self {
            ConnectorFailure::AuthExpired => "reconnect the app to the provider",
            ConnectorFailure::InvalidCredentials => {
                "the key set in the app and its rights at the provider"
            }
            ConnectorFailure::CredentialsChanged => {
                "set the new key or reconnect: the provider account changed"
            }
            ConnectorFailure::PermissionMissing { .. } => "the scopes approved for the app",
            ConnectorFailure::VerificationRequired => {
                "finish the account verification at the provider"
            }
            ConnectorFailure::PolicyRestricted { .. } => {
                "the provider's policy named in the message"
            }
            ConnectorFailure::BillingIssue => "the billing of the provider account",
            ConnectorFailure::PlanExpired => "renew the plan at the provider",
            ConnectorFailure::UsageLimit => "the usage limits of the provider plan",
            ConnectorFailure::ProviderUnavailable => "the provider's status; retry later",
            ConnectorFailure::ProviderApiChanged { .. } => "ask the publisher for an updated app",
            ConnectorFailure::RateLimited { .. } => "wait, then retry",
            ConnectorFailure::Config { .. } => "the app's settings named in the message",
            ConnectorFailure::Network { .. } => "retry later",
            ConnectorFailure::Other { .. } => "the message; contact the publisher if it persists",
        }
    }

    /// The same cause with its free text (the connector's words) passed through `clean`.
    pub(crate) fn map_text(self, clean: impl Fn(String) -> String) -> ConnectorFailure {
        match self {
            ConnectorFailure::PolicyRestricted { message } => ConnectorFailure::PolicyRestricted {
                message: clean(message),
            },
            ConnectorFailure::ProviderApiChanged { message } => {
                ConnectorFailure::ProviderApiChanged {
                    message: clean(message),
                }
            }
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
        }
    }
}

impl From<airlock_contract::ProviderCause> for ConnectorFailure {
    fn from(cause: airlock_contract::ProviderCause) -> Self {
        use airlock_contract::ProviderCause as P;
        match cause {
            P::AuthExpired => ConnectorFailure::AuthExpired,
            P::InvalidCredentials => ConnectorFailure::InvalidCredentials,
            P::UsageLimit => ConnectorFailure::UsageLimit,
            P::RateLimited { retry_after_secs } => {
                ConnectorFailure::RateLimited { retry_after_secs }
            }
            P::ProviderUnavailable => ConnectorFailure::ProviderUnavailable,
            P::ProviderApiChanged => ConnectorFailure::ProviderApiChanged {
                message: "the provider answered 410 Gone: it retired this endpoint".into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_cause() -> Vec<ConnectorFailure> {
        let text = || "x".to_owned();
        vec![
            ConnectorFailure::AuthExpired,
            ConnectorFailure::InvalidCredentials,
            ConnectorFailure::CredentialsChanged,
            ConnectorFailure::PermissionMissing {
                scope: Scope::OrdersRead,
            },
            ConnectorFailure::VerificationRequired,
            ConnectorFailure::PolicyRestricted { message: text() },
            ConnectorFailure::BillingIssue,
            ConnectorFailure::PlanExpired,
            ConnectorFailure::UsageLimit,
            ConnectorFailure::ProviderUnavailable,
            ConnectorFailure::ProviderApiChanged { message: text() },
            ConnectorFailure::RateLimited {
                retry_after_secs: None,
            },
            ConnectorFailure::Config { message: text() },
            ConnectorFailure::Network { message: text() },
            ConnectorFailure::Other { message: text() },
        ]
    }

    #[test]
    fn every_code_is_what_json_shows_and_is_unique() {
        let mut seen = std::collections::HashSet::new();
        for cause in every_cause() {
            let json = serde_json::to_value(&cause).unwrap();
            assert_eq!(json["cause"], cause.code(), "{cause:?}");
            assert!(seen.insert(cause.code()), "{} twice", cause.code());
            assert!(!cause.what_to_check().is_empty());
        }
        assert_eq!(seen.len(), 15);
    }

    #[test]
    fn free_text_of_every_cause_that_has_some_is_cleaned() {
        for cause in every_cause() {
            let cleaned = cause.clone().map_text(|_| "clean".into());
            let json = serde_json::to_value(&cleaned).unwrap();
            if let Some(message) = json.get("message") {
                assert_eq!(message, "clean", "{}", cause.code());
            }
        }
    }
}
