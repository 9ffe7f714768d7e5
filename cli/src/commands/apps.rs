//! The platform's and merchant's verbs on installations: install, approve, prompt, list, show,
//! emit, upgrade, revoke, disable, enable, uninstall, check, audit.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};

use airlock_host::artifact::MAX_ARTIFACT_BYTES;
use airlock_host::grants::Scope;
use airlock_host::ids::MerchantId;
use airlock_host::manifest::Topic;
use airlock_host::{Declined, Host};

use super::Ctx;
use crate::args::{
    ApproveArgs, AuditArgs, DeclineArgs, DisableArgs, EmitArgs, EnableArgs, InstallArgs,
    MerchantArgs, RevokeArgs, TargetArgs, UninstallArgs, UpgradeArgs,
};
use crate::print;

/// Read an artifact, at most [`MAX_ARTIFACT_BYTES`] of it: a larger file (or an endless
/// stream such as `/dev/zero`) is refused once one byte past the limit has been read, never
/// read whole into memory.
pub(super) fn read_artifact(path: &Path) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_ARTIFACT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() > MAX_ARTIFACT_BYTES {
        bail!(
            "{} is larger than the artifact limit of {} MiB; a connector component must be smaller",
            path.display(),
            MAX_ARTIFACT_BYTES / (1024 * 1024)
        );
    }
    Ok(bytes)
}

/// `airlock install`: validate the artifact and install it, pending approval.
pub async fn install(host: &Host, ctx: &Ctx, args: InstallArgs) -> Result<()> {
    let bytes = read_artifact(&args.artifact)?;
    let merchant = MerchantId::new(args.merchant);
    let mut installed = host.install(&merchant, &bytes, &args.actor).await?;
    // The prompt in the language asked for (`--lang`), not the library's default.
    let id = installed.installation.id.clone();
    installed.prompt = host.prompt(&merchant, id.as_str(), ctx.lang).await?;
    print::installed(&installed, ctx.json)
}

/// `airlock approve`: the required scopes plus the optional ones named.
pub async fn approve(host: &Host, ctx: &Ctx, args: ApproveArgs) -> Result<()> {
    let scopes = args
        .optional
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse::<Scope>().map_err(anyhow::Error::from))
        .collect::<Result<Vec<_>>>()
        .context("--optional")?;
    let merchant = MerchantId::new(args.merchant);
    let Some(digest) = args.digest else {
        // Look the installation up first, so a wrong id is named as such.
        let waiting = host
            .waiting(&merchant, &args.installation, ctx.lang)
            .await?;
        bail!(
            "approve names the version the merchant saw: add --digest; what waits on {} now is \
             version {} ({}), and `airlock prompt --merchant {} {}` shows its prompt",
            waiting.installation,
            waiting.version,
            waiting.digest,
            merchant,
            waiting.installation
        );
    };
    let view = host
        .approve(&merchant, &args.installation, &digest, &scopes, &args.by)
        .await?;
    print::installation(&view, ctx.json)
}

/// `airlock decline`: drop a waiting upgrade, or remove a pending install.
pub async fn decline(host: &Host, ctx: &Ctx, args: DeclineArgs) -> Result<()> {
    let merchant = MerchantId::new(args.merchant);
    let declined = host
        .decline(&merchant, &args.installation, &args.digest, &args.by)
        .await?;
    print::value(&declined, ctx.json, || match &declined {
        Declined::Install { removed } => format!(
            "declined: {} ({}) removed, its slot freed; nothing was shared with it",
            removed.connector, removed.installation
        ),
        Declined::Upgrade {
            installation,
            version,
        } => format!(
            "declined version {version} of {} ({}): version {} keeps running with its grants",
            installation.connector, installation.id, installation.version
        ),
    })
}

/// `airlock prompt`: what waits for approval, its prompt, and the digest to approve it by.
pub async fn prompt(host: &Host, ctx: &Ctx, args: TargetArgs) -> Result<()> {
    let merchant = MerchantId::new(args.merchant);
    let waiting = host
        .waiting(&merchant, &args.installation, ctx.lang)
        .await?;
    print::value(&waiting, ctx.json, || {
        let what = if waiting.upgrade {
            "an upgrade waits"
        } else {
            "the installed version"
        };
        format!(
            "{} of {} ({what}, {}):\n\n{}\nApprove with: airlock approve --merchant {} {} --digest {}",
            waiting.version,
            waiting.installation,
            waiting.status,
            waiting.prompt.render(),
            merchant,
            waiting.installation,
            waiting.digest
        )
    })
}

