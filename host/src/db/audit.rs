//! The audit log: who did what to which installation, and what each invocation touched.
//! Counts and scopes only; never record contents or secrets.

use serde::Serialize;
use sqlx::Row;

use super::{Db, DbError, now_ms};
use crate::ids::{InstallationId, MerchantId};
use crate::runtime::{CallResult, InvocationReport};

/// One audit line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    /// The merchant.
    pub merchant: String,
    /// The installation, when the line is about one.
    pub installation: Option<String>,
    /// Who: a person or platform id, or `connector` for the app itself.
    pub actor: String,
    /// What, such as `install`, `approve`, `orders.get`, `invoke`.
    pub action: String,
    /// The scope involved, if any.
    pub scope: Option<String>,
    /// `ok`, `denied`, `not-found`, `failed`, or an invocation result.
    pub outcome: String,
    /// Records read or changed.
    pub records: i64,
    /// Short detail, never personal data.
    pub detail: String,
}

impl AuditEntry {
    /// A line about `installation` of `merchant`.
    pub fn new(
        merchant: &MerchantId,
        installation: Option<&InstallationId>,
        actor: &str,
        action: &str,
    ) -> Self {
        AuditEntry {
            at: now_ms(),
            merchant: merchant.to_string(),
            installation: installation.map(ToString::to_string),
            actor: actor.to_owned(),
            action: action.to_owned(),
            scope: None,
            outcome: "ok".to_owned(),
            records: 0,
            detail: String::new(),
        }
    }
}

/// Append entries in one transaction.
pub(crate) async fn append(db: &Db, entries: &[AuditEntry]) -> Result<(), DbError> {
    let mut tx = db.pool.begin().await.map_err(DbError::sql("audit"))?;
    for e in entries {
        sqlx::query(
            "INSERT INTO audit_log (at, merchant_id, installation_id, actor, action, scope, outcome, records, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(e.at)
        .bind(&e.merchant)
        .bind(e.installation.as_deref())
        .bind(&e.actor)
        .bind(&e.action)
        .bind(e.scope.as_deref())
        .bind(&e.outcome)
        .bind(e.records)
        .bind(&e.detail)
        .execute(&mut *tx)
        .await
        .map_err(DbError::sql("audit"))?;
    }
    tx.commit().await.map_err(DbError::sql("audit"))
}

/// The newest `limit` entries of a merchant, oldest first.
pub(crate) async fn recent(
    db: &Db,
    merchant: &MerchantId,
    limit: u32,
) -> Result<Vec<AuditEntry>, DbError> {
    let rows = sqlx::query(
        "SELECT at, merchant_id, installation_id, actor, action, scope, outcome, records, detail \
         FROM audit_log WHERE merchant_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(merchant.as_str())
    .bind(i64::from(limit))
    .fetch_all(&db.pool)
    .await
    .map_err(DbError::sql("read audit"))?;
    let mut entries = rows
        .iter()
        .map(|r| {
            Ok(AuditEntry {
                at: r.try_get("at")?,
                merchant: r.try_get("merchant_id")?,
                installation: r.try_get("installation_id")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                scope: r.try_get("scope")?,
                outcome: r.try_get("outcome")?,
                records: r.try_get("records")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(DbError::sql("read audit"))?;
    entries.reverse();
    Ok(entries)
}

/// One audit line per host function the invocation used, and one for how it ended.
pub(crate) fn invocation_lines(
    merchant: &MerchantId,
    installation: &InstallationId,
    report: &InvocationReport,
) -> Vec<AuditEntry> {
    let mut lines: Vec<AuditEntry> = Vec::new();
    for access in &report.accesses {
        let outcomes = [
            ("ok", access.allowed),
            ("denied", access.denied),
            ("not-found", access.not_found),
            ("failed", access.failed),
        ];
        for (outcome, count) in outcomes.into_iter().filter(|(_, n)| *n > 0) {
            let mut e =
                AuditEntry::new(merchant, Some(installation), "connector", access.operation);
            e.scope = access.scope.map(|s| s.to_string());
            e.outcome = outcome.to_owned();
            e.records = if outcome == "ok" {
                access.records as i64
            } else {
                0
            };
            e.detail = format!("{count} call(s) for {}", report.call_id());
            lines.push(e);
        }
    }
    // Origins and statuses only: paths and queries can carry customer data, headers keys.
    for call in &report.outbound {
        let mut e = AuditEntry::new(merchant, Some(installation), "connector", "http");
        e.outcome = match (call.refused, call.status) {
            (true, _) => "refused".to_owned(),
            (false, Some(status)) => status.to_string(),
            (false, None) => "failed".to_owned(),
        };
        e.records = call.bytes_received as i64;
        e.detail = format!("{} {}", call.method, call.origin);
        if let Some(error) = &call.error {
            e.detail.push_str(&format!(": {error}"));
        }
        if let Some(cause) = &call.cause {
            e.detail.push_str(&format!(" ({})", cause.code()));
        }
        lines.push(e);
    }
    let mut end = AuditEntry::new(merchant, Some(installation), "host", "invoke");
    end.outcome = match &report.result {
        CallResult::Done { .. } => "done".to_owned(),
        CallResult::Failed { .. } => match report.cause() {
            Some(cause) => format!("failed: {}", cause.code()),
            None => "failed".to_owned(),
        },
        CallResult::Aborted { .. } => "aborted".to_owned(),
    };
    if report.event.is_none() {
        end.action = "health-check".to_owned();
    }
    end.detail = format!(
        "{} {} {:.1} ms",
        report
            .event
            .as_ref()
            .map_or("health-check", |e| e.topic.as_str()),
        report.call_id(),
        report.elapsed_ms
    );
    if let Some(fuel) = report.fuel_used {
        end.detail.push_str(&format!(", {fuel} instructions"));
    }
    if let CallResult::Aborted { reason } = &report.result {
        end.outcome = format!("aborted: {}", reason.code());
        end.detail
            .push_str(&format!("; stopped: {}", reason.describe()));
    }
    lines.push(end);
    lines
}
