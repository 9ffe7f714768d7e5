//! `airlock limits show` and `airlock limits set`: per-call limits of an installation, and a
//! plan's or a connector's overrides.

use anyhow::{Result, bail};

use airlock_host::ids::MerchantId;
use airlock_host::{Host, LimitOverrides};

use super::Ctx;
use crate::args::{LimitsSetArgs, TargetArgs};
use crate::print;

/// `airlock limits show`: what an installation's calls run under.
pub async fn show(host: &Host, ctx: &Ctx, args: TargetArgs) -> Result<()> {
    let merchant = MerchantId::new(args.merchant);
    let limits = host.limits_for(&merchant, &args.installation).await?;
    print::value(&limits, ctx.json, || print::limits_text(&limits))
}

/// `airlock limits set`: override (or, with no field given, clear) a plan's or a connector's.
pub async fn set(host: &Host, ctx: &Ctx, args: LimitsSetArgs) -> Result<()> {
    let overrides = overrides(&args);
    let target = match (&args.plan, &args.connector) {
        (Some(plan), _) => {
            host.set_plan_limits(plan, &overrides, &args.by).await?;
            format!("plan `{plan}`")
        }
        (None, Some(connector)) => {
            let Some(publisher) = &args.publisher else {
                bail!(
                    "--connector needs --publisher: overrides belong to one publisher's connector"
                );
            };
            host.set_connector_limits(publisher, connector, &overrides, &args.by)
                .await?;
            format!("connector `{connector}` of `{publisher}`")
        }
        (None, None) => bail!("give --plan or --connector"),
    };
    print::value(
        &serde_json::json!({ "target": target, "overrides": overrides }),
        ctx.json,
        || {
            if overrides.is_empty() {
                format!("{target}: overrides cleared; host defaults apply")
            } else {
                format!(
                    "{target}: {}",
                    serde_json::to_string(&overrides).unwrap_or_default()
                )
            }
        },
    )
}

/// The flags in the host's units (bytes, not MiB or KiB).
fn overrides(args: &LimitsSetArgs) -> LimitOverrides {
    LimitOverrides {
        deadline_ms: args.deadline_ms,
        fuel: args.fuel,
        memory_bytes: args.memory_mib.map(|m| m.saturating_mul(1 << 20)),
        table_elements: args.table_elements,
        max_host_calls: args.host_calls,
        max_outbound_requests: args.outbound,
        max_output_bytes: args.output_kib.map(|k| k.saturating_mul(1024)),
        max_input_bytes: args.input_kib.map(|k| k.saturating_mul(1024)),
        max_concurrent: args.concurrent,
        storage_bytes: args.storage_kib.map(|k| k.saturating_mul(1024)),
        storage_keys: args.storage_keys,
    }
}
