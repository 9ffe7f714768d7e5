//! [`InstallationStatus`]: where an installation stands (pending, active, disabled). Plain data
//! with no dependency on the rest of the crate, so the database layer and the views share it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where an installation stands. The database, `--json` output and messages spell it in
/// lowercase (`pending`, `active`, `disabled`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InstallationStatus {
    /// Installed, awaiting the merchant's approval (again, after a revoke of every scope).
    Pending,
    /// Approved: receives events and runs.
    Active,
    /// Paused by the merchant or platform, grants kept; `enable` resumes it.
    Disabled,
}

impl InstallationStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [InstallationStatus; 3] = [
        InstallationStatus::Pending,
        InstallationStatus::Active,
        InstallationStatus::Disabled,
    ];

    /// The status as the database and the CLI spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            InstallationStatus::Pending => "pending",
            InstallationStatus::Active => "active",
            InstallationStatus::Disabled => "disabled",
        }
    }
}

impl fmt::Display for InstallationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status string this host does not know (a row edited by hand, or written by a newer host).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an installation status (pending, active or disabled)")]
pub struct UnknownStatus(pub String);

impl FromStr for InstallationStatus {
    type Err = UnknownStatus;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        InstallationStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| UnknownStatus(text.chars().take(64).collect()))
    }
}

/// Compares with the wire spelling, so `assert_eq!(view.status, "active")` keeps working.
impl PartialEq<&str> for InstallationStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Compares with the wire spelling.
impl PartialEq<str> for InstallationStatus {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_spelling_and_json() {
        for status in InstallationStatus::ALL {
            assert_eq!(status.as_str().parse::<InstallationStatus>(), Ok(status));
            assert_eq!(status.to_string(), status.as_str());
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(
                serde_json::from_str::<InstallationStatus>(&json).unwrap(),
                status
            );
        }
        assert_eq!(InstallationStatus::Active, "active");
    }

    #[test]
    fn an_unknown_status_is_an_error_that_names_it() {
        let err = "archived".parse::<InstallationStatus>().unwrap_err();
        assert_eq!(err, UnknownStatus("archived".into()));
        assert!(err.to_string().contains("`archived`"), "{err}");
        assert!("Active".parse::<InstallationStatus>().is_err());
    }
}
