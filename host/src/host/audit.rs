//! What an invocation touched, as audit lines: one per host function and outcome, one per
//! outbound request, one for how the call ended. Counts, scopes, origins and statuses only;
//! the database layer stores them as plain [`AuditEntry`] rows.
//!
//! Nothing the connector chose goes into a line as it wrote it: an origin it never declared
//! (a host name can carry a customer's email), a made-up method, or a header or secret name
//! quoted in a refusal are replaced, and every line is capped (`db::audit::append`), so the
//! log holds no customer data and no 64 KiB header names.

use crate::db::audit::{self, AuditEntry};
use crate::error::Error;
use crate::ids::{InstallationId, MerchantId};
use crate::manifest::Origin;
use crate::report::{CallResult, InvocationReport};
use crate::text::sanitize;

/// Longest refusal or failure text of one outbound request kept in its audit line.
const MAX_ERROR_CHARS: usize = 160;
/// Longest stop reason (a trap's description) kept in the end line.
const MAX_REASON_CHARS: usize = 200;

use super::Host;

impl Host {
    /// The newest `limit` audit entries of `merchant`, oldest first.
    pub async fn audit(&self, merchant: &MerchantId, limit: u32) -> Result<Vec<AuditEntry>, Error> {
        Ok(audit::recent(&self.db, merchant, limit).await?)
    }
}

/// One audit line per host function the invocation used, and one for how it ended.
pub(crate) fn invocation_lines(
    merchant: &MerchantId,
    installation: &InstallationId,
    report: &InvocationReport,
    declared: &[Origin],
) -> Vec<AuditEntry> {
    let mut lines = access_lines(merchant, installation, report);
    lines.extend(outbound_lines(merchant, installation, report, declared));
    lines.extend(key_lines(merchant, installation, report));
    lines.push(end_line(merchant, installation, report));
    lines
}

/// Per host function, one line for each outcome it had (ok, denied, not-found, failed).
fn access_lines(
    merchant: &MerchantId,
    installation: &InstallationId,
    report: &InvocationReport,
) -> Vec<AuditEntry> {
    let mut lines = Vec::new();
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
    lines
}

/// One line per outbound request. Declared origins and statuses only: paths and queries can
/// carry customer data, headers keys.
fn outbound_lines(
    merchant: &MerchantId,
    installation: &InstallationId,
    report: &InvocationReport,
    declared: &[Origin],
) -> Vec<AuditEntry> {
    let mut lines = Vec::new();
    for call in &report.outbound {
        let mut e = AuditEntry::new(merchant, Some(installation), "connector", "http");
        e.outcome = match (call.refused, call.status) {
            (true, _) => "refused".to_owned(),
            (false, Some(status)) => status.to_string(),
            (false, None) => "failed".to_owned(),
        };
        e.records = call.bytes_received as i64;
        let origin = match declared.iter().any(|o| o.to_string() == call.origin) {
            true => call.origin.as_str(),
            false => "(an origin it does not declare)",
        };
        e.detail = format!("{} {origin}", method(&call.method));
        if let Some(error) = &call.error {
            e.detail.push_str(&format!(": {}", unquoted(error)));
        }
        if let Some(cause) = &call.cause {
            e.detail.push_str(&format!(" ({})", cause.code()));
        }
        lines.push(e);
    }
    lines
}

/// One line per declared key the call opened: its name (a manifest's declaration, never a
/// value) and how many times, for the merchant's data-access report.
fn key_lines(
    merchant: &MerchantId,
    installation: &InstallationId,
    report: &InvocationReport,
) -> Vec<AuditEntry> {
    report
        .keys_used
        .iter()
        .map(|(name, uses)| {
            let mut e = AuditEntry::new(merchant, Some(installation), "connector", KEY_ACTION);
            e.records = i64::from(*uses);
            e.detail = sanitize(name, 64);
            e
        })
        .collect()
}

/// The action of an audit line recording a key's use.
pub(crate) const KEY_ACTION: &str = "key";

/// How the call ended: done, failed (with the cause's code) or aborted (with the reason).
fn end_line(
    merchant: &MerchantId,
    installation: &InstallationId,
    report: &InvocationReport,
) -> AuditEntry {
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
        let reason = sanitize(&reason.describe(), MAX_REASON_CHARS);
        end.detail.push_str(&format!("; stopped: {reason}"));
    }
    end
}

/// A standard method as it is; any other (a connector can make one up) as `OTHER`.
fn method(method: &str) -> &str {
    const STANDARD: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT",
    ];
    STANDARD
        .into_iter()
        .find(|m| *m == method)
        .unwrap_or("OTHER")
}

/// A refusal's text without what it quotes between backticks (a header or secret name the
/// connector chose), on one line and capped.
fn unquoted(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        out.push_str(if i % 2 == 0 { part } else { "…" });
    }
    sanitize(&out, MAX_ERROR_CHARS)
}

#[cfg(test)]
mod tests {
    use super::{method, unquoted};

    #[test]
    fn connector_chosen_text_is_left_out_of_audit_lines() {
        let name = "x-asha-at-example-in".repeat(3000);
        let refusal = format!("secrets go only in credential headers, not `{name}`");
        let kept = unquoted(&refusal);
        assert_eq!(kept, "secrets go only in credential headers, not …");
        assert!(unquoted(&"y".repeat(70_000)).chars().count() <= 161);
        assert_eq!(method("GET"), "GET");
        assert_eq!(method("EXFILTRATE-ASHA"), "OTHER");
    }
}
