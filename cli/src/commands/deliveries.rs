//! `airlock deliveries ...`: what the outbox holds for a merchant, replays, held
//! installations and retry schedules; `airlock health`: what that means for each connection.

use std::time::Duration;

use anyhow::{Context, Result, bail};

use airlock_host::Host;
use airlock_host::ids::MerchantId;
use airlock_host::outbox::{Clock, DeliveryFilter, DeliveryState, RetrySchedule, SystemClock};

use super::Ctx;
use crate::args::{
    DeliveriesCommand, DeliveryFilterArgs, DeliveryListArgs, DeliveryReplayArgs,
    DeliveryResumeArgs, DeliveryShowArgs, HealthArgs, PruneArgs, ScheduleArgs,
};
use crate::print_outbox;

/// One function per `deliveries` verb.
pub async fn run(host: &Host, ctx: &Ctx, action: DeliveriesCommand) -> Result<()> {
    match action {
        DeliveriesCommand::List(args) => list(host, ctx, args).await,
        DeliveriesCommand::Show(args) => show(host, ctx, args).await,
        DeliveriesCommand::Replay(args) => replay(host, ctx, args).await,
        DeliveriesCommand::Resume(args) => resume(host, ctx, args).await,
        DeliveriesCommand::Schedule(args) => schedule(host, ctx, args).await,
    }
}

async fn list(host: &Host, ctx: &Ctx, args: DeliveryListArgs) -> Result<()> {
    let (merchant, mut filter) = filter(host, &args.filter).await?;
    filter.state = args
        .state
        .as_deref()
        .map(str::parse::<DeliveryState>)
        .transpose()
        .context("--state")?;
    let found = host
        .deliveries(&merchant, &filter, args.limit.clamp(1, 10_000))
        .await?;
    print_outbox::deliveries(&found, ctx.json)
}

async fn show(host: &Host, ctx: &Ctx, args: DeliveryShowArgs) -> Result<()> {
    let merchant = MerchantId::new(args.merchant);
    let delivery = host.delivery(&merchant, &args.id).await?;
    let hold = host
        .delivery_hold(&merchant, delivery.installation.as_str())
        .await
        .ok()
        .flatten();
    print_outbox::delivery(&delivery, hold.as_ref(), ctx.json)
}

async fn replay(host: &Host, ctx: &Ctx, args: DeliveryReplayArgs) -> Result<()> {
    let (merchant, mut filter) = filter(host, &args.filter).await?;
    if args.id.is_none()
        && args.filter.installation.is_none()
        && args.filter.since.is_none()
        && args.filter.event.is_none()
    {
        bail!(
            "say which deliveries to replay: a delivery id, `--installation APP`, `--event ID` \
             or `--since 2h` (with `--all` to include delivered ones)"
        );
    }
    if !args.all {
        filter.state = Some(DeliveryState::Dead);
    }
    let queued = host.replay(&merchant, &filter, args.id.as_deref()).await?;
    print_outbox::replayed(queued, ctx.json)
}

async fn resume(host: &Host, ctx: &Ctx, args: DeliveryResumeArgs) -> Result<()> {
    let merchant = MerchantId::new(args.merchant);
    let was_held = host
        .resume_deliveries(&merchant, &args.installation)
        .await?;
    print_outbox::resumed(&args.installation, was_held, ctx.json)
}

async fn schedule(host: &Host, ctx: &Ctx, args: ScheduleArgs) -> Result<()> {
    let Some(text) = args.schedule.as_deref() else {
        bail!(
            "give the schedule to set for plan `{}`: seconds such as `5,300,1800`, `standard`, \
             `shopify` or `default`",
            args.plan
        );
    };
    let schedule = match text {
        "default" => None,
        "standard" => Some(RetrySchedule::standard()),
        "shopify" => Some(RetrySchedule::shopify()),
        seconds => Some(seconds.parse::<RetrySchedule>().context("the schedule")?),
    };
    host.set_plan_retry_schedule(&args.plan, schedule.as_ref())
        .await?;
    print_outbox::schedule(&args.plan, schedule.as_ref(), ctx.json)
}

