//! `airlock tokens`: the platform's HTTP API tokens.

use clap::{Args, Subcommand};

/// `airlock tokens …`.
#[derive(Subcommand)]
pub enum TokensCommand {
    /// Make a token: for the platform (everything), or with `--merchant` for one merchant's
    /// business only. The secret is printed once; only its hash is kept.
    Create(TokenCreateArgs),
    /// List tokens (never their secrets), revoked ones included.
    List(TokenListArgs),
    /// Replace a token with a new secret for the same holder: the old one stops at once.
    Rotate(TokenIdArgs),
    /// Revoke a token: its secret is refused from now on.
    Revoke(TokenIdArgs),
}

/// `airlock tokens create`.
#[derive(Args)]
pub struct TokenCreateArgs {
    /// The merchant whose business alone the token may touch; without it, a platform token.
    #[arg(long)]
    pub merchant: Option<String>,
    /// Who or what uses the token (shown in `tokens list`).
    #[arg(long)]
    pub label: String,
    /// Who makes it.
    #[arg(long, default_value = "platform")]
    pub by: String,
}

/// `airlock tokens list`.
#[derive(Args)]
pub struct TokenListArgs {
    /// Only this merchant's tokens.
    #[arg(long)]
    pub merchant: Option<String>,
}

/// `airlock tokens rotate|revoke`.
#[derive(Args)]
pub struct TokenIdArgs {
    /// The token's id (`tok_…`, from `tokens list`), never its secret.
    pub id: String,
    /// Who does it.
    #[arg(long, default_value = "platform")]
    pub by: String,
}
