//! The command line: clap definitions only, one struct per subcommand's arguments.

mod author;
mod decline;
mod deliver;
mod report;
mod tokens;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use author::{Kind, NewArgs, PackArgs, WitArgs};
pub use decline::DeclineArgs;
pub use deliver::{
    DeliveriesCommand, DeliveryFilterArgs, DeliveryListArgs, DeliveryReplayArgs,
    DeliveryResumeArgs, DeliveryShowArgs, HealthArgs, PruneArgs, ScheduleArgs, ServeArgs,
};
pub use report::{ReportArgs, ReportFormat};
pub use tokens::{TokenCreateArgs, TokenIdArgs, TokenListArgs, TokensCommand};

/// Airlock: run third-party commerce connectors as sandboxed WebAssembly components.
#[derive(Parser)]
#[command(name = "airlock", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// The options every subcommand takes.
#[derive(Args)]
pub struct Global {
    /// Database: `sqlite://path.db` (created if missing) or `postgres://user@host/db`.
    #[arg(long, global = true, env = "AIRLOCK_DB")]
    pub db: Option<String>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Refuse connectors without a valid signature by a registered publisher key.
    #[arg(long, global = true, env = "AIRLOCK_REQUIRE_SIGNED")]
    pub require_signed: bool,
    /// Language of capability prompts: en, hi (हिंदी) or as (অসমীয়া). For `airlock new`: the
    /// connector's language, rust, js or python.
    #[arg(long, global = true, default_value = "en")]
    pub lang: String,
    /// File with the vault key that seals connectors' secrets (64 hex characters; create it
    /// with `airlock secrets keygen`). `AIRLOCK_VAULT_KEY` may hold the key itself instead.
    #[arg(long, global = true, env = "AIRLOCK_VAULT_KEY_FILE")]
    pub vault_key_file: Option<PathBuf>,
    /// Let one connector reach one loopback or private address and port (repeatable), e.g.
    /// `acme.sync=10.0.0.5:8443`; by default connectors reach public addresses only.
    #[arg(
        long = "allow-private-ip",
        global = true,
        value_name = "CONNECTOR=IP:PORT"
    )]
    pub allow_private_ip: Vec<String>,
    /// Resolve HOST:PORT to ADDR instead of using DNS, like curl's --resolve (repeatable),
    /// e.g. `api.paygate.example:443:10.0.0.5:8443`.
    #[arg(long, global = true, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,
    /// Where compiled connectors are kept between commands, so a command loads them instead
    /// of compiling (0700, at most 2 GiB). Default: `<file>.compiled` next to a SQLite
    /// database, `$XDG_CACHE_HOME/airlock/compiled` (or `~/.cache/...`) for PostgreSQL;
    /// `off` keeps them in memory only.
    #[arg(
        long,
        global = true,
        env = "AIRLOCK_COMPILE_CACHE",
        value_name = "DIR|off"
    )]
    pub compile_cache: Option<PathBuf>,
    /// Log format on stderr: human-readable text, or one JSON object per line. The level comes
    /// from `AIRLOCK_LOG` (e.g. `info`, `airlock_host=debug`; default `warn`).
    #[arg(
        long,
        global = true,
        env = "AIRLOCK_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,
}