/// `airlock health`: one merchant's connections (or one of them), or every merchant's.
pub async fn health(host: &Host, ctx: &Ctx, args: HealthArgs) -> Result<()> {
    let merchants = match (&args.merchant, &args.installation) {
        (Some(merchant), Some(key)) => {
            let merchant = MerchantId::new(merchant.clone());
            let app = host.health_of(&merchant, key, ctx.lang).await?;
            return crate::print_health::apps(&[(merchant, vec![app])], ctx.json);
        }
        (None, Some(_)) => bail!("name the merchant of that connection with `--merchant`"),
        (Some(merchant), None) => vec![MerchantId::new(merchant.clone())],
        (None, None) => host.merchants().await?,
    };
    let mut all = Vec::with_capacity(merchants.len());
    for merchant in merchants {
        let apps = host.health(&merchant, ctx.lang).await?;
        all.push((merchant, apps));
    }
    crate::print_health::apps(&all, ctx.json)
}

/// The merchant and filter the shared arguments name (the installation resolved to its id).
async fn filter(host: &Host, args: &DeliveryFilterArgs) -> Result<(MerchantId, DeliveryFilter)> {
    let merchant = MerchantId::new(args.merchant.clone());
    let installation = match &args.installation {
        Some(key) => Some(host.installation(&merchant, key).await?.id),
        None => None,
    };
    let since = args
        .since
        .as_deref()
        .map(|text| since_ms(text, SystemClock.now_ms()))
        .transpose()
        .context("--since")?;
    Ok((
        merchant,
        DeliveryFilter {
            installation,
            state: None,
            since,
            event: args.event.clone(),
        },
    ))
}

/// `airlock prune`.
pub async fn prune(host: &Host, ctx: &Ctx, args: PruneArgs) -> Result<()> {
    let keep = duration(&args.older_than).context("--older-than")?;
    let keep_audit = duration(&args.audit_older_than).context("--audit-older-than")?;
    let pruned = host.prune(keep, keep_audit).await?;
    crate::print::value(&pruned, ctx.json, || {
        format!(
            "deleted {} finished deliveries, {} events and {} audit lines",
            pruned.deliveries, pruned.events, pruned.audit_lines
        )
    })
}

/// `30m`, `2h`, `7d`, `45s` back from `now`, or milliseconds since the epoch.
fn since_ms(text: &str, now: i64) -> Result<i64> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    let back = i64::try_from(duration(text)?.as_millis()).unwrap_or(i64::MAX);
    Ok(now.saturating_sub(back))
}

/// `30m`, `2h`, `7d`, `45s`.
pub(super) fn duration(text: &str) -> Result<Duration> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let amount: u64 = number
        .parse()
        .map_err(|_| anyhow::anyhow!("`{text}` is not a duration such as `30m`, `2h`, `7d` (or, for `--since`, milliseconds since the epoch)"))?;
    let secs = match unit {
        "s" => amount,
        "m" => amount.saturating_mul(60),
        "h" => amount.saturating_mul(3600),
        "d" => amount.saturating_mul(86_400),
        _ => bail!("`{text}`: the unit is s, m, h or d (such as `30m`, `2h`, `7d`)"),
    };
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::since_ms;

    #[test]
    fn since_takes_a_duration_back_or_epoch_milliseconds() {
        assert_eq!(since_ms("2h", 10_000_000).unwrap(), 10_000_000 - 7_200_000);
        assert_eq!(since_ms("30m", 2_000_000).unwrap(), 200_000);
        assert_eq!(since_ms("1700000000000", 0).unwrap(), 1_700_000_000_000);
        let err = since_ms("2w", 0).unwrap_err().to_string();
        assert!(err.contains("s, m, h or d"), "{err}");
        let err = since_ms("soon", 0).unwrap_err().to_string();
        assert!(err.contains("30m"), "{err}");
    }
}
