//! `airlock decline`: the merchant's "no" to what waits.

use clap::Args;

/// `airlock decline`.
#[derive(Args)]
pub struct DeclineArgs {
    /// The merchant.
    #[arg(long)]
    pub merchant: String,
    /// Installation id or connector id.
    pub installation: String,
    /// The digest of the version declined (`sha256:...`, as `prompt` prints it).
    #[arg(long)]
    pub digest: String,
    /// Who declines (recorded in the audit log).
    #[arg(long, default_value = "merchant")]
    pub by: String,
}
