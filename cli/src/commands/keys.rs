//! `airlock keys generate` and `airlock sign`: what a publisher runs, no database involved;
//! and `airlock keys add`, the platform registering a publisher's public key.

use std::path::Path;

use anyhow::{Context, Result, bail};

use airlock_host::{Host, signing};

use super::Ctx;
use crate::args::{AddKeyArgs, SignArgs};
use crate::print;

/// Create a key pair; the secret is written once, readable by its owner only.
pub fn generate(out: &Path, json: bool) -> Result<()> {
    let (secret, public) =
        signing::generate().map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
    super::write_private_file(out, hex::encode(secret).as_bytes())?;
    let public = hex::encode(public);
    print::value(
        &serde_json::json!({ "public_key": public, "secret_key_file": out }),
        json,
        || {
            format!(
                "secret key written to {} (keep it private)\npublic key: {public}\nthe platform registers it with: airlock keys add --publisher \"<publisher>\" {public}",
                out.display()
            )
        },
    )
}

/// Sign an artifact with the secret key in `--key`.
pub fn sign(args: &SignArgs, json: bool) -> Result<()> {
    let (key, artifact, out) = (&args.key, &args.artifact, &args.out);
    let text =
        std::fs::read_to_string(key).with_context(|| format!("reading {}", key.display()))?;
    let mut secret = [0u8; 32];
    if hex::decode_to_slice(text.trim(), &mut secret).is_err() {
        bail!(
            "{} does not hold a secret key (64 hex characters from `airlock keys generate`)",
            key.display()
        );
    }
    let bytes = super::apps::read_artifact(artifact)?;
    airlock_host::artifact::Artifact::parse(&bytes)
        .context("only a valid connector artifact can be signed")?;
    let signed = signing::sign(&bytes, &secret)?;
    std::fs::write(out, &signed).with_context(|| format!("writing {}", out.display()))?;
    let public = hex::encode(signing::public_key(&secret));
    print::value(
        &serde_json::json!({ "signed": out, "public_key": public }),
        json,
        || {
            format!(
                "signed {} with key {public} -> {}",
                artifact.display(),
                out.display()
            )
        },
    )
}

/// `airlock keys add`: accept artifacts of `--publisher` signed by this key.
pub async fn add(host: &Host, ctx: &Ctx, args: AddKeyArgs) -> Result<()> {
    let AddKeyArgs {
        publisher,
        public_key,
        by,
    } = args;
    host.trust_key(&publisher, &public_key, &by).await?;
    print::value(
        &serde_json::json!({ "publisher": publisher, "public_key": public_key.trim() }),
        ctx.json,
        || {
            format!(
                "artifacts of `{publisher}` signed by {} are now accepted",
                public_key.trim()
            )
        },
    )
}
