//! The arguments of the service's commands: `airlock serve`, `airlock deliveries ...`,
//! `airlock health`.

use clap::{Args, Subcommand};

/// `airlock serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// This node's name. Its claims carry it, and a restarted node with the same name takes
    /// back its unfinished deliveries at once instead of when their leases run out: give
    /// each node sharing a PostgreSQL database its own.
    #[arg(long, env = "AIRLOCK_NODE", default_value = "local")]
    pub node: String,
    /// Deliveries claimed per round (a claim is made when fewer than half a batch are left
    /// to start).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch: u32,
    /// Calls run at once on this node (each app also at most its own `max_concurrent`).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1_024))]
    pub concurrency: u32,
    /// Deliveries a second one merchant may start on this node, so one merchant's flood
    /// leaves the others room (its events wait in the outbox); 0: no limit.
    #[arg(long, default_value_t = airlock_host::DEFAULT_MERCHANT_RATE,
          value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub merchant_rate: u32,
    /// How long a claim is held before another node may take the delivery over, in seconds
    /// (longer than any call's deadline).
    #[arg(long, default_value_t = 60)]
    pub lease_secs: u64,
    /// How often to look for work written by other processes or come due, in milliseconds.
    #[arg(long, default_value_t = 200)]
    pub poll_ms: u64,
    /// How often every active app's health check runs, in seconds (0: never).
    #[arg(long, default_value_t = 300)]
    pub health_every_secs: u64,
    /// Keep finished deliveries and their events this many days (pruned hourly; 0: forever).
    #[arg(long, default_value_t = 30)]
    pub retain_days: u64,
    /// Keep audit lines this many days (pruned hourly with the deliveries).
    #[arg(long, default_value_t = 365)]
    pub audit_retain_days: u64,
    /// On SIGTERM or Ctrl-C, how long running deliveries may take to finish before they are
    /// released to be tried again, in seconds.
    #[arg(long, default_value_t = 30)]
    pub grace_secs: u64,
    /// Stop when nothing is due (for scripts and cron): deliver what is due now, then exit.
    #[arg(long)]
    pub until_idle: bool,
    /// Serve the platform API and the merchant page on this address (such as
    /// `127.0.0.1:8080`; port 0 picks a free one, printed on start). Without it, `serve` only
    /// delivers.
    #[arg(long, env = "AIRLOCK_LISTEN")]
    pub listen: Option<std::net::SocketAddr>,
    /// Requests each API token may make per second, on average (bursts of 5× allowed).
    #[arg(long, default_value_t = 20.0)]
    pub api_rate: f64,
}

/// `airlock health`.
#[derive(Args)]
pub struct HealthArgs {
    /// Only this merchant's connections (default: every merchant's).
    #[arg(long)]
    pub merchant: Option<String>,
    /// Only this connection (installation id or connector id; needs `--merchant`).
    pub installation: Option<String>,
}

/// `airlock prune`.
#[derive(Args)]
pub struct PruneArgs {
    /// Delete deliveries finished (delivered, skipped, dead) more than this long ago, and
    /// their events: `30d`, `12h`.
    #[arg(long, default_value = "30d")]
    pub older_than: String,
    /// Delete audit lines older than this.
    #[arg(long, default_value = "365d")]
    pub audit_older_than: String,
}

/// `airlock deliveries ...`.
#[derive(Subcommand)]
pub enum DeliveriesCommand {
    /// A merchant's deliveries, newest first.
    List(DeliveryListArgs),
    /// One delivery.
    Show(DeliveryShowArgs),
    /// Queue finished deliveries again with the same event id: one (`ID`), an installation's
    /// (`--installation`), or every one since a time (`--since`); dead ones by default.
    Replay(DeliveryReplayArgs),
    /// Let an installation's held deliveries go again once its cause is fixed.
    Resume(DeliveryResumeArgs),
    /// Show or set a plan's retry schedule.
    Schedule(ScheduleArgs),
}

/// Which deliveries: the filters `list` and `replay` share.
#[derive(Args)]
pub struct DeliveryFilterArgs {
    /// The merchant.
    #[arg(long)]
    pub merchant: String,
    /// Only this installation's (installation id or connector id).
    #[arg(long)]
    pub installation: Option<String>,
    /// Only events since: a duration back (`30m`, `2h`, `7d`) or milliseconds since the epoch.
    #[arg(long, value_name = "AGO|MS")]
    pub since: Option<String>,
    /// Only this event's.
    #[arg(long)]
    pub event: Option<String>,
}

/// `airlock deliveries list`.
#[derive(Args)]
pub struct DeliveryListArgs {
    #[command(flatten)]
    pub filter: DeliveryFilterArgs,
    /// Only in this state: queued, running, delivered, dead or skipped.
    #[arg(long)]
    pub state: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

/// `airlock deliveries show`.
#[derive(Args)]
pub struct DeliveryShowArgs {
    /// The merchant.
    #[arg(long)]
    pub merchant: String,
    /// The delivery id (`dlv_...`).
    pub id: String,
}

/// `airlock deliveries replay`.
#[derive(Args)]
pub struct DeliveryReplayArgs {
    #[command(flatten)]
    pub filter: DeliveryFilterArgs,
    /// One delivery, by id.
    pub id: Option<String>,
    /// Replay delivered and skipped deliveries too, not only dead ones.
    #[arg(long)]
    pub all: bool,
}

/// `airlock deliveries resume`.
#[derive(Args)]
pub struct DeliveryResumeArgs {
    /// The merchant.
    #[arg(long)]
    pub merchant: String,
    /// Installation id or connector id.
    pub installation: String,
}

/// `airlock deliveries schedule`.
#[derive(Args)]
pub struct ScheduleArgs {
    /// The plan.
    #[arg(long)]
    pub plan: String,
    /// Seconds between tries, comma separated (`5,300,1800`), `standard` (Svix's: 5 s to
    /// 10 h, seven retries), `shopify` (eight retries over four hours) or `default` (the
    /// host's). Without it, only show the plan's merchants' schedule.
    pub schedule: Option<String>,
}
