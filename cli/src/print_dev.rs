//! `airlock dev run` as text: what the connector did, what it used against the limits, the
//! scopes and origins it really used against what it declares, each refusal with its fix,
//! the least manifest, and whether the run passed. [`crate::print::value`] makes it
//! terminal-safe.

use airlock_host::dev::{DevReport, ManifestFrom, OriginPlacement, Resources, RunUse, ScopeUse};
use airlock_host::{CallResult, InvocationReport};

/// The whole report.
pub fn text(r: &DevReport) -> String {
    let mut out = String::new();
    header(r, &mut out);
    match &r.run {
        Some(run) => {
            did(run, &mut out);
            if let Some(resources) = &r.resources {
                used(resources, &mut out);
            }
        }
        None => out.push_str(&format!(
            "\nNot delivered: the host delivers `{}` only to a connector granted `{}`.\n",
            r.event.topic,
            r.event
                .topic
                .needs()
                .map_or_else(|| "nothing".to_owned(), |s| s.to_string())
        )),
    }
    scopes(&r.scopes, &mut out);
    origins(r, &mut out);
    denials(r, &mut out);
    least(r, &mut out);
    out.push_str("\nNotes\n");
    for note in &r.notes {
        out.push_str(&format!("  - {note}\n"));
    }
    out.push('\n');
    out.push_str(&verdict(r));
    out
}

fn header(r: &DevReport, out: &mut String) {
    out.push_str(&format!(
        "airlock dev run: {} {} <- {} {} (event id {})\n",
        r.connector, r.version, r.event.topic, r.event.subject_id, r.event.id
    ));
    out.push_str(&format!(
        "  manifest: {}\n",
        match r.manifest_from {
            ManifestFrom::Component => "built into the component",
            ManifestFrom::File => "the file given with --manifest",
        }
    ));
    let granted: Vec<&str> = r.granted.iter().map(|s| s.as_str()).collect();
    out.push_str(&format!(
        "  granted:  {}\n",
        if granted.is_empty() {
            "nothing (--grant none)".to_owned()
        } else {
            granted.join(", ")
        }
    ));
    out.push_str(&format!(
        "  network:  {}\n",
        if r.network {
            "on, under the usual network policy"
        } else {
            "off: requests are checked, then refused before connecting (--allow-network sends them)"
        }
    ));
}

