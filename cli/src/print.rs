//! Text and JSON output of the CLI: everything goes through [`value`], which makes it
//! terminal-safe (publisher and connector text shown visibly escaped) and ends quietly when
//! the reader of stdout has gone (`airlock list | head -1`).

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use airlock_host::text::{is_unsafe_char, terminal_safe};

use crate::demo::DemoReport;
use airlock_host::db::audit::AuditEntry;
use airlock_host::{CallResult, Emitted, Installation, Installed, InvocationReport};

/// How a command ends without an error message of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quiet {
    /// Stdout's reader went away; the work was done, so nothing more to say.
    ClosedStdout,
    /// The output already says what failed (a health check's JSON report); exit non-zero
    /// without a second document.
    Failed,
}

impl std::fmt::Display for Quiet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Quiet::ClosedStdout => "stdout was closed",
            Quiet::Failed => "failed, as the output says",
        })
    }
}

impl std::error::Error for Quiet {}

/// Print `value` as JSON, or the text `human` makes.
pub fn value<T: Serialize>(value: &T, json: bool, human: impl FnOnce() -> String) -> Result<()> {
    let text = if json {
        json_safe(&serde_json::to_string_pretty(value)?)
    } else {
        terminal_safe(&human())
    };
    line(&text)
}

/// Write one line to stdout; a reader that went away ends the command quietly.
pub fn line(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Quiet::ClosedStdout.into()),
        Err(e) => Err(anyhow::Error::new(e).context("writing to stdout")),
    }
}

