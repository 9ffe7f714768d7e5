//! `airlock serve`: the long-running host. It delivers the outbox continuously until SIGTERM or
//! Ctrl-C, then lets running deliveries finish (or, past the grace period, gives their claims
//! back to be tried again) and exits.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;
use tokio::sync::watch;

use airlock_host::{DispatchOptions, FOLLOW_EVERY, Host, Round, Until};

use super::Ctx;
use crate::args::ServeArgs;
use crate::print;

/// What a `serve` run did, printed when it stops.
#[derive(Debug, Default, Serialize)]
struct Served {
    node: String,
    claimed: usize,
    delivered: usize,
    retried: usize,
    held: usize,
    dead: usize,
    skipped: usize,
    stale: usize,
    /// Claims of this node's previous run taken back at start.
    rescued: u64,
    seconds: f64,
}

/// `airlock serve`.
pub async fn serve(host: &Arc<Host>, ctx: &Ctx, args: ServeArgs) -> Result<()> {
    let options = DispatchOptions {
        node: args.node.clone(),
        // Both checked by the argument parser (1..=10 000, 1..=1 024).
        batch: args.batch,
        concurrency: args.concurrency as usize,
        lease: Duration::from_secs(args.lease_secs.max(1)),
        merchant_rate: Some(args.merchant_rate).filter(|r| *r > 0),
    };
    let poll = Duration::from_millis(args.poll_ms.clamp(10, 60_000));
    let grace = Duration::from_secs(args.grace_secs);
    let started = Instant::now();
    let mut served = Served {
        node: options.node.clone(),
        ..Served::default()
    };
    served.rescued = host.rescue_claims(&options).await?;
    tracing::info!(node = %options.node, db = %redacted(&ctx.url), rescued = served.rescued,
        "serving: delivering the outbox until SIGTERM");
    let stop = stop_signal();
    let api = listen(host, &args, stop.clone()).await?;
    // Revocations made on other nodes reach this node's running calls while it serves.
    let (done, finished) = watch::channel(false);
    let follow = host.follow_changes(FOLLOW_EVERY, async {
        tokio::select! {
            () = stopped(stop.clone()) => {}
            () = stopped(finished) => {}
        }
    });
    let delivering = async {
        let result = deliver(
            host,
            &args,
            &options,
            poll,
            grace,
            stop.clone(),
            &mut served,
        )
        .await;
        let _ = done.send(true);
        result
    };
    let health = check_health(host, args.health_every_secs, stop.clone(), done.subscribe());
    let prune = prune_hourly(host, &args, stop.clone(), done.subscribe());
    let ((), (), (), result) = tokio::join!(follow, health, prune, delivering);
    if let Some(api) = api {
        // Open requests had the delivery grace period to finish; whatever is left is cut.
        api.abort();
    }
    result?;
    served.seconds = started.elapsed().as_secs_f64();
    tracing::info!(delivered = served.delivered, "stopped");
    print::value(&served, ctx.json, || {
        format!(
            "node {} stopped after {:.1} s: {} delivered, {} retried, {} held for the merchant, \
             {} dead, {} skipped",
            served.node,
            served.seconds,
            served.delivered,
            served.retried,
            served.held,
            served.dead,
            served.skipped
        )
    })
}

/// With `--listen`, start the API and merchant page; the bound address goes to stderr (for a
/// script that asked for port 0) and to the log.
async fn listen(
    host: &Arc<Host>,
    args: &ServeArgs,
    stop: watch::Receiver<bool>,
) -> Result<Option<tokio::task::JoinHandle<()>>> {
    let Some(addr) = args.listen else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("--listen {addr}: cannot listen there"))?;
    let bound = listener.local_addr()?;
    let rate = airlock_api::RateLimit {
        per_second: args.api_rate.max(0.01),
        burst: (args.api_rate * 5.0).clamp(1.0, 100_000.0) as u32,
    };
    let state = airlock_api::ApiState::new(host.clone(), &airlock_api::ApiConfig { rate });
    let router = airlock_api::router(state);
    eprintln!("airlock: API and merchant page on http://{bound}");
    Ok(Some(tokio::spawn(async move {
        if let Err(err) = airlock_api::serve(listener, router, stopped(stop)).await {
            tracing::error!(error = %err, "the API server stopped");
        }
    })))
}

