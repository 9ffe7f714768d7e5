//! The CLI edge: clap arguments in, a host call, text or `--json` out. `anyhow` lives here only.

mod keys;
mod secrets;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use airlock_host::db::Db;
use airlock_host::db::secrets::SecretWrite;
use airlock_host::grants::Scope;
use airlock_host::ids::MerchantId;
use airlock_host::manifest::Topic;
use airlock_host::outbound::NetworkPolicy;
use airlock_host::prompt::Language;
use airlock_host::vault::VaultKey;
use airlock_host::{Host, LimitOverrides, demo};

use crate::print;

/// Airlock: run third-party commerce connectors as sandboxed WebAssembly components.
#[derive(Parser)]
#[command(name = "airlock", version, about)]
struct Cli {
    /// Database: `sqlite://path.db` (created if missing) or `postgres://user@host/db`.
    #[arg(long, global = true, env = "AIRLOCK_DB")]
    db: Option<String>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Refuse connectors without a valid signature by a registered publisher key.
    #[arg(long, global = true, env = "AIRLOCK_REQUIRE_SIGNED")]
    require_signed: bool,
    /// Language of capability prompts: en, hi (हिंदी) or as (অসমীয়া).
    #[arg(long, global = true, default_value = "en")]
    lang: String,
    /// File with the vault key that seals connectors' secrets (64 hex characters; create it
    /// with `airlock secrets keygen`). `AIRLOCK_VAULT_KEY` may hold the key itself instead.
    #[arg(long, global = true, env = "AIRLOCK_VAULT_KEY_FILE")]
    vault_key_file: Option<PathBuf>,
    /// Let connectors reach this exact loopback or private IP (repeatable); by default they
    /// reach public addresses only.
    #[arg(long = "allow-private-ip", global = true, value_name = "IP")]
    allow_private_ip: Vec<std::net::IpAddr>,
    /// Resolve HOST:PORT to ADDR instead of using DNS, like curl's --resolve (repeatable),
    /// e.g. `api.paygate.example:443:10.0.0.5:8443`.
    #[arg(long, global = true, value_name = "HOST:PORT:ADDR")]
    resolve: Vec<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fresh demo store on SQLite: install, prompt, approve, an order event, a refused call.
    Demo,
    /// Create the database and seed the demo store (merchants `demo-store`, `other-store`).
    Init,
    /// Validate a connector `.wasm` and install it for a merchant, pending approval.
    Install {
        /// The merchant.
        #[arg(long)]
        merchant: String,
        /// The component built for wasm32-wasip2.
        artifact: PathBuf,
        /// Who is installing (recorded in the audit log).
        #[arg(long, default_value = "platform")]
        actor: String,
    },
    /// Approve an installation: all required scopes plus the optional ones named.
    Approve {
        /// The merchant.
        #[arg(long)]
        merchant: String,
        /// Installation id or connector id.
        installation: String,
        /// Optional scopes to grant, comma separated (e.g. `customers:read-contact`).
        #[arg(long, value_delimiter = ',')]
        optional: Vec<String>,
        /// Who approves (recorded with each grant).
        #[arg(long, default_value = "merchant")]
        by: String,
    },
    /// List a merchant's installations with their effective grants.
    List {
        /// The merchant.
        #[arg(long)]
        merchant: String,
    },
    /// Show one installation.
    Show {
        /// The merchant.
        #[arg(long)]
        merchant: String,
        /// Installation id or connector id.
        installation: String,
    },
    /// Emit a platform event to every subscribed, granted installation and show what each did.
    Emit {
        /// The merchant.
        #[arg(long)]
        merchant: String,
        /// Topic, such as `order.created`.
        topic: String,
        /// The record it is about, such as `ord_1001`.
        subject: String,
    },
    /// Offer a newer version: same or fewer scopes apply at once; more wait for `approve`.
    Upgrade {
        /// The merchant.
        #[arg(long)]
        merchant: String,
        /// Installation id or connector id.
        installation: String,
        /// The new component.
        artifact: PathBuf,
        /// Who upgrades (recorded in the audit log).
        #[arg(long, default_value = "platform")]
        actor: String,
    },
    /// Withdraw one optional scope (`--scope`), or every approval of the app.
    Revoke {
        /// The merchant.
        #[arg(long)]
        merchant: String,
        /// Installation id or connector id.
        installation: String,
        /// The optional scope to withdraw; without it, the whole app's approval is withdrawn.
        #[arg(long)]
        scope: Option<String>,
        /// Who revokes (recorded in the audit log).
        #[arg(long, default_value = "merchant")]
        by: String,
    },
    /// Pause an active app, keeping its grants (for a provider outage, say).
    Disable {
        /// The merchant.
        #[arg(long)]
        merchant: String,
        /// Installation id or connector id.
        installation: String,
        /// Who disables it.
        #[arg(long, default_value = "merchant")]
        by: String,
    },
    /// Resume a disabled app with the grants it had.
    Enable {
        /// The merchant.
        #[arg(long)]
        merchant: String,
        /// Installation id or connector id.
        installation: String,
        /// Who enables it.
        #[arg(long, default_value = "merchant")]
        by: String,
    },
    /// Remove an app: frees its slot, interrupts running calls, deletes its grants and storage.
    Uninstall {
        /// The merchant.
        #[arg(long)]
        merchant: String,
        /// Installation id or connector id.
        installation: String,
        /// Who removes it.
        #[arg(long, default_value = "merchant")]
        by: String,
    },
    /// Publisher signing keys: generate a key pair, or register a publisher's public key.
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
    /// Sign a connector artifact with a publisher's secret key (from `keys generate`).
    Sign {
        /// File holding the secret key as hex.
        #[arg(long)]
        key: PathBuf,
        /// The component to sign.
        artifact: PathBuf,
        /// Where to write the signed component.
        #[arg(long)]
        out: PathBuf,
    },
    /// An installation's secrets (API keys): set, rotate, list; and the vault key.
    Secrets {
        #[command(subcommand)]
        action: SecretsCommand,
    },
    /// Run an installation's health check (can it reach its provider with its settings?).
    Check {
        /// The merchant.
        #[arg(long)]
        merchant: String,
        /// Installation id or connector id.
        installation: String,
    },
    /// Per-call limits: show an installation's, or override them for a plan or a connector.
    Limits {
        #[command(subcommand)]
        action: LimitsCommand,
    },
    /// Show the newest audit entries of a merchant.
    Audit {
        /// The merchant.
        #[arg(long)]
        merchant: String,
        /// How many entries.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

#[derive(Subcommand)]
enum SecretsCommand {
    /// Create a vault key file (mode 0600, never overwritten).
    Keygen {
        /// Where to write it.
        #[arg(long)]
        out: PathBuf,
    },
    /// Set a secret the connector declares, for the first time. The value is read from stdin
    /// (or `--from-env VAR`), never from the command line.
    Set(SecretValue),
    /// Replace a secret's value (after rotating the key at the provider).
    Rotate(SecretValue),
    /// The secrets a connector declares: set or not, when last rotated. Never values.
    List {
        /// The merchant.
        #[arg(long)]
        merchant: String,
        /// Installation id or connector id.
        installation: String,
    },
}

#[derive(Subcommand)]
enum LimitsCommand {
    /// The limits an installation's calls run under (host defaults, plan, connector).
    Show {
        /// The merchant.
        #[arg(long)]
        merchant: String,
        /// Installation id or connector id.
        installation: String,
    },
    /// Override limits for every merchant on a plan, or for one connector everywhere (the
    /// connector's win). Fields not given keep the default; none given clears the override.
    Set {
        /// The plan to change.
        #[arg(
            long,
            conflicts_with = "connector",
            required_unless_present = "connector"
        )]
        plan: Option<String>,
        /// The connector id to change.
        #[arg(long)]
        connector: Option<String>,
        /// Wall-clock deadline per call, in milliseconds.
        #[arg(long)]
        deadline_ms: Option<u64>,
        /// Instructions per call.
        #[arg(long)]
        fuel: Option<u64>,
        /// Linear memory per call, in MiB (at most the host's cap).
        #[arg(long)]
        memory_mib: Option<usize>,
        /// Table elements per call (at most the host's cap).
        #[arg(long)]
        table_elements: Option<usize>,
        /// Host calls per call.
        #[arg(long)]
        host_calls: Option<u32>,
        /// Outbound HTTP requests per call.
        #[arg(long)]
        outbound: Option<u32>,
        /// Output (summary, logs, storage writes) per call, in KiB.
        #[arg(long)]
        output_kib: Option<u64>,
        /// Input (event, storage values, secrets, response bodies) per call, in KiB.
        #[arg(long)]
        input_kib: Option<u64>,
        /// Invocations of one installation at once.
        #[arg(long)]
        concurrent: Option<u32>,
        /// Who changes them (recorded in the audit log).
        #[arg(long, default_value = "platform")]
        by: String,
    },
}