/// `airlock list`: a merchant's installations.
pub async fn list(host: &Host, ctx: &Ctx, args: MerchantArgs) -> Result<()> {
    print::list(&host.list(&MerchantId::new(args.merchant)).await?, ctx.json)
}

/// `airlock show`: one installation.
pub async fn show(host: &Host, ctx: &Ctx, args: TargetArgs) -> Result<()> {
    let merchant = MerchantId::new(args.merchant);
    let view = host.installation(&merchant, &args.installation).await?;
    print::installation(&view, ctx.json)
}

/// `airlock emit`: queue an event; with `--wait`, deliver it now and show what each
/// installation did.
pub async fn emit(host: &Host, ctx: &Ctx, args: EmitArgs) -> Result<()> {
    let topic: Topic = args.topic.parse().map_err(anyhow::Error::msg)?;
    let merchant = MerchantId::new(args.merchant);
    if args.wait {
        print::emitted(
            &host.emit_and_wait(&merchant, topic, &args.subject).await?,
            ctx.json,
        )
    } else {
        crate::print_outbox::queued(&host.emit(&merchant, topic, &args.subject).await?, ctx.json)
    }
}

/// `airlock upgrade`: offer a newer version of an installed connector.
pub async fn upgrade(host: &Host, ctx: &Ctx, args: UpgradeArgs) -> Result<()> {
    let bytes = read_artifact(&args.artifact)?;
    let merchant = MerchantId::new(args.merchant);
    let up = host
        .upgrade(&merchant, &args.installation, &bytes, &args.actor, ctx.lang)
        .await?;
    print::upgraded(&up, ctx.json)
}

/// `airlock revoke`: one optional scope, or every approval.
pub async fn revoke(host: &Host, ctx: &Ctx, args: RevokeArgs) -> Result<()> {
    let merchant = MerchantId::new(args.merchant);
    let view = match args.scope {
        Some(scope) => {
            let scope: Scope = scope.trim().parse().context("--scope")?;
            host.revoke_scope(&merchant, &args.installation, scope, &args.by)
                .await?
        }
        None => {
            host.revoke_all(&merchant, &args.installation, &args.by)
                .await?
        }
    };
    print::installation(&view, ctx.json)
}

/// `airlock disable`: pause an app, keeping its grants.
pub async fn disable(host: &Host, ctx: &Ctx, args: DisableArgs) -> Result<()> {
    let merchant = MerchantId::new(args.merchant);
    let view = host
        .disable(&merchant, &args.installation, &args.by)
        .await?;
    print::installation(&view, ctx.json)
}

/// `airlock enable`: resume a disabled app.
pub async fn enable(host: &Host, ctx: &Ctx, args: EnableArgs) -> Result<()> {
    let merchant = MerchantId::new(args.merchant);
    let view = host.enable(&merchant, &args.installation, &args.by).await?;
    print::installation(&view, ctx.json)
}

/// `airlock uninstall`: free the slot and delete the app's grants, storage and secrets.
pub async fn uninstall(host: &Host, ctx: &Ctx, args: UninstallArgs) -> Result<()> {
    let merchant = MerchantId::new(args.merchant);
    let gone = host
        .uninstall(&merchant, &args.installation, &args.by)
        .await?;
    print::value(&gone, ctx.json, || {
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

/// `airlock check`: run an installation's health check.
pub async fn check(host: &Host, ctx: &Ctx, args: TargetArgs) -> Result<()> {
    let merchant = MerchantId::new(args.merchant);
    let report = host.health_check(&merchant, &args.installation).await?;
    print::health(&report, ctx.json)
}

/// `airlock audit`: a merchant's newest audit entries.
pub async fn audit(host: &Host, ctx: &Ctx, args: AuditArgs) -> Result<()> {
    let merchant = MerchantId::new(args.merchant);
    print::audit(&host.audit(&merchant, args.limit).await?, ctx.json)
}