/// Deliver until stopped (or idle, with `--until-idle`); a failed run (the database went
/// away) is logged and started again after a back-off.
async fn deliver(
    host: &Arc<Host>,
    args: &ServeArgs,
    options: &DispatchOptions,
    poll: Duration,
    grace: Duration,
    stop: watch::Receiver<bool>,
    served: &mut Served,
) -> Result<()> {
    let until = if args.until_idle {
        Until::Idle
    } else {
        Until::Stopped { grace }
    };
    let mut failures: u32 = 0;
    loop {
        match host
            .dispatch(options, poll, until, stopped(stop.clone()))
            .await
        {
            Ok(round) => {
                add(served, &round);
                return Ok(());
            }
            Err(err) => {
                failures = failures.saturating_add(1);
                let wait = poll
                    .saturating_mul(2u32.saturating_pow(failures.min(8)))
                    .min(Duration::from_secs(30));
                tracing::error!(error = %err, retry_in_ms = wait.as_millis() as u64, "delivering failed");
                if *stop.borrow() {
                    return Ok(());
                }
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = stopped(stop.clone()) => return Ok(()),
                }
            }
        }
    }
}

/// Every `every_secs`, run every active app's health check (0: never): a quiet connection's
/// health stays current, and holds lift by themselves once the cause is fixed.
async fn check_health(
    host: &Host,
    every_secs: u64,
    stop: watch::Receiver<bool>,
    finished: watch::Receiver<bool>,
) {
    if every_secs == 0 {
        return;
    }
    let every = Duration::from_secs(every_secs);
    // The first sweep one period after start: starting up stays quick.
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = stopped(stop.clone()) => return,
            () = stopped(finished.clone()) => return,
        }
        match host.check_all().await {
            Ok(checked) => {
                tracing::info!(ran = checked.ran, passed = checked.passed, "health checks")
            }
            Err(err) => tracing::warn!(error = %err, "the periodic health checks could not run"),
        }
    }
}

/// Every hour, delete finished deliveries, their events and audit lines past their windows
/// (`--retain-days`, `--audit-retain-days`; 0 keeps them forever).
async fn prune_hourly(
    host: &Host,
    args: &ServeArgs,
    stop: watch::Receiver<bool>,
    finished: watch::Receiver<bool>,
) {
    if args.retain_days == 0 {
        return;
    }
    let day = Duration::from_secs(86_400);
    let keep = day.saturating_mul(u32::try_from(args.retain_days).unwrap_or(u32::MAX));
    let keep_audit =
        day.saturating_mul(u32::try_from(args.audit_retain_days.max(1)).unwrap_or(u32::MAX));
    let hour = Duration::from_secs(3600);
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + hour, hour);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = stopped(stop.clone()) => return,
            () = stopped(finished.clone()) => return,
        }
        if let Err(err) = host.prune(keep, keep_audit).await {
            tracing::warn!(error = %err, "pruning failed");
        }
    }
}

fn add(served: &mut Served, round: &Round) {
    served.claimed += round.claimed;
    served.delivered += round.delivered;
    served.retried += round.retried;
    served.held += round.held;
    served.dead += round.dead;
    served.skipped += round.skipped;
    served.stale += round.stale;
}

/// A flag that turns true on SIGTERM or Ctrl-C (SIGINT).
fn stop_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        let _ = tx.send(true);
        // Keep the sender: a dropped one would read as "changed" forever.
        std::future::pending::<()>().await;
    });
    rx
}

async fn stopped(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(err) => {
            tracing::warn!(error = %err, "SIGTERM cannot be caught; stop with Ctrl-C");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

/// The database URL without a password, for the log.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user_info = &url[scheme + 3..at];
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.split('?').next().unwrap_or(url).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn a_password_in_the_database_url_is_not_logged() {
        assert_eq!(
            redacted("postgres://bob:s3cret@db:5432/x"),
            "postgres://bob@db:5432/x"
        );
        assert_eq!(redacted("postgres://bob@db/x"), "postgres://bob@db/x");
        assert_eq!(redacted("sqlite://a.db?mode=rwc"), "sqlite://a.db");
    }
}