/// Which secret to write, and where its value comes from.
#[derive(clap::Args)]
struct SecretValue {
    /// The merchant.
    #[arg(long)]
    merchant: String,
    /// Installation id or connector id.
    installation: String,
    /// The secret's name, as the manifest declares it.
    name: String,
    /// Read the value from this environment variable instead of stdin.
    #[arg(long, value_name = "VAR")]
    from_env: Option<String>,
    /// Who writes it (recorded in the audit log, without the value).
    #[arg(long, default_value = "merchant")]
    by: String,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a publisher key pair: the secret goes to `--out` (mode 0600), the public key is printed.
    Generate {
        /// Where to write the secret key; an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
    },
    /// Trust a publisher's public key for artifacts whose manifest names that publisher.
    Add {
        /// The publisher, exactly as its manifests name it.
        #[arg(long)]
        publisher: String,
        /// The public key, 64 hex characters.
        public_key: String,
        /// Who registers it.
        #[arg(long, default_value = "platform")]
        by: String,
    },
}

/// Parse arguments, run, print; errors go to stderr (or stdout as JSON) with exit code 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if json {
                println!("{}", serde_json::json!({ "error": format!("{err:#}") }));
            } else {
                eprintln!("error: {err:#}");
            }
            ExitCode::FAILURE
        }
    }
}