/// JSON with every character a terminal would obey or hide (bidi overrides, zero-width
/// characters; serde already escapes control characters) written as a `\u` escape: the same
/// data, safe to print.
pub fn json_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c != '\n' && is_unsafe_char(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A health check's report; an error (exit 1) when the check did not pass.
pub fn health(r: &InvocationReport, json: bool) -> Result<()> {
    value(r, json, || report_text(r))?;
    match (&r.result, json) {
        (CallResult::Done { .. }, _) => Ok(()),
        (_, true) => Err(Quiet::Failed.into()),
        (_, false) => Err(anyhow::anyhow!(
            "the health check of {} failed{}",
            r.connector,
            r.cause()
                .map(|c| format!(" ({})", c.code()))
                .unwrap_or_default()
        )),
    }
}

fn scopes(list: &[airlock_host::grants::Scope]) -> String {
    if list.is_empty() {
        "(none)".to_owned()
    } else {
        list.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn installation_text(i: &Installation) -> String {
    format!(
        "{id}  {connector} {version} ({kind}) by {publisher}: {status}\n  digest:    {digest}\n  required:  {req}\n  optional:  {opt}\n  effective: {eff}",
        id = i.id,
        connector = i.connector,
        version = i.version,
        kind = i.kind.as_str(),
        publisher = i.publisher,
        status = i.status,
        digest = i.digest,
        req = scopes(&i.required),
        opt = scopes(&i.optional),
        eff = scopes(&i.effective),
    )
}

/// One installation.
pub fn installation(i: &Installation, json: bool) -> Result<()> {
    value(i, json, || installation_text(i))
}

/// A merchant's installations.
pub fn list(items: &[Installation], json: bool) -> Result<()> {
    value(&items, json, || {
        if items.is_empty() {
            "no connectors installed".to_owned()
        } else {
            items
                .iter()
                .map(installation_text)
                .collect::<Vec<_>>()
                .join("\n")
        }
    })
}

/// An install and its prompt.
pub fn installed(i: &Installed, json: bool) -> Result<()> {
    value(i, json, || {
        format!(
            "installed {} as {} (pending approval)\n\n{}\nApprove with: airlock approve --merchant {} {} --digest {} [--optional scope,...]",
            i.installation.connector,
            i.installation.id,
            i.prompt.render(),
            i.installation.merchant,
            i.installation.id,
            i.installation.digest
        )
    })
}

/// An upgrade, applied or waiting.
pub fn upgraded(u: &airlock_host::Upgraded, json: bool) -> Result<()> {
    value(u, json, || match &u.prompt {
        None => format!(
            "upgraded to {}\n{}",
            u.installation.version,
            installation_text(&u.installation)
        ),
        Some(prompt) => format!(
            "version {} waits; {} keeps serving until the merchant approves:\n\n{}\nApprove with: airlock approve --merchant {} {} --digest {}",
            u.installation.pending_version.as_deref().unwrap_or("?"),
            u.installation.version,
            prompt.render(),
            u.installation.merchant,
            u.installation.id,
            u.digest
        ),
    })
}

/// One invocation, as text.
pub fn report_text(r: &InvocationReport) -> String {
    let mut out = format!(
        "{} <- {} {} ({:.1} ms, {} host calls)\n",
        r.connector,
        r.event
            .as_ref()
            .map_or("health-check", |e| e.topic.as_str()),
        r.event.as_ref().map_or("", |e| e.subject_id.as_str()),
        r.elapsed_ms,
        r.host_calls
    );
    out.push_str(&match &r.result {
        CallResult::Done { acted, summary } => {
            format!(
                "  result: {} - {summary}\n",
                if *acted { "acted" } else { "ignored" }
            )
        }
        CallResult::Failed { error } => format!(
            "  result: FAILED - {}\n",
            serde_json::to_string(error).unwrap_or_default()
        ),
        CallResult::Aborted { reason } => {
            format!("  result: STOPPED BY HOST - {}\n", reason.describe())
        }
    });
    if let Some(fuel) = r.fuel_used {
        out.push_str(&format!(
            "  used: {fuel} instructions, {:.1} MiB of memory at most, {:.1} ms of a worker thread\n",
            r.peak_memory_bytes as f64 / (1024.0 * 1024.0),
            r.busy_ms
        ));
    }
    access_lines(r, &mut out);
    outbound_lines(r, &mut out);
    if let Some(cause) = r.cause() {
        out.push_str(&format!(
            "  cause: {} (check: {})\n",
            cause.code(),
            cause.what_to_check()
        ));
    }
    for line in &r.logs {
        out.push_str(&format!("  log {:?}: {}\n", line.level, line.message));
    }
    for line in &r.stderr {
        out.push_str(&format!("  stderr: {line}\n"));
    }
    out
}

/// One line per kind of outcome of each host operation the call made.
fn access_lines(r: &InvocationReport, out: &mut String) {
    for a in &r.accesses {
        // Calls that need no scope are the app's own storage, its log and its requests.
        let unscoped = if a.operation.starts_with("storage.") {
            "own storage"
        } else {
            "no scope needed"
        };
        let scope = a.scope.map(|s| s.as_str()).unwrap_or(unscoped);
        if a.allowed > 0 {
            out.push_str(&format!(
                "  allowed  {:<30} {:<24} {} call(s), {} record(s)\n",
                a.operation, scope, a.allowed, a.records
            ));
        }
        if a.not_found > 0 {
            out.push_str(&format!(
                "  missing  {:<30} {:<24} {} call(s): no such record in this store\n",
                a.operation, scope, a.not_found
            ));
        }
        if a.denied > 0 {
            out.push_str(&format!(
                "  REFUSED  {:<30} {:<24} {} call(s): the merchant did not grant {scope}\n",
                a.operation, scope, a.denied
            ));
        }
        if a.failed > 0 {
            out.push_str(&format!(
                "  failed   {:<30} {:<24} {} call(s)\n",
                a.operation, scope, a.failed
            ));
        }
    }
}

/// One line per outbound request: origin and status, never paths, headers or bodies.
fn outbound_lines(r: &InvocationReport, out: &mut String) {
    for call in &r.outbound {
        let what = match (call.refused, call.status, &call.error) {
            (true, _, Some(why)) => format!("REFUSED by host: {why}"),
            (_, Some(status), _) => format!("{status}, {} byte(s)", call.bytes_received),
            (_, None, Some(why)) => format!("failed: {why}"),
            _ => "no answer".to_owned(),
        };
        let cause = call
            .cause
            .as_ref()
            .map(|c| format!(" -> {}", c.code()))
            .unwrap_or_default();
        out.push_str(&format!(
            "  http     {:<6} {:<40} {what}{cause}\n",
            call.method, call.origin
        ));
    }
}

/// The secrets a connector declares, never their values.
pub fn secrets(items: &[airlock_host::SecretStatus], json: bool) -> Result<()> {
    value(&items, json, || {
        if items.is_empty() {
            return "this connector declares no secrets".to_owned();
        }
        items
            .iter()
            .map(|s| {
                let state = match (&s.problem, s.rotated_at) {
                    (Some(problem), _) => format!("CANNOT OPEN: {problem}"),
                    (None, Some(at)) => format!(
                        "set, last rotated at {at} by {}",
                        s.rotated_by.as_deref().unwrap_or("?")
                    ),
                    (None, None) => "NOT SET".to_owned(),
                };
                let mut how = Vec::new();
                if !s.send_to.is_empty() {
                    how.push(format!("attached to {}", s.send_to.join(", ")));
                }
                if s.readable {
                    how.push("readable by the app".to_owned());
                }
                format!(
                    "{:<24} {state}\n    {}; {}",
                    s.name,
                    how.join("; "),
                    s.reason
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// An emitted event and every delivery.
pub fn emitted(e: &Emitted, json: bool) -> Result<()> {
    value(e, json, || {
        if e.deliveries.is_empty() {
            format!(
                "{} {}: no active installation subscribed and granted",
                e.event.topic, e.event.subject_id
            )
        } else {
            e.deliveries
                .iter()
                .map(report_text)
                .collect::<Vec<_>>()
                .join("\n")
        }
    })
}

/// Audit entries.
pub fn audit(entries: &[AuditEntry], json: bool) -> Result<()> {
    value(&entries, json, || {
        entries
            .iter()
            .map(|e| {
                format!(
                    "{} {:<22} {:<10} {:<28} {:<24} {:<9} {:>3}  {}",
                    e.at,
                    e.installation.as_deref().unwrap_or("-"),
                    e.actor,
                    e.action,
                    e.scope.as_deref().unwrap_or("-"),
                    e.outcome,
                    e.records,
                    e.detail
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// The whole demo.
pub fn demo(r: &DemoReport, json: bool) -> Result<()> {
    value(r, json, || {
        let mut out = String::new();
        out.push_str(&format!("Airlock demo on {}\n\n", r.database));
        out.push_str("1. The platform installs the example connector. The merchant sees this prompt,\n   written by Airlock from the manifest's scopes (never by the app):\n\n");
        for line in r.installed.prompt.render().lines() {
            out.push_str(&format!("   {line}\n"));
        }
        out.push_str(&format!(
            "\n2. The merchant approves the required scopes and customers:read-contact,\n   and declines {}.\n   effective grant: {}\n\n",
            scopes(&r.declined),
            scopes(&r.approved.effective)
        ));
        out.push_str("3. A customer places order #1001; order.created is delivered:\n\n");
        out.push_str(&report_text(&r.delivery));
        out.push_str(
            "\n4. A call the connector was not granted is refused, and the connector carries on:\n",
        );
        for a in r.delivery.accesses.iter().filter(|a| a.denied > 0) {
            out.push_str(&format!(
                "   {} needs {} -> denied({}) returned to the plugin {} time(s); no data crossed\n",
                a.operation,
                a.scope.map(|s| s.as_str()).unwrap_or("-"),
                a.scope.map(|s| s.as_str()).unwrap_or("-"),
                a.denied
            ));
        }
        out.push_str("\n5. Asked about another store's order (ord_2001), the host answers exactly as for a\n   missing order; the other store's data never exists for this installation:\n\n");
        out.push_str(&report_text(&r.cross_store));
        let d = &r.retried;
        out.push_str(&format!(
            "\n6. order.created for an order that does not exist (ord_9999) goes through the outbox.\n   \
             The connector fails; the host retries with the same event id ({}) on the plan's\n   \
             schedule (1 s apart for the demo; 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h by default):\n\n   \
             {} {}: {} after {} tries, last cause {}{}\n",
            d.event.id,
            d.id,
            d.installation,
            d.state,
            d.attempts,
            d.last_code.as_deref().unwrap_or("-"),
            d.next_at.map_or(String::new(), |_| "; tried again by `airlock serve`".to_owned()),
        ));
        out.push_str("\n7. What the merchant sees (`airlock health --merchant demo-store`):\n\n");
        out.push_str(&crate::print_health::apps_text(&r.health));
        out.push_str(&format!(
            "\n\nEvery call above is in the audit log: airlock audit --db {} --merchant demo-store\n",
            r.database
        ));
        out
    })
}

/// A secret that was set or rotated (its status, never its value).
pub fn secret_changed(c: &airlock_host::SecretChanged, json: bool) -> Result<()> {
    value(c, json, || {
        format!(
            "secret `{}` of {} {}: sealed with vault key {}; the next call uses the new value",
            c.secret.name,
            c.installation,
            if c.action == "set" { "set" } else { "rotated" },
            c.secret.key_id.as_deref().unwrap_or("?")
        )
    })
}

/// Per-call limits, one line each.
pub fn limits_text(l: &airlock_host::Limits) -> String {
    let fuel = l
        .fuel
        .map_or_else(|| "unlimited".to_owned(), |f| f.to_string());
    format!(
        "deadline          {} ms\ninstructions      {fuel}\nmemory            {} MiB\n\
         table elements    {}\nhost calls        {}\noutbound requests {}\n\
         output            {} KiB\ninput             {} KiB\nconcurrent calls  {}\n\
         log lines         {}\nstorage           {} KiB, {} keys (per installation)",
        l.deadline.as_millis(),
        l.memory_bytes >> 20,
        l.table_elements,
        l.max_host_calls,
        l.max_outbound_requests,
        l.max_output_bytes / 1024,
        l.max_input_bytes / 1024,
        l.max_concurrent,
        l.max_log_lines,
        l.storage_bytes / 1024,
        l.storage_keys
    )
}

#[cfg(test)]
mod tests {
    use airlock_host::ids::InstallationId;
    use airlock_host::{AbortReason, ConnectorFailure, Limits};

    use super::*;

    fn failed(error: ConnectorFailure) -> InvocationReport {
        let mut report = InvocationReport::not_started(
            &InstallationId::new("inst_1"),
            "acme.sync",
            None,
            &Limits::default(),
            AbortReason::Stopped,
        );
        report.result = CallResult::Failed { error };
        report
    }

    #[test]
    fn provider_side_causes_print_their_code_and_what_to_check() {
        let report = failed(ConnectorFailure::PolicyRestricted {
            message: "template not approved".into(),
        });
        let text = report_text(&report);
        assert!(
            text.contains("cause: policy-restricted (check: the provider's policy"),
            "{text}"
        );
        assert!(text.contains("template not approved"), "{text}");
        let json = serde_json::to_value(&report).unwrap_or_default();
        assert_eq!(json["result"]["error"]["cause"], "policy-restricted");
        for (cause, code) in [
            (ConnectorFailure::CredentialsChanged, "credentials-changed"),
            (
                ConnectorFailure::VerificationRequired,
                "verification-required",
            ),
            (ConnectorFailure::BillingIssue, "billing-issue"),
            (ConnectorFailure::PlanExpired, "plan-expired"),
            (
                ConnectorFailure::ProviderApiChanged {
                    message: "v1 retired".into(),
                },
                "provider-api-changed",
            ),
        ] {
            let report = failed(cause);
            assert!(
                report_text(&report).contains(&format!("cause: {code} (check: ")),
                "{code}"
            );
            let json = serde_json::to_value(&report).unwrap_or_default();
            assert_eq!(json["result"]["error"]["cause"], code);
        }
    }
}
