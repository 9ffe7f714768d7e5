//! Each connection's health for its merchant: the host gathers what it knows (status, a hold
//! on its deliveries, its recent tries from the audit log, its oldest undelivered event, the
//! plan's slots, required scopes it lost) and [`crate::health::assess`] turns that into a
//! state, a cause and the checklist for its kind. Apps removed lately are listed as
//! disconnected. `airlock serve` also runs every active app's health check periodically
//! ([`Host::check_all`]), so a quiet connection's health is not stale.

use serde::Serialize;

use crate::db::health::{self as queries, Try};
use crate::db::{outbox, registry};
use crate::error::Error;
use crate::health::{Attempt, Health, HealthInputs, HealthState, RECENT_WINDOW, assess};
use crate::ids::MerchantId;
use crate::manifest::ConnectorKind;
use crate::prompt::Language;
use crate::report::CallResult;
use crate::status::InstallationStatus;

use super::Host;

/// How far back removed apps are shown as disconnected, in milliseconds (30 days).
const REMOVED_WINDOW_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// One connection's health, as `airlock health` and the merchant page show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppHealth {
    /// The installation id.
    pub installation: String,
    /// The connector id.
    pub connector: String,
    /// The connector's kind (its checklist), when known.
    pub kind: Option<ConnectorKind>,
    /// The installation's status; `None` for an app removed lately.
    pub status: Option<InstallationStatus>,
    /// Events waiting for it (queued or running).
    pub waiting_since: Option<i64>,
    /// The state, cause and checklists.
    pub health: Health,
}

/// What one sweep of periodic health checks found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// Checks run.
    pub ran: usize,
    /// Checks that passed.
    pub passed: usize,
}

impl Host {
    /// The health of every connection of `merchant`, and of the apps it removed in the last
    /// 30 days, in `lang`.
    pub async fn health(
        &self,
        merchant: &MerchantId,
        lang: Language,
    ) -> Result<Vec<AppHealth>, Error> {
        let Some(plan) = registry::plan_of(&self.db, merchant).await? else {
            return Err(Error::UnknownMerchant(merchant.clone()));
        };
        let rows = registry::installations(&self.db, merchant).await?;
        let over_limit = i64::try_from(rows.len()).unwrap_or(i64::MAX) > plan.app_slots;
        let mut apps = Vec::with_capacity(rows.len());
        for row in &rows {
            apps.push(self.app_health(row, over_limit, lang).await?);
        }
        let since = self.clock.now_ms().saturating_sub(REMOVED_WINDOW_MS);
        for (installation, _at, detail) in queries::removed_since(&self.db, merchant, since).await?
        {
            let connector = detail.split(' ').next().unwrap_or_default().to_owned();
            let kind = removed_kind(&detail);
            let inputs = HealthInputs {
                installed: false,
                ..HealthInputs::new(InstallationStatus::Disabled)
            };
            apps.push(AppHealth {
                installation,
                connector,
                kind,
                status: None,
                waiting_since: None,
                health: assess(&inputs, kind.unwrap_or(ConnectorKind::Analytics), lang),
            });
        }
        Ok(apps)
    }

    /// The merchant's store plan and its connected-app slots: `(plan name, slots, used)`,
    /// where every installation, pending or disabled too, takes a slot until uninstalled.
    pub async fn plan_slots(&self, merchant: &MerchantId) -> Result<(String, i64, i64), Error> {
        let Some(plan) = registry::plan_of(&self.db, merchant).await? else {
            return Err(Error::UnknownMerchant(merchant.clone()));
        };
        let used = registry::installations(&self.db, merchant).await?.len();
        Ok((
            plan.name,
            plan.app_slots,
            i64::try_from(used).unwrap_or(i64::MAX),
        ))
    }

    /// Every merchant's id (for a platform-wide health view).
    pub async fn merchants(&self) -> Result<Vec<MerchantId>, Error> {
        Ok(queries::merchants(&self.db).await?)
    }