const DEFAULT_DB: &str = "sqlite://airlock.db";
const DEMO_DB: &str = "sqlite://airlock-demo.db";

async fn run(cli: Cli) -> Result<()> {
    let json = cli.json;
    let lang: Language = cli
        .lang
        .parse()
        .map_err(anyhow::Error::msg)
        .context("--lang")?;
    if let Command::Demo = cli.command {
        let url = cli.db.unwrap_or_else(|| DEMO_DB.to_owned());
        fresh_sqlite(&url).await?;
        let report = crate::demo::run(&url, lang).await?;
        return print::demo(&report, json);
    }
    match &cli.command {
        Command::Keys {
            action: KeysCommand::Generate { out },
        } => return keys::generate(out, json),
        Command::Sign { key, artifact, out } => return keys::sign(key, artifact, out, json),
        Command::Secrets {
            action: SecretsCommand::Keygen { out },
        } => return secrets::keygen(out, json),
        _ => {}
    }
    let vault_key = match &cli.vault_key_file {
        Some(path) => Some(VaultKey::from_file(path)?),
        None => VaultKey::from_env()?,
    };
    let mut network = NetworkPolicy::default();
    for ip in &cli.allow_private_ip {
        network = network.allow_private_ip(*ip);
    }
    for entry in &cli.resolve {
        let (host, port, addr) = parse_resolve(entry)
            .with_context(|| format!("--resolve `{entry}`: expected HOST:PORT:ADDR, e.g. api.example.com:443:10.0.0.5:8443"))?;
        network = network.resolve(&host, port, addr);
    }
    let url = cli.db.unwrap_or_else(|| DEFAULT_DB.to_owned());
    let db = Db::connect(&url)
        .await
        .with_context(|| format!("opening {url}"))?;
    let mut builder = Host::builder(db)
        .require_signatures(cli.require_signed)
        .network(network);
    if let Some(key) = vault_key {
        builder = builder.vault_key(key);
    }
    let host = builder.build()?;
    match cli.command {
        Command::Demo
        | Command::Sign { .. }
        | Command::Secrets {
            action: SecretsCommand::Keygen { .. },
        }
        | Command::Keys {
            action: KeysCommand::Generate { .. },
        } => {
            bail!("handled before the database is opened")
        }
        Command::Keys {
            action:
                KeysCommand::Add {
                    publisher,
                    public_key,
                    by,
                },
        } => {
            host.trust_key(&publisher, &public_key, &by).await?;
            print::value(
                &serde_json::json!({ "publisher": publisher, "public_key": public_key.trim() }),
                json,
                || {
                    format!(
                        "artifacts of `{publisher}` signed by {} are now accepted",
                        public_key.trim()
                    )
                },
            )
        }
        Command::Init => {
            demo::seed(&host).await?;
            print::value(
                &serde_json::json!({ "database": url, "merchants": [demo::DEMO_MERCHANT, demo::OTHER_MERCHANT] }),
                json,
                || {
                    format!(
                        "seeded {url}: merchants `{}` and `{}`",
                        demo::DEMO_MERCHANT,
                        demo::OTHER_MERCHANT
                    )
                },
            )
        }
        Command::Install {
            merchant,
            artifact,
            actor,
        } => {
            let bytes = std::fs::read(&artifact)
                .with_context(|| format!("reading {}", artifact.display()))?;
            let installed = host
                .install(&MerchantId::new(merchant), &bytes, &actor)
                .await?;
            print::installed(&installed, json)
        }
        Command::Approve {
            merchant,
            installation,
            optional,
            by,
        } => {
            let scopes = optional
                .iter()
                .filter(|s| !s.trim().is_empty())
                .map(|s| s.trim().parse::<Scope>().map_err(anyhow::Error::from))
                .collect::<Result<Vec<_>>>()
                .context("--optional")?;
            let view = host
                .approve(&MerchantId::new(merchant), &installation, &scopes, &by)
                .await?;
            print::installation(&view, json)
        }
        Command::List { merchant } => {
            print::list(&host.list(&MerchantId::new(merchant)).await?, json)
        }
        Command::Show {
            merchant,
            installation,
        } => print::installation(
            &host
                .installation(&MerchantId::new(merchant), &installation)
                .await?,
            json,
        ),
        Command::Emit {
            merchant,
            topic,
            subject,
        } => {
            let topic: Topic = topic.parse().map_err(anyhow::Error::msg)?;
            print::emitted(
                &host
                    .emit(&MerchantId::new(merchant), topic, &subject)
                    .await?,
                json,
            )
        }
        Command::Upgrade {
            merchant,
            installation,
            artifact,
            actor,
        } => {
            let bytes = std::fs::read(&artifact)
                .with_context(|| format!("reading {}", artifact.display()))?;
            let merchant = MerchantId::new(merchant);
            let up = host
                .upgrade(&merchant, &installation, &bytes, &actor, lang)
                .await?;
            print::upgraded(&up, json)
        }
        Command::Revoke {
            merchant,
            installation,
            scope,
            by,
        } => {
            let merchant = MerchantId::new(merchant);
            let view = match scope {
                Some(scope) => {
                    let scope: Scope = scope.trim().parse().context("--scope")?;
                    host.revoke_scope(&merchant, &installation, scope, &by)
                        .await?
                }
                None => host.revoke_all(&merchant, &installation, &by).await?,
            };
            print::installation(&view, json)
        }
        Command::Disable {
            merchant,
            installation,
            by,
        } => print::installation(
            &host
                .disable(&MerchantId::new(merchant), &installation, &by)
                .await?,
            json,
        ),
        Command::Enable {
            merchant,
            installation,
            by,
        } => print::installation(
            &host
                .enable(&MerchantId::new(merchant), &installation, &by)
                .await?,
            json,
        ),
        Command::Uninstall {
            merchant,
            installation,
            by,
        } => {
            let gone = host
                .uninstall(&MerchantId::new(merchant), &installation, &by)
                .await?;
            print::value(&gone, json, || {
                format!(
                    "uninstalled {} ({}): slot freed; deleted {} storage key(s), {} grant(s) and {} secret(s)",
                    gone.connector,
                    gone.installation,
                    gone.deleted.storage_keys,
                    gone.deleted.grants,
                    gone.deleted.secrets
                )
            })
        }
        Command::Secrets { action } => match action {
            SecretsCommand::Keygen { .. } => bail!("handled before the database is opened"),
            SecretsCommand::List {
                merchant,
                installation,
            } => print::secrets(
                &host
                    .secrets(&MerchantId::new(merchant), &installation)
                    .await?,
                json,
            ),
            SecretsCommand::Set(args) => write_secret(&host, args, SecretWrite::Set, json).await,
            SecretsCommand::Rotate(args) => {
                write_secret(&host, args, SecretWrite::Rotate, json).await
            }
        },
        Command::Check {
            merchant,
            installation,
        } => {
            let report = host
                .health_check(&MerchantId::new(merchant), &installation)
                .await?;
            print::value(&report, json, || print::report_text(&report))
        }
        Command::Limits { action } => match action {
            LimitsCommand::Show {
                merchant,
                installation,
            } => {
                let limits = host
                    .limits_for(&MerchantId::new(merchant), &installation)
                    .await?;
                print::value(&limits, json, || print::limits_text(&limits))
            }
            LimitsCommand::Set {
                plan,
                connector,
                deadline_ms,
                fuel,
                memory_mib,
                table_elements,
                host_calls,
                outbound,
                output_kib,
                input_kib,
                concurrent,
                by,
            } => {
                let overrides = LimitOverrides {
                    deadline_ms,
                    fuel,
                    memory_bytes: memory_mib.map(|m| m.saturating_mul(1 << 20)),
                    table_elements,
                    max_host_calls: host_calls,
                    max_outbound_requests: outbound,
                    max_output_bytes: output_kib.map(|k| k.saturating_mul(1024)),
                    max_input_bytes: input_kib.map(|k| k.saturating_mul(1024)),
                    max_concurrent: concurrent,
                };
                let target = match (&plan, &connector) {
                    (Some(plan), _) => {
                        host.set_plan_limits(plan, &overrides, &by).await?;
                        format!("plan `{plan}`")
                    }
                    (None, Some(connector)) => {
                        host.set_connector_limits(connector, &overrides, &by)
                            .await?;
                        format!("connector `{connector}`")
                    }
                    (None, None) => bail!("give --plan or --connector"),
                };
                print::value(
                    &serde_json::json!({ "target": target, "overrides": overrides }),
                    json,
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
        },
        Command::Audit { merchant, limit } => {
            print::audit(&host.audit(&MerchantId::new(merchant), limit).await?, json)
        }
    }
}

/// The demo promises a fresh store: remove an earlier demo SQLite file (and its WAL files),
/// but never a database that is not a demo store.
async fn fresh_sqlite(url: &str) -> Result<()> {
    let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return Ok(());
    };
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.contains(":memory:") || !std::path::Path::new(path).exists() {
        return Ok(());
    }
    if !is_demo_store(path).await {
        bail!(
            "{path} exists and is not an Airlock demo database; the demo starts from a fresh \
             store, so give it a new path with --db sqlite://another.db"
        );
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{path}{suffix}");
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| format!("removing the old demo database {file}"));
            }
        }
    }
    Ok(())
}

