//! `airlock keys generate` and `airlock sign`: what a publisher runs, no database involved.

use std::path::Path;

use anyhow::{Context, Result, bail};

use airlock_host::signing;

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

/// Sign an artifact with the secret key in `key`.
pub fn sign(key: &Path, artifact: &Path, out: &Path, json: bool) -> Result<()> {
    let text =
        std::fs::read_to_string(key).with_context(|| format!("reading {}", key.display()))?;
    let mut secret = [0u8; 32];
    if hex::decode_to_slice(text.trim(), &mut secret).is_err() {
        bail!(
            "{} does not hold a secret key (64 hex characters from `airlock keys generate`)",
            key.display()
        );
    }
    let bytes =
        std::fs::read(artifact).with_context(|| format!("reading {}", artifact.display()))?;
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
