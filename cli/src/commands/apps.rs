//! The platform's and merchant's verbs on installations: install, approve, list, show, emit,
//! upgrade, revoke, disable, enable, uninstall, check, audit.

use anyhow::{Context, Result};

use airlock_host::Host;
use airlock_host::grants::Scope;
use airlock_host::ids::MerchantId;
use airlock_host::manifest::Topic;

use super::Ctx;
use crate::args::{
    ApproveArgs, AuditArgs, DisableArgs, EmitArgs, EnableArgs, InstallArgs, MerchantArgs,
    RevokeArgs, TargetArgs, UninstallArgs, UpgradeArgs,
};
use crate::print;

/// `airlock install`: validate the artifact and install it, pending approval.
pub async fn install(host: &Host, ctx: &Ctx, args: InstallArgs) -> Result<()> {
    let bytes = std::fs::read(&args.artifact)
        .with_context(|| format!("reading {}", args.artifact.display()))?;
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
    let view = host
        .approve(&merchant, &args.installation, &scopes, &args.by)
        .await?;
    print::installation(&view, ctx.json)
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

/// `airlock emit`: deliver an event and show what each installation did.
pub async fn emit(host: &Host, ctx: &Ctx, args: EmitArgs) -> Result<()> {
    let topic: Topic = args.topic.parse().map_err(anyhow::Error::msg)?;
    let merchant = MerchantId::new(args.merchant);
    print::emitted(&host.emit(&merchant, topic, &args.subject).await?, ctx.json)
}

/// `airlock upgrade`: offer a newer version of an installed connector.
pub async fn upgrade(host: &Host, ctx: &Ctx, args: UpgradeArgs) -> Result<()> {
    let bytes = std::fs::read(&args.artifact)
        .with_context(|| format!("reading {}", args.artifact.display()))?;
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