/// True when `path` is a SQLite database holding the demo merchant (opened read-only).
async fn is_demo_store(path: &str) -> bool {
    use sqlx::Connection;
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true);
    let Ok(mut conn) = sqlx::SqliteConnection::connect_with(&options).await else {
        return false;
    };
    let found = sqlx::query("SELECT id FROM merchants WHERE id = $1")
        .bind(demo::DEMO_MERCHANT)
        .fetch_optional(&mut conn)
        .await;
    let _ = conn.close().await;
    matches!(found, Ok(Some(_)))
}

async fn write_secret(host: &Host, args: SecretValue, mode: SecretWrite, json: bool) -> Result<()> {
    let value = secrets::read_value(args.from_env.as_deref(), &args.name)?;
    let changed = host
        .write_secret(
            &MerchantId::new(args.merchant),
            &args.installation,
            &args.name,
            &value,
            &args.by,
            mode,
        )
        .await?;
    print::secret_changed(&changed, json)
}

/// Create `path` readable by its owner only, refusing to overwrite: for key files.
fn write_private_file(path: &std::path::Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| {
        format!(
            "creating {} (an existing key file is never overwritten)",
            path.display()
        )
    })?;
    file.write_all(contents)
        .with_context(|| format!("writing {}", path.display()))
}

/// `HOST:PORT:ADDR` where ADDR is `IP:PORT` or `[IPv6]:PORT`.
fn parse_resolve(entry: &str) -> Option<(String, u16, std::net::SocketAddr)> {
    let (host, rest) = entry.split_once(':')?;
    let (port, addr) = rest.split_once(':')?;
    Some((host.to_owned(), port.parse().ok()?, addr.parse().ok()?))
}