/// How log events are written to stderr.
// The variants carry plain comments: doc comments would turn every command's `--help` into
// clap's long form, listing each possible value on its own.
#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormat {
    // Human-readable lines.
    Text,
    // One JSON object per line, for log collectors.
    Json,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Fresh demo store on SQLite: install, prompt, approve, an order event, a refused call.
    Demo,
    /// Create the database and seed the demo store (merchants `demo-store`, `other-store`).
    Init,
    /// Validate a connector `.wasm` and install it for a merchant, pending approval.
    Install(InstallArgs),
    /// Approve what waits (named by `--digest`): all required scopes plus the optional ones named.
    Approve(ApproveArgs),
    /// Decline what waits (named by `--digest`): a waiting upgrade is dropped and the running
    /// version keeps working; a pending install is removed.
    Decline(DeclineArgs),
    /// Print the prompt of what waits for approval: the waiting upgrade (only what it adds),
    /// else the installed version; with the digest `approve --digest` names.
    Prompt(TargetArgs),
    /// List a merchant's installations with their effective grants.
    List(MerchantArgs),
    /// Show one installation.
    Show(TargetArgs),
    /// Write a platform event to the outbox for every subscribed, granted installation;
    /// `--wait` delivers it now and shows what each did.
    Emit(EmitArgs),
    /// Run the host as a service: deliver the outbox with retries until SIGTERM.
    Serve(ServeArgs),
    /// Delete finished deliveries, their events and audit lines older than a window.
    Prune(PruneArgs),
    /// Each connection's health: state, cause, and what the merchant checks first.
    Health(HealthArgs),
    /// The outbox: list, show and replay deliveries; resume held ones; retry schedules.
    Deliveries {
        #[command(subcommand)]
        action: DeliveriesCommand,
    },
    /// Offer a newer version: same or fewer scopes apply at once; more wait for `approve`.
    Upgrade(UpgradeArgs),
    /// Withdraw one optional scope (`--scope`), or every approval of the app.
    Revoke(RevokeArgs),
    /// Pause an active app, keeping its grants (for a provider outage, say).
    Disable(DisableArgs),
    /// Resume a disabled app with the grants it had.
    Enable(EnableArgs),
    /// Remove an app: frees its slot, interrupts running calls, deletes its grants and storage.
    Uninstall(UninstallArgs),
    /// Publisher signing keys: generate a key pair, or register a publisher's public key.
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
    /// Sign a connector artifact with a publisher's secret key (from `keys generate`).
    Sign(SignArgs),
    /// An installation's secrets (API keys): set, rotate, list; and the vault key.
    Secrets {
        #[command(subcommand)]
        action: SecretsCommand,
    },
    /// Run an installation's health check (can it reach its provider with its settings?).
    Check(TargetArgs),
    /// Per-call limits: show an installation's, or override them for a plan or a connector.
    Limits {
        #[command(subcommand)]
        action: LimitsCommand,
    },
    /// Bearer tokens for the HTTP API: platform-wide or one merchant's; create, list, rotate,
    /// revoke.
    Tokens {
        #[command(subcommand)]
        action: TokensCommand,
    },
    /// Show the newest audit entries of a merchant.
    Audit(AuditArgs),
    /// What each app accessed over a window: records per scope, origins, keys, unused scopes
    /// (`--format csv|json` for a merchant's data request).
    Report(ReportArgs),
    /// Start a connector project (`--lang rust|js|python --kind KIND`) from the templates.
    New(NewArgs),
    /// Write the WIT world a manifest allows, for JavaScript and Python builds.
    Wit(WitArgs),
    /// Check a component's imports against a manifest, then attach the manifest to it.
    Pack(PackArgs),
    /// For connector authors: run a connector on fixture data, no database needed.
    Dev {
        #[command(subcommand)]
        action: DevCommand,
    },
}

/// `airlock dev ...`.
#[derive(Subcommand)]
pub enum DevCommand {
    /// Run one event through a connector against the demo store's data in memory: what it
    /// did, the scopes and origins it really used against what it declares, the least
    /// manifest for that, and its instructions and memory against the limits. Exits 1 when
    /// the connector failed, was stopped or was denied a call.
    Run(DevRunArgs),
}

/// `airlock dev run`.
#[derive(Args)]
pub struct DevRunArgs {
    /// The connector component (`.wasm`), its manifest built in or given with `--manifest`.
    pub connector: PathBuf,
    /// The event: a JSON file `{"topic", "subject_id", "id"?, "occurred_at"?}`, or
    /// TOPIC:ID such as `order.created:ord_1001`.
    #[arg(long, value_name = "FILE|TOPIC:ID")]
    pub event: String,
    /// Grant an optional scope, as a merchant approving it (repeatable or comma separated).
    /// The required scopes are granted anyway; `none` grants nothing, not even those.
    #[arg(long, value_name = "SCOPE", value_delimiter = ',')]
    pub grant: Vec<String>,
    /// Run under this manifest (`airlock.toml`): for a component without one yet, or to try
    /// an edited manifest before rebuilding.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// Send outbound requests, under the usual network policy (`--allow-private-ip`,
    /// `--resolve`); without it every request is checked, then refused before connecting.
    #[arg(long)]
    pub allow_network: bool,
    /// A secret's value for this run (repeatable; test keys only: a command line is visible
    /// to other users). The environment variable `AIRLOCK_DEV_SECRET_<NAME>` works too.
    #[arg(long, value_name = "NAME=VALUE")]
    pub secret: Vec<String>,
}

