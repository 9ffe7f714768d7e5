//! Building each app's data-access report from the audit log: current apps and apps removed
//! within the window (what they accessed before removal still answers a data request).

use std::time::Duration;

use super::Host;
use crate::data_access::{AppAccess, DataAccessReport, MAX_WINDOW, UnusedScope, origin_of_detail};
use crate::db::data_access::{AccessSum, sums};
use crate::db::health as queries;
use crate::error::Error;
use crate::grants::Scope;
use crate::ids::{InstallationId, MerchantId};
use crate::views::Installation;

impl Host {
    /// What `merchant`'s apps (or the one app `app`, by installation or connector id, installed
    /// or removed within the window) accessed over the last `window` (at most
    /// [`MAX_WINDOW`]).
    pub async fn data_access(
        &self,
        merchant: &MerchantId,
        app: Option<&str>,
        window: Duration,
    ) -> Result<DataAccessReport, Error> {
        let until = self.clock.now_ms();
        let window_ms = i64::try_from(window.min(MAX_WINDOW).as_millis()).unwrap_or(i64::MAX);
        let since = until.saturating_sub(window_ms);
        let matches = |id: &str, connector: &str| app.is_none_or(|a| a == id || a == connector);
        let mut apps = Vec::new();
        for installed in self.list(merchant).await? {
            if matches(installed.id.as_str(), &installed.connector) {
                apps.push(self.app_access(&installed, since).await?);
            }
        }
        for (id, _at, detail) in queries::removed_since(&self.db, merchant, since).await? {
            let connector = detail.split(' ').next().unwrap_or_default();
            // A connector removed and installed again is listed once per installation.
            if matches(&id, connector) && !apps.iter().any(|a| a.installation == id) {
                let mut access = AppAccess::new(&id, connector, connector, false);
                let installation = InstallationId::new(id.clone());
                add_sums(&mut access, &sums(&self.db, &installation, since).await?);
                access.sort();
                apps.push(access);
            }
        }
        if let (Some(key), true) = (app, apps.is_empty()) {
            // The host's own "not installed" error, naming what was asked for.
            self.row(merchant, key).await?;
        }
        Ok(DataAccessReport {
            merchant: merchant.to_string(),
            since_ms: since,
            until_ms: until,
            apps,
        })
    }

    async fn app_access(&self, app: &Installation, since: i64) -> Result<AppAccess, Error> {
        let mut access = AppAccess::new(app.id.as_str(), &app.connector, &app.name, true);
        let found = sums(&self.db, &app.id, since).await?;
        add_sums(&mut access, &found);
        for scope in &app.effective {
            let used = found
                .iter()
                .any(|s| s.scope.as_deref() == Some(scope.as_str()) && s.outcome != "denied");
            if used {
                continue;
            }
            let approved = app
                .approved
                .iter()
                .filter(|a| a.scope == *scope)
                .map(|a| a.at)
                .max()
                .unwrap_or(since);
            access.unused.push(UnusedScope {
                scope: scope.as_str().to_owned(),
                since_ms: approved.max(since),
                required: app.required.contains(scope),
            });
        }
        access.sort();
        Ok(access)
    }
}

/// Fold an app's audit sums into its report entry.
fn add_sums(access: &mut AppAccess, found: &[AccessSum]) {
    for sum in found {
        let lines = u64::try_from(sum.lines).unwrap_or(0);
        let records = u64::try_from(sum.records).unwrap_or(0);
        match (sum.action.as_str(), sum.outcome.as_str()) {
            ("http", outcome) => {
                let refused = if outcome == "refused" { lines } else { 0 };
                access.add_requests(origin_of_detail(&sum.detail), lines, refused);
            }
            (super::audit::KEY_ACTION, _) => access.add_key(&sum.detail, records),
            (_, "denied") => access.denied_calls += lines,
            (_, "ok") => {
                if let Some(scope) = sum.scope.as_deref().and_then(|s| s.parse::<Scope>().ok()) {
                    access.add_records(scope, records);
                }
            }
            _ => {}
        }
    }
}
