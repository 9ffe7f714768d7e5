//! `airlock dev run`: the command line's side of a dev run. It reads the component, the
//! manifest file, the event, the grants and the secrets, hands them to
//! [`airlock_host::dev`], prints what came back and exits 1 when the run did not pass.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use zeroize::Zeroizing;

use airlock_host::Limits;
use airlock_host::artifact::ArtifactError;
use airlock_host::dev::{DevConnector, DevError, DevOptions, event_from_json, event_from_spec};
use airlock_host::grants::Scope;
use airlock_host::manifest::{MAX_MANIFEST_BYTES, Manifest};

use super::apps::read_artifact;
use crate::args::{DevRunArgs, Global};
use crate::print::{self, Quiet};

/// The environment variable that holds secret NAME's value: `AIRLOCK_DEV_SECRET_` + NAME in
/// capitals.
const SECRET_ENV_PREFIX: &str = "AIRLOCK_DEV_SECRET_";
/// Largest event file read, in bytes.
const MAX_EVENT_BYTES: u64 = 64 * 1024;

/// `airlock dev run`: one event through the connector; exit 1 unless it passed.
pub async fn run(args: DevRunArgs, global: &Global) -> Result<()> {
    let bytes = read_artifact(&args.connector)?;
    let manifest = args.manifest.as_deref().map(read_manifest).transpose()?;
    let connector = DevConnector::load(&bytes, manifest.as_deref()).map_err(|e| match e {
        DevError::Artifact(ArtifactError::NoManifest) => anyhow!(
            "{}: the component carries no manifest; pass one with `--manifest airlock.toml` \
             (and embed it with `airlock_sdk::export!` before publishing)",
            args.connector.display()
        ),
        DevError::Manifest(err) => anyhow!(
            "--manifest {}: {err}",
            args.manifest.as_deref().unwrap_or(Path::new("")).display()
        ),
        other => anyhow!("{}: {other}", args.connector.display()),
    })?;
    let event = read_event(&args.event)?;
    let (required, grant) = grants(&args.grant)?;
    let options = DevOptions {
        required,
        grant,
        network: match args.allow_network {
            true => Some(super::network_policy(global)?),
            false => None,
        },
        secrets: secrets(&args.secret, connector.manifest())?,
        limits: Limits::default(),
    };
    let report = connector.run(&event, &options).await?;
    print::value(&report, global.json, || crate::print_dev::text(&report))?;
    if report.passed {
        Ok(())
    } else {
        Err(Quiet::Failed.into())
    }
}

/// The manifest file, at most [`MAX_MANIFEST_BYTES`] and one byte of it.
fn read_manifest(path: &Path) -> Result<Vec<u8>> {
    let what = || format!("--manifest {}", path.display());
    let file = std::fs::File::open(path).with_context(what)?;
    let mut bytes = Vec::new();
    file.take(MAX_MANIFEST_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(what)?;
    Ok(bytes)
}

/// `--event`: a file when one exists at that path, else TOPIC:ID.
fn read_event(arg: &str) -> Result<airlock_host::Event> {
    let path = Path::new(arg);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    if path.is_file() {
        let what = || format!("--event {arg}");
        let file = std::fs::File::open(path).with_context(what)?;
        let mut text = String::new();
        file.take(MAX_EVENT_BYTES)
            .read_to_string(&mut text)
            .with_context(what)?;
        return event_from_json(&text, now).with_context(what);
    }
    if !arg.contains(':') && (arg.ends_with(".json") || arg.contains('/')) {
        return Err(anyhow!(
            "--event {arg}: no such file (give an event file, or TOPIC:ID such as \
             order.created:ord_1001)"
        ));
    }
    event_from_spec(arg, now).context("--event")
}

/// `--grant`: whether the required scopes are granted (not after `none`), and the others.
fn grants(args: &[String]) -> Result<(bool, Vec<Scope>)> {
    let mut required = true;
    let mut scopes = Vec::new();
    for arg in args.iter().map(|a| a.trim()).filter(|a| !a.is_empty()) {
        if arg == "none" {
            required = false;
            continue;
        }
        let scope: Scope = arg.parse().with_context(|| {
            format!("--grant `{}`", airlock_host::text::sanitize_quoted(arg, 64))
        })?;
        scopes.push(scope);
    }
    Ok((required, scopes))
}

/// Secret values: `--secret NAME=VALUE`, then `AIRLOCK_DEV_SECRET_<NAME>` for each declared
/// secret not given.
fn secrets(args: &[String], manifest: &Manifest) -> Result<Vec<(String, Zeroizing<String>)>> {
    let mut out = Vec::new();
    for arg in args {
        let (name, value) = arg
            .split_once('=')
            .filter(|(name, _)| !name.is_empty())
            .ok_or_else(|| {
                anyhow!("--secret: expected NAME=VALUE, such as gateway_key=sk_test_123")
            })?;
        out.push((name.to_owned(), Zeroizing::new(value.to_owned())));
    }
    for secret in &manifest.secrets {
        if out.iter().any(|(name, _)| *name == secret.name) {
            continue;
        }
        let var = format!("{SECRET_ENV_PREFIX}{}", secret.name.to_ascii_uppercase());
        if let Ok(value) = std::env::var(&var) {
            let value = value.trim_end_matches(['\r', '\n']).to_owned();
            out.push((secret.name.clone(), Zeroizing::new(value)));
        }
    }
    Ok(out)
}