/// A merchant.
#[derive(Args)]
pub struct MerchantArgs {
    /// The merchant.
    #[arg(long)]
    pub merchant: String,
}

/// One installation of a merchant.
#[derive(Args)]
pub struct TargetArgs {
    /// The merchant.
    #[arg(long)]
    pub merchant: String,
    /// Installation id or connector id.
    pub installation: String,
}

/// `airlock install`.
#[derive(Args)]
pub struct InstallArgs {
    /// The merchant.
    #[arg(long)]
    pub merchant: String,
    /// The component built for wasm32-wasip2.
    pub artifact: PathBuf,
    /// Who is installing (recorded in the audit log).
    #[arg(long, default_value = "platform")]
    pub actor: String,
}

/// `airlock approve`.
#[derive(Args)]
pub struct ApproveArgs {
    /// The merchant.
    #[arg(long)]
    pub merchant: String,
    /// Installation id or connector id.
    pub installation: String,
    /// Optional scopes to grant, comma separated (e.g. `customers:read-contact`).
    #[arg(long, value_delimiter = ',')]
    pub optional: Vec<String>,
    /// The digest of the version the merchant saw and approves (`sha256:...`, as `install`,
    /// `upgrade` and `prompt` print it); refused when another version waits by then.
    #[arg(long)]
    pub digest: Option<String>,
    /// Who approves (recorded with each grant).
    #[arg(long, default_value = "merchant")]
    pub by: String,
}

/// `airlock emit`.
#[derive(Args)]
pub struct EmitArgs {
    /// The merchant.
    #[arg(long)]
    pub merchant: String,
    /// Topic, such as `order.created`.
    pub topic: String,
    /// The record it is about, such as `ord_1001`.
    pub subject: String,
    /// Deliver it now in this process (one try each) and show what each installation did;
    /// without it the event is queued for `airlock serve`.
    #[arg(long)]
    pub wait: bool,
}

/// `airlock upgrade`.
#[derive(Args)]
pub struct UpgradeArgs {
    /// The merchant.
    #[arg(long)]
    pub merchant: String,
    /// Installation id or connector id.
    pub installation: String,
    /// The new component.
    pub artifact: PathBuf,
    /// Who upgrades (recorded in the audit log).
    #[arg(long, default_value = "platform")]
    pub actor: String,
}

/// `airlock revoke`.
#[derive(Args)]
pub struct RevokeArgs {
    /// The merchant.
    #[arg(long)]
    pub merchant: String,
    /// Installation id or connector id.
    pub installation: String,
    /// The optional scope to withdraw; without it, the whole app's approval is withdrawn.
    #[arg(long)]
    pub scope: Option<String>,
    /// Who revokes (recorded in the audit log).
    #[arg(long, default_value = "merchant")]
    pub by: String,
}

/// `airlock disable`.
#[derive(Args)]
pub struct DisableArgs {
    /// The merchant.
    #[arg(long)]
    pub merchant: String,
    /// Installation id or connector id.
    pub installation: String,
    /// Who disables it.
    #[arg(long, default_value = "merchant")]
    pub by: String,
}

/// `airlock enable`.
#[derive(Args)]
pub struct EnableArgs {
    /// The merchant.
    #[arg(long)]
    pub merchant: String,
    /// Installation id or connector id.
    pub installation: String,
    /// Who enables it.
    #[arg(long, default_value = "merchant")]
    pub by: String,
}

/// `airlock uninstall`.
#[derive(Args)]
pub struct UninstallArgs {
    /// The merchant.
    #[arg(long)]
    pub merchant: String,
    /// Installation id or connector id.
    pub installation: String,
    /// Who removes it.
    #[arg(long, default_value = "merchant")]
    pub by: String,
}

/// `airlock sign`.
#[derive(Args)]
pub struct SignArgs {
    /// File holding the secret key as hex.
    #[arg(long)]
    pub key: PathBuf,
    /// The component to sign.
    pub artifact: PathBuf,
    /// Where to write the signed component.
    #[arg(long)]
    pub out: PathBuf,
}

