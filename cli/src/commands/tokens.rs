//! `airlock tokens create|list|rotate|revoke`.

use anyhow::Result;

use airlock_host::Host;
use airlock_host::ids::MerchantId;
use airlock_host::tokens::{IssuedToken, Principal, TokenInfo};

use super::Ctx;
use crate::args::{TokenCreateArgs, TokenIdArgs, TokenListArgs};
use crate::print;

/// Make a token and print its secret, once.
pub async fn create(host: &Host, ctx: &Ctx, args: TokenCreateArgs) -> Result<()> {
    let merchant = args.merchant.map(MerchantId::new);
    let issued = host
        .create_token(merchant.as_ref(), &args.label, &args.by)
        .await?;
    issued_out(&issued, ctx.json)
}

/// Replace a token's secret.
pub async fn rotate(host: &Host, ctx: &Ctx, args: TokenIdArgs) -> Result<()> {
    let issued = host.rotate_token(&args.id, &args.by).await?;
    issued_out(&issued, ctx.json)
}

/// Revoke a token.
pub async fn revoke(host: &Host, ctx: &Ctx, args: TokenIdArgs) -> Result<()> {
    host.revoke_token(&args.id).await?;
    print::value(&serde_json::json!({ "revoked": args.id }), ctx.json, || {
        format!(
            "token {} revoked: its secret is refused from now on",
            args.id
        )
    })
}

/// List tokens.
pub async fn list(host: &Host, ctx: &Ctx, args: TokenListArgs) -> Result<()> {
    let merchant = args.merchant.map(MerchantId::new);
    let tokens = host.tokens(merchant.as_ref()).await?;
    print::value(&tokens, ctx.json, || {
        if tokens.is_empty() {
            return "no API tokens; make one with `airlock tokens create --label …`".to_owned();
        }
        tokens.iter().map(row).collect::<Vec<_>>().join("\n")
    })
}

fn holder(principal: &Principal) -> String {
    match principal {
        Principal::Platform => "platform (everything)".to_owned(),
        Principal::Merchant { merchant } => format!("merchant {merchant}"),
    }
}

fn row(token: &TokenInfo) -> String {
    let state = match token.revoked_at {
        Some(_) => "revoked",
        None => "live",
    };
    format!(
        "{}  {state:<7}  {}  \"{}\"",
        token.id,
        holder(&token.principal),
        token.label
    )
}

fn issued_out(issued: &IssuedToken, json: bool) -> Result<()> {
    print::value(issued, json, || {
        format!(
            "token {} for {} (\"{}\")\nsecret (shown once, keep it safe): {}\nuse it as: Authorization: Bearer <secret>",
            issued.info.id,
            holder(&issued.info.principal),
            issued.info.label,
            issued.secret
        )
    })
}
