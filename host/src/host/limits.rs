//! Per-call limits: the host's defaults, overridden per plan and then per connector. The
//! overrides are stored as JSON text; this module (de)serialises them, the database layer
//! only stores them.

use crate::db::audit::{self, AuditEntry};
use crate::db::registry::InstallationRow;
use crate::db::{self, DbError};
use crate::error::Error;
use crate::ids::MerchantId;
use crate::limits::{LimitOverrides, Limits};

use super::Host;

impl Host {
    /// The limits every invocation runs under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Override the per-call limits for every merchant on `plan`; an empty set clears them.
    pub async fn set_plan_limits(
        &self,
        plan: &str,
        overrides: &LimitOverrides,
        by: &str,
    ) -> Result<(), Error> {
        let stored = stored(overrides)?;
        if !db::limits::set_plan(&self.db, plan, stored.as_deref()).await? {
            return Err(Error::UnknownPlan(plan.chars().take(64).collect()));
        }
        self.audit_limits("limits.plan", plan, overrides, by).await
    }

    /// Override the per-call limits of `publisher`'s connector `connector` wherever it is
    /// installed (over the plan's). A manifest of another publisher that uses the same id
    /// gets none of them.
    pub async fn set_connector_limits(
        &self,
        publisher: &str,
        connector: &str,
        overrides: &LimitOverrides,
        by: &str,
    ) -> Result<(), Error> {
        let stored = stored(overrides)?;
        db::limits::set_connector(&self.db, publisher, connector, stored.as_deref(), by).await?;
        let target = format!("{connector} of {publisher:?}");
        self.audit_limits("limits.connector", &target, overrides, by)
            .await
    }

    /// A platform-level audit line (merchant `-`) for a change of limits.
    async fn audit_limits(
        &self,
        action: &str,
        target: &str,
        overrides: &LimitOverrides,
        by: &str,
    ) -> Result<(), Error> {
        let mut entry = AuditEntry::new(&MerchantId::new("-"), None, by, action);
        entry.detail = format!(
            "{target}: {}",
            serde_json::to_string(overrides).unwrap_or_default()
        );
        Ok(audit::append(&self.db, &[entry]).await?)
    }

    /// The limits an installation's calls run under: the host's, then its merchant's plan's,
    /// then its connector's.
    pub async fn limits_for(&self, merchant: &MerchantId, key: &str) -> Result<Limits, Error> {
        let row = self.row(merchant, key).await?;
        self.effective_limits(&row).await
    }

    pub(super) async fn effective_limits(&self, row: &InstallationRow) -> Result<Limits, Error> {
        // The batch read of `known.rs`, for one: gone meanwhile, it does not run.
        let mut read = db::batch::limit_overrides(&self.db, std::slice::from_ref(&row.id)).await?;
        let (plan, connector) = read.remove(&row.id).ok_or_else(|| Error::NotInstalled {
            merchant: row.merchant.clone(),
            key: row.id.to_string(),
        })?;
        self.limits_from(row, plan, connector)
    }

    /// The host's limits under `row`'s stored plan and connector overrides.
    pub(super) fn limits_from(
        &self,
        row: &InstallationRow,
        plan: Option<String>,
        connector: Option<String>,
    ) -> Result<Limits, Error> {
        let plan = parse(plan, &format!("the plan of {}", row.merchant))?;
        let connector = parse(connector, &row.connector_id)?;
        Ok(self.limits.with(&plan).with(&connector))
    }
}

/// The JSON to store for `overrides`: none for an empty set, which clears them.
fn stored(overrides: &LimitOverrides) -> Result<Option<String>, DbError> {
    if overrides.is_empty() {
        return Ok(None);
    }
    serde_json::to_string(overrides)
        .map(Some)
        .map_err(|e| DbError::Corrupt(format!("limits: {e}")))
}

/// Stored overrides of `whose` (none stored: no overrides).
fn parse(text: Option<String>, whose: &str) -> Result<LimitOverrides, DbError> {
    match text {
        None => Ok(LimitOverrides::default()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| DbError::Corrupt(format!("limits of {whose}: {e}"))),
    }
}
