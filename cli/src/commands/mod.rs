//! The subcommands: a dispatcher that opens the host only for the verbs that need one, and one
//! function per subcommand in the modules below.

mod apps;
mod author;
mod deliveries;
mod demo;
mod dev;
mod keys;
mod limits;
mod report;
mod secrets;
mod serve;
mod tokens;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use airlock_host::Host;
use airlock_host::db::Db;
use airlock_host::db::secrets::SecretWrite;
use airlock_host::outbound::NetworkPolicy;
use airlock_host::prompt::Language;
use airlock_host::vault::VaultKey;

use crate::args::{
    Cli, Command, DevCommand, Global, KeysCommand, LimitsCommand, SecretsCommand, TokensCommand,
};

/// What every subcommand needs besides its own arguments.
pub struct Ctx {
    /// Print JSON instead of text.
    pub json: bool,
    /// The language of capability prompts.
    pub lang: Language,
    /// The database URL, as given or the default.
    pub url: String,
}

const DEFAULT_DB: &str = "sqlite://airlock.db";

/// Run one parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    let json = cli.global.json;
    // What an author runs needs no database; `new` reads `--lang` as the connector's language.
    let command = match cli.command {
        Command::New(args) => return author::create(args, &cli.global.lang, json),
        Command::Wit(args) => return author::world(&args, json),
        Command::Pack(args) => return author::pack(&args, json),
        command => command,
    };
    let lang: Language = cli
        .global
        .lang
        .parse()
        .map_err(anyhow::Error::msg)
        .context("--lang")?;
    // A publisher signs and an operator makes key files before there is any database.
    let command = match command {
        Command::Demo => {
            return demo::demo(cli.global.db, cli.global.compile_cache, lang, json).await;
        }
        Command::Keys {
            action: KeysCommand::Generate(args),
        } => return keys::generate(&args.out, json),
        Command::Sign(args) => return keys::sign(&args, json),
        // A dev run needs no database: fixture data in memory.
        Command::Dev {
            action: DevCommand::Run(args),
        } => return dev::run(args, &cli.global).await,
        Command::Secrets {
            action: SecretsCommand::Keygen(args),
        } => return secrets::keygen(&args.out, json),
        command => command,
    };
    let url = cli
        .global
        .db
        .clone()
        .unwrap_or_else(|| DEFAULT_DB.to_owned());
    // Shared: `serve` runs each delivery in a task of its own.
    let host = std::sync::Arc::new(open_host(&cli.global, &url).await?);
    dispatch(&host, &Ctx { json, lang, url }, command).await
}

/// One function per subcommand that needs the host.
async fn dispatch(host: &std::sync::Arc<Host>, ctx: &Ctx, command: Command) -> Result<()> {
    match command {
        Command::Init => demo::init(host, ctx).await,
        Command::Install(args) => apps::install(host, ctx, args).await,
        Command::Approve(args) => apps::approve(host, ctx, args).await,
        Command::Decline(args) => apps::decline(host, ctx, args).await,
        Command::Prompt(args) => apps::prompt(host, ctx, args).await,
        Command::List(args) => apps::list(host, ctx, args).await,
        Command::Show(args) => apps::show(host, ctx, args).await,
        Command::Emit(args) => apps::emit(host, ctx, args).await,
        Command::Serve(args) => serve::serve(host, ctx, args).await,
        Command::Deliveries { action } => deliveries::run(host, ctx, action).await,
        Command::Health(args) => deliveries::health(host, ctx, args).await,
        Command::Prune(args) => deliveries::prune(host, ctx, args).await,
        Command::Upgrade(args) => apps::upgrade(host, ctx, args).await,
        Command::Revoke(args) => apps::revoke(host, ctx, args).await,
        Command::Disable(args) => apps::disable(host, ctx, args).await,
        Command::Enable(args) => apps::enable(host, ctx, args).await,
        Command::Uninstall(args) => apps::uninstall(host, ctx, args).await,
        Command::Check(args) => apps::check(host, ctx, args).await,
        Command::Audit(args) => apps::audit(host, ctx, args).await,
        Command::Report(args) => report::report(host, ctx, args).await,
        Command::Keys {
            action: KeysCommand::Add(args),
        } => keys::add(host, ctx, args).await,
        Command::Secrets { action } => match action {
            SecretsCommand::Set(args) => secrets::write(host, ctx, args, SecretWrite::Set).await,
            SecretsCommand::Rotate(args) => {
                secrets::write(host, ctx, args, SecretWrite::Rotate).await
            }
            SecretsCommand::List(args) => secrets::list(host, ctx, args).await,
            SecretsCommand::Keygen(_) => bail!("handled before the database is opened"),
        },
        Command::Tokens { action } => match action {
            TokensCommand::Create(args) => tokens::create(host, ctx, args).await,
            TokensCommand::List(args) => tokens::list(host, ctx, args).await,
            TokensCommand::Rotate(args) => tokens::rotate(host, ctx, args).await,
            TokensCommand::Revoke(args) => tokens::revoke(host, ctx, args).await,
        },
        Command::Limits { action } => match action {
            LimitsCommand::Show(args) => limits::show(host, ctx, args).await,
            LimitsCommand::Set(args) => limits::set(host, ctx, args).await,
        },
        Command::Demo
        | Command::New(_)
        | Command::Wit(_)
        | Command::Pack(_)
        | Command::Sign(_)
        | Command::Dev { .. }
        | Command::Keys {
            action: KeysCommand::Generate(_),
        } => bail!("handled before the database is opened"),
    }
}