/// The result, host calls, requests, logs and stderr.
fn did(run: &InvocationReport, out: &mut String) {
    out.push_str("\nWhat it did\n");
    out.push_str(&match &run.result {
        CallResult::Done { acted, summary } => format!(
            "  result: Ok, {} - {summary}\n",
            if *acted { "acted" } else { "ignored" }
        ),
        CallResult::Failed { error } => format!(
            "  result: FAILED ({}) - {}\n",
            error.code(),
            serde_json::to_string(error).unwrap_or_default()
        ),
        CallResult::Aborted { reason } => format!(
            "  result: STOPPED BY THE HOST ({}) - {}\n",
            reason.code(),
            reason.describe()
        ),
    });
    for a in &run.accesses {
        let scope = a.scope.map_or("no scope needed", |s| s.as_str());
        let mut parts = Vec::new();
        for (n, what) in [
            (a.allowed, "served"),
            (a.not_found, "not found"),
            (a.denied, "DENIED"),
            (a.failed, "failed"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        out.push_str(&format!(
            "  call     {:<30} {:<24} {}; {} record(s)\n",
            a.operation,
            scope,
            parts.join(", "),
            a.records
        ));
    }
    for o in &run.outbound {
        let what = match (o.status, &o.error) {
            (Some(status), _) => format!("{status}, {} byte(s)", o.bytes_received),
            (None, Some(error)) if o.refused => format!("refused: {error}"),
            (None, Some(error)) => format!("failed: {error}"),
            (None, None) => "no answer".to_owned(),
        };
        out.push_str(&format!(
            "  request  {:<6} {:<40} {what}\n",
            o.method, o.origin
        ));
    }
    for line in &run.logs {
        out.push_str(&format!("  log {:?}: {}\n", line.level, line.message));
    }
    if run.logs_dropped > 0 {
        out.push_str(&format!("  ({} log line(s) dropped)\n", run.logs_dropped));
    }
    for line in &run.stderr {
        out.push_str(&format!("  stderr: {line}\n"));
    }
}

/// `n` with its thousands apart, as the README writes limits: `11 000 000`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn share(used: f64, limit: f64) -> String {
    if limit > 0.0 {
        format!("{:.1}%", used * 100.0 / limit)
    } else {
        "-".to_owned()
    }
}

/// What the call used against its limits.
fn used(r: &Resources, out: &mut String) {
    out.push_str("\nUsed (of the default limits)\n");
    let instructions = match (r.instructions, r.instruction_limit) {
        (Some(used), Some(limit)) => {
            let share = share(used as f64, limit as f64);
            format!("{} of {} ({share})", grouped(used), grouped(limit))
        }
        _ => "not metered".to_owned(),
    };
    let rows = [
        ("instructions", instructions),
        (
            "memory",
            format!(
                "{} peak of {} ({})",
                mib(r.peak_memory_bytes),
                mib(r.memory_limit_bytes),
                share(r.peak_memory_bytes as f64, r.memory_limit_bytes as f64)
            ),
        ),
        (
            "time",
            format!(
                "{:.1} ms of {} ms ({:.1} ms on a worker thread)",
                r.elapsed_ms, r.deadline_ms, r.busy_ms
            ),
        ),
        (
            "host calls",
            format!("{} of {}", r.host_calls, r.host_call_limit),
        ),
        (
            "requests",
            format!("{} of {}", r.outbound_requests, r.outbound_limit),
        ),
        (
            "log lines",
            format!("{} of {}", r.log_lines, r.log_line_limit),
        ),
    ];
    for (what, value) in rows {
        out.push_str(&format!("  {what:<13} {value}\n"));
    }
}

fn run_word(u: &ScopeUse) -> String {
    match u.run {
        RunUse::Used => format!("used ({} call(s))", u.calls),
        RunUse::Denied => format!("DENIED ({} call(s))", u.denied_calls),
        RunUse::Withheld => "withheld".to_owned(),
        RunUse::Unused if u.for_event => "event needs it".to_owned(),
        RunUse::Unused => "not used".to_owned(),
    }
}

/// One line per scope, and why it goes where it goes.
fn scopes(list: &[ScopeUse], out: &mut String) {
    out.push_str("\nScopes: declared, granted, used by this run -> least manifest\n");
    if list.is_empty() {
        out.push_str("  (none declared, none reached by the code)\n");
    }
    for u in list {
        let declared = format!("{:?}", u.declared).to_lowercase();
        let declared = if declared == "no" {
            "undeclared".to_owned()
        } else {
            declared
        };
        out.push_str(&format!(
            "  {:<24} {:<11} {:<12} {:<20} -> {}\n",
            u.scope.as_str(),
            declared,
            if u.granted { "granted" } else { "not granted" },
            run_word(u),
            u.suggestion.as_str()
        ));
        out.push_str(&format!("      {}\n", u.why));
    }
}

/// One line per origin declared or requested.
fn origins(r: &DevReport, out: &mut String) {
    if r.origins.is_empty() {
        return;
    }
    out.push_str("\nOrigins ([[http]]): declared, requested by this run -> least manifest\n");
    for o in &r.origins {
        let verdict = match o.suggestion {
            OriginPlacement::Keep => "keep",
            OriginPlacement::Add => "ADD",
            OriginPlacement::Drop => "drop",
        };
        out.push_str(&format!(
            "  {:<40} {:<11} {} request(s) -> {verdict}\n      {}\n",
            o.origin,
            if o.declared { "declared" } else { "undeclared" },
            o.requests,
            o.why
        ));
    }
}

/// Each refusal with its fix.
fn denials(r: &DevReport, out: &mut String) {
    if r.denials.is_empty() {
        out.push_str("\nDenied: nothing\n");
        return;
    }
    out.push_str("\nDenied\n");
    for d in &r.denials {
        out.push_str(&format!(
            "  {} ({} time(s)): {}\n      fix: {}\n",
            d.call, d.count, d.cause, d.fix
        ));
    }
}

/// The least manifest: what changes, then the whole TOML.
fn least(r: &DevReport, out: &mut String) {
    let least = &r.least_manifest;
    out.push_str(
        "\nLeast manifest for what this run used (one run shows one path: rerun with other \
         events)\n",
    );
    if least.changes.is_empty() {
        out.push_str("  no change: the manifest declares exactly what this run used\n");
    }
    for change in &least.changes {
        out.push_str(&format!("  - {change}\n"));
    }
    if let Some(problem) = &least.invalid {
        out.push_str(&format!(
            "  (this suggestion would not pass the manifest checks: {problem})\n"
        ));
    }
    out.push_str("\n  --- airlock.toml ---\n");
    for line in least.toml.lines() {
        out.push_str(&format!("  {line}\n"));
    }
}

/// The last line: passed, or why not.
fn verdict(r: &DevReport) -> String {
    if r.passed {
        return "PASSED: the connector returned Ok and nothing was denied".to_owned();
    }
    let mut why = Vec::new();
    match r.run.as_ref().map(|run| &run.result) {
        None => why.push("the event was not delivered".to_owned()),
        Some(CallResult::Failed { error }) => {
            why.push(format!("the connector failed ({})", error.code()));
        }
        Some(CallResult::Aborted { reason }) => {
            why.push(format!("the host stopped it ({})", reason.code()));
        }
        Some(CallResult::Done { .. }) => {}
    }
    if !r.denials.is_empty() {
        why.push(format!(
            "{} refusal(s), each above with its fix",
            r.denials.len()
        ));
    }
    format!("FAILED (exit 1): {}", why.join("; "))
}