/// `airlock audit`.
#[derive(Args)]
pub struct AuditArgs {
    /// The merchant.
    #[arg(long)]
    pub merchant: String,
    /// How many entries.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

/// `airlock secrets ...`.
#[derive(Subcommand)]
pub enum SecretsCommand {
    /// Create a vault key file (mode 0600, never overwritten).
    Keygen(OutArgs),
    /// Set a secret the connector declares, for the first time. The value is read from stdin
    /// (or `--from-env VAR`), never from the command line.
    Set(SecretValue),
    /// Replace a secret's value (after rotating the key at the provider).
    Rotate(SecretValue),
    /// The secrets a connector declares: set or not, when last rotated. Never values.
    List(TargetArgs),
}

/// Where to write a new key file.
#[derive(Args)]
pub struct OutArgs {
    /// Where to write it.
    #[arg(long)]
    pub out: PathBuf,
}

/// Which secret to write, and where its value comes from.
#[derive(Args)]
pub struct SecretValue {
    /// The merchant.
    #[arg(long)]
    pub merchant: String,
    /// Installation id or connector id.
    pub installation: String,
    /// The secret's name, as the manifest declares it.
    pub name: String,
    /// Read the value from this environment variable instead of stdin.
    #[arg(long, value_name = "VAR")]
    pub from_env: Option<String>,
    /// Who writes it (recorded in the audit log, without the value).
    #[arg(long, default_value = "merchant")]
    pub by: String,
}

/// `airlock limits ...`.
#[derive(Subcommand)]
pub enum LimitsCommand {
    /// The limits an installation's calls run under (host defaults, plan, connector).
    Show(TargetArgs),
    /// Override limits for every merchant on a plan, or for one connector everywhere (the
    /// connector's win). Fields not given keep the default; none given clears the override.
    Set(LimitsSetArgs),
}

/// `airlock limits set`.
#[derive(Args)]
pub struct LimitsSetArgs {
    /// The plan to change.
    #[arg(
        long,
        conflicts_with = "connector",
        required_unless_present = "connector"
    )]
    pub plan: Option<String>,
    /// The connector id to change (with `--publisher`).
    #[arg(long, requires = "publisher")]
    pub connector: Option<String>,
    /// The publisher whose connector it is, exactly as its manifest names it: another
    /// publisher's manifest with the same id gets none of these overrides.
    #[arg(long, requires = "connector")]
    pub publisher: Option<String>,
    /// Wall-clock deadline per call, in milliseconds.
    #[arg(long)]
    pub deadline_ms: Option<u64>,
    /// Instructions per call.
    #[arg(long)]
    pub fuel: Option<u64>,
    /// Linear memory per call, in MiB (at most the host's cap).
    #[arg(long)]
    pub memory_mib: Option<usize>,
    /// Table elements per call (at most the host's cap).
    #[arg(long)]
    pub table_elements: Option<usize>,
    /// Host calls per call.
    #[arg(long)]
    pub host_calls: Option<u32>,
    /// Outbound HTTP requests per call.
    #[arg(long)]
    pub outbound: Option<u32>,
    /// Output (summary, logs, storage writes) per call, in KiB.
    #[arg(long)]
    pub output_kib: Option<u64>,
    /// Input (event, storage values, secrets, response bodies) per call, in KiB.
    #[arg(long)]
    pub input_kib: Option<u64>,
    /// Invocations of one installation at once.
    #[arg(long)]
    pub concurrent: Option<u32>,
    /// Storage one installation may keep (keys plus values, over all its calls), in KiB.
    #[arg(long)]
    pub storage_kib: Option<u64>,
    /// Keys one installation may keep in its storage.
    #[arg(long)]
    pub storage_keys: Option<u64>,
    /// Who changes them (recorded in the audit log).
    #[arg(long, default_value = "platform")]
    pub by: String,
}

/// `airlock keys ...`.
#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create a publisher key pair: the secret goes to `--out` (mode 0600), the public key is printed.
    Generate(GenerateArgs),
    /// Trust a publisher's public key for artifacts whose manifest names that publisher.
    Add(AddKeyArgs),
}

/// `airlock keys generate`.
#[derive(Args)]
pub struct GenerateArgs {
    /// Where to write the secret key; an existing file is never overwritten.
    #[arg(long)]
    pub out: PathBuf,
}

/// `airlock keys add`.
#[derive(Args)]
pub struct AddKeyArgs {
    /// The publisher, exactly as its manifests name it.
    #[arg(long)]
    pub publisher: String,
    /// The public key, 64 hex characters.
    pub public_key: String,
    /// Who registers it.
    #[arg(long, default_value = "platform")]
    pub by: String,
}
