//! `airlock report`: what each app accessed over a window, as text, CSV or JSON.

use std::time::Duration;

use anyhow::Result;

use airlock_host::Host;
use airlock_host::data_access::{AppAccess, DataAccessReport};
use airlock_host::ids::MerchantId;

use super::Ctx;
use crate::args::{ReportArgs, ReportFormat};
use crate::print;

/// Print the data-access report.
pub async fn report(host: &Host, ctx: &Ctx, args: ReportArgs) -> Result<()> {
    let merchant = MerchantId::new(args.merchant);
    let window = Duration::from_secs(u64::from(args.days) * 86_400);
    let report = host
        .data_access(&merchant, args.app.as_deref(), window)
        .await?;
    match (args.format, ctx.json) {
        (ReportFormat::Csv, _) => {
            print!("{}", report.to_csv());
            Ok(())
        }
        (ReportFormat::Json, _) | (_, true) => print::value(&report, true, String::new),
        (ReportFormat::Text, false) => print::value(&report, false, || text(&report, args.days)),
    }
}

fn text(report: &DataAccessReport, days: u32) -> String {
    if report.apps.is_empty() {
        return format!(
            "no apps of {} in the last {days} days; `airlock list --merchant {}` shows what is installed",
            report.merchant, report.merchant
        );
    }
    let mut out = vec![format!(
        "what {}'s apps accessed in the last {days} days",
        report.merchant
    )];
    for app in &report.apps {
        out.push(String::new());
        out.extend(app_lines(app));
    }
    out.join("\n")
}

fn app_lines(app: &AppAccess) -> Vec<String> {
    let removed = if app.installed { "" } else { " (removed)" };
    let mut out = vec![format!("{} — {}{removed}", app.name, app.installation)];
    if app.reads.is_empty() && app.writes.is_empty() {
        out.push("  read and changed no store data".to_owned());
    }
    for r in &app.reads {
        out.push(format!(
            "  read    {:>8} record(s) under {}",
            r.records, r.scope
        ));
    }
    for w in &app.writes {
        out.push(format!(
            "  changed {:>8} record(s) under {}",
            w.records, w.scope
        ));
    }
    if app.denied_calls > 0 {
        out.push(format!(
            "  refused {:>8} call(s) for data it was not granted",
            app.denied_calls
        ));
    }
    for o in &app.origins {
        let refused = match o.refused {
            0 => String::new(),
            n => format!(" ({n} refused by the host)"),
        };
        out.push(format!(
            "  called  {:>8} time(s) {}{refused}",
            o.requests, o.origin
        ));
    }
    for k in &app.keys {
        out.push(format!("  opened  {:>8} time(s) key {}", k.uses, k.name));
    }
    for u in &app.unused {
        let fix = if u.required {
            format!(
                "required by the app: `airlock uninstall {}` if it is not needed",
                app.installation
            )
        } else {
            format!("`airlock revoke {} --scope {}`", app.installation, u.scope)
        };
        out.push(format!(
            "  UNUSED  {} — granted but not used; {fix}",
            u.scope
        ));
    }
    out
}
