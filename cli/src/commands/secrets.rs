//! `airlock secrets`: vault key generation, and setting, rotating and listing an
//! installation's secrets. Values come from stdin or an environment variable, never from the
//! command line (shell history, `ps`), and are never printed.

use std::io::{IsTerminal, Read};
use std::path::Path;

use anyhow::{Context, Result, bail};
use zeroize::Zeroizing;

use airlock_host::Host;
use airlock_host::db::secrets::SecretWrite;
use airlock_host::ids::MerchantId;
use airlock_host::vault::VaultKey;

use super::Ctx;
use crate::args::{SecretValue, TargetArgs};
use crate::print;

/// Write a new vault key to `out` (mode 0600, never overwriting).
pub fn keygen(out: &Path, json: bool) -> Result<()> {
    let key = VaultKey::generate_hex()?;
    super::write_private_file(out, key.as_bytes())?;
    let id = VaultKey::from_hex(&key, "just generated")?.id().to_owned();
    print::value(
        &serde_json::json!({ "vault_key_file": out, "key_id": id }),
        json,
        || {
            format!(
                "vault key {id} written to {} (keep it apart from the database and back it up: \
                 secrets sealed with it cannot be opened without it)\nuse it with: --vault-key-file {}",
                out.display(),
                out.display()
            )
        },
    )
}

/// `airlock secrets set` and `rotate`: the value from stdin or `--from-env`, sealed.
pub async fn write(host: &Host, ctx: &Ctx, args: SecretValue, mode: SecretWrite) -> Result<()> {
    let value = read_value(args.from_env.as_deref(), &args.name)?;
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
    print::secret_changed(&changed, ctx.json)
}

/// `airlock secrets list`: names and state, never values.
pub async fn list(host: &Host, ctx: &Ctx, args: TargetArgs) -> Result<()> {
    let merchant = MerchantId::new(args.merchant);
    print::secrets(
        &host.secrets(&merchant, &args.installation).await?,
        ctx.json,
    )
}

/// The value to store: from the environment variable `from_env`, else stdin (one trailing
/// newline trimmed).
fn read_value(from_env: Option<&str>, name: &str) -> Result<Zeroizing<String>> {
    if let Some(var) = from_env {
        let value = std::env::var(var)
            .map(Zeroizing::new)
            .with_context(|| format!("--from-env: environment variable {var} is not set"))?;
        return Ok(value);
    }
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("value for `{name}` (one line, then Enter; it is not echoed back anywhere):");
    }
    let mut value = Zeroizing::new(String::new());
    stdin
        .read_to_string(&mut value)
        .context("reading the secret from stdin")?;
    let trimmed = Zeroizing::new(value.trim_end_matches(['\n', '\r']).to_owned());
    if trimmed.is_empty() {
        bail!(
            "no value on stdin: pipe it in, e.g. `printf %s \"$KEY\" | airlock secrets set ...`, \
             or use --from-env VAR"
        );
    }
    Ok(trimmed)
}