/// The host over `url`, with the vault key, signature policy and network rules given.
async fn open_host(global: &Global, url: &str) -> Result<Host> {
    let vault_key = match &global.vault_key_file {
        Some(path) => Some(VaultKey::from_file(path)?),
        None => VaultKey::from_env()?,
    };
    let network = network_policy(global)?;
    let db = Db::connect(url)
        .await
        .with_context(|| format!("opening {url}"))?;
    let mut builder = Host::builder(db)
        .require_signatures(global.require_signed)
        .network(network);
    if let Some(key) = vault_key {
        builder = builder.vault_key(key);
    }
    if let Some(dir) = compile_cache_dir(global.compile_cache.as_deref(), url) {
        builder = builder.compile_cache(dir);
    }
    // Every active connector is loaded (or compiled) before the command runs, so an `emit`
    // or `check` never waits for a compile.
    Ok(builder.open().await?)
}

/// Where compiled components are kept: `--compile-cache` (`off`: nowhere), else
/// `<file>.compiled` next to a SQLite file, else (PostgreSQL) the user's cache directory;
/// nothing for an in-memory database. Every process opening the same database then shares
/// one directory, and a restart loads instead of compiling.
pub(crate) fn compile_cache_dir(flag: Option<&Path>, url: &str) -> Option<PathBuf> {
    if let Some(dir) = flag {
        return (dir != Path::new("off")).then(|| dir.to_owned());
    }
    if let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let memory = path.is_empty() || path.contains(":memory:") || query.contains("mode=memory");
        return (!memory).then(|| PathBuf::from(format!("{path}.compiled")));
    }
    let cache_home = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(cache_home.join("airlock").join("compiled"))
}

/// `--allow-private-ip` and `--resolve` as a policy.
fn network_policy(global: &Global) -> Result<NetworkPolicy> {
    let mut network = NetworkPolicy::default();
    for entry in &global.allow_private_ip {
        let (connector, addr) = entry
            .split_once('=')
            .and_then(|(c, a)| Some((c, a.parse().ok()?)))
            .filter(|(c, _)| !c.is_empty())
            .with_context(|| format!("--allow-private-ip `{entry}`: expected CONNECTOR=IP:PORT, e.g. acme.sync=10.0.0.5:8443 (an exemption is for one connector and one port)"))?;
        network = network.allow_private(connector, addr);
    }
    for entry in &global.resolve {
        let (host, port, addr) = parse_resolve(entry)
            .with_context(|| format!("--resolve `{entry}`: expected HOST:PORT:ADDR, e.g. api.example.com:443:10.0.0.5:8443"))?;
        network = network.resolve(&host, port, addr);
    }
    Ok(network)
}

/// `HOST:PORT:ADDR` where ADDR is `IP:PORT` or `[IPv6]:PORT`.
fn parse_resolve(entry: &str) -> Option<(String, u16, std::net::SocketAddr)> {
    let (host, rest) = entry.split_once(':')?;
    let (port, addr) = rest.split_once(':')?;
    Some((host.to_owned(), port.parse().ok()?, addr.parse().ok()?))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compile_cache_sits_next_to_a_sqlite_file_unless_told_otherwise() {
        let dir = |flag: Option<&str>, url| compile_cache_dir(flag.map(Path::new), url);
        assert_eq!(
            dir(None, "sqlite://shop.db"),
            Some(PathBuf::from("shop.db.compiled"))
        );
        assert_eq!(
            dir(None, "sqlite:/var/lib/a.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/a.db.compiled"))
        );
        assert_eq!(dir(None, "sqlite::memory:"), None);
        assert_eq!(dir(None, "sqlite://x.db?mode=memory"), None);
        assert_eq!(dir(Some("off"), "sqlite://shop.db"), None);
        assert_eq!(
            dir(Some("/srv/cc"), "postgres://h/db"),
            Some(PathBuf::from("/srv/cc"))
        );
        if let Some(pg) = dir(None, "postgres://h/db") {
            assert!(pg.ends_with("airlock/compiled"), "{}", pg.display());
        }
    }
}
