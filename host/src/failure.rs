//! The failure causes a connector reports, as merchants need to see them: pure data shared by
//! the per-call accounting (a provider's answer points to a cause), the runtime and the report.

use serde::Serialize;

use crate::grants::Scope;

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

    /// The same cause with its free text (the connector's words) passed through `clean`.
    pub(crate) fn map_text(self, clean: impl Fn(String) -> String) -> ConnectorFailure {
        match self {
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
        }
    }
}