    /// The health of one connection (installation id or connector id).
    pub async fn health_of(
        &self,
        merchant: &MerchantId,
        key: &str,
        lang: Language,
    ) -> Result<AppHealth, Error> {
        let row = self.row(merchant, key).await?;
        let plan = registry::plan_of(&self.db, merchant).await?;
        let installed = registry::installations(&self.db, merchant).await?.len();
        let over_limit =
            plan.is_some_and(|p| i64::try_from(installed).unwrap_or(i64::MAX) > p.app_slots);
        self.app_health(&row, over_limit, lang).await
    }

    async fn app_health(
        &self,
        row: &registry::InstallationRow,
        over_limit: bool,
        lang: Language,
    ) -> Result<AppHealth, Error> {
        let manifest = self.manifest_of(row).await?;
        let grant = self.grant(&manifest, row);
        let missing_scopes = if row.status == InstallationStatus::Active {
            manifest
                .required()
                .iter()
                .filter(|scope| !grant.allows(*scope))
                .map(|scope| scope.as_str().to_owned())
                .collect()
        } else {
            Vec::new()
        };
        let held = outbox::hold_of(&self.db, &row.id)
            .await?
            .map(|hold| (hold.cause, hold.detail));
        let recent = queries::recent_tries(&self.db, &row.id, RECENT_WINDOW as u32)
            .await?
            .iter()
            .filter_map(attempt)
            .collect();
        let waiting_since = queries::oldest_undelivered(&self.db, &row.id).await?;
        let now = self.clock.now_ms();
        let inputs = HealthInputs {
            status: row.status,
            installed: true,
            over_app_limit: over_limit,
            held,
            recent,
            oldest_undelivered_age_ms: waiting_since.map(|at| now.saturating_sub(at)),
            sync_delay_threshold_ms: self.sync_delay_ms,
            missing_scopes,
        };
        let mut health = assess(&inputs, manifest.kind, lang);
        // A failing or degraded connection's detail is the newest failure's code; its words
        // (the connector's message, or the host's) say more, when a delivery kept them.
        if matches!(health.state, HealthState::Failing | HealthState::Degraded)
            && let Some(code) = health.detail.clone()
            && let Some((last, words)) = queries::last_failure(&self.db, &row.id).await?
            && last == code
            && !words.is_empty()
        {
            health.detail = Some(format!("{code}: {words}"));
        }
        Ok(AppHealth {
            installation: row.id.to_string(),
            connector: row.connector_id.clone(),
            kind: Some(manifest.kind),
            status: Some(row.status),
            waiting_since,
            health,
        })
    }

    /// Run the health check of every active app of every merchant, one after another: how a
    /// quiet connection's health stays current, and how a hold lifts by itself once the
    /// merchant fixed the cause at the provider.
    pub async fn check_all(&self) -> Result<Checked, Error> {
        let mut checked = Checked::default();
        for (merchant, id) in queries::active_installations(&self.db).await? {
            match self.health_check(&merchant, id.as_str()).await {
                Ok(report) => {
                    checked.ran += 1;
                    if matches!(report.result, CallResult::Done { .. }) {
                        checked.passed += 1;
                    }
                }
                // Disabled or removed meanwhile: nothing to check.
                Err(Error::NotActive { .. } | Error::NotInstalled { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(checked)
    }
}

/// A try from its audit end line; a call the host never started (busy) is not a try.
fn attempt(t: &Try) -> Option<Attempt> {
    let outcome = t.outcome.as_str();
    if outcome == "done" {
        return Some(Attempt {
            ok: true,
            code: None,
            at_ms: t.at,
        });
    }
    let code = outcome
        .strip_prefix("failed: ")
        .or_else(|| outcome.strip_prefix("aborted: "))
        .map(str::to_owned);
    if matches!(code.as_deref(), Some("busy" | "merchant-busy")) {
        return None;
    }
    Some(Attempt {
        ok: false,
        code,
        at_ms: t.at,
    })
}

/// The kind an uninstall line recorded: `CONNECTOR DIGEST (KIND); ...`.
fn removed_kind(detail: &str) -> Option<ConnectorKind> {
    let open = detail.find('(')?;
    let close = open + detail[open..].find(')')?;
    let kind = &detail[open + 1..close];
    ConnectorKind::ALL.into_iter().find(|k| k.as_str() == kind)
}
