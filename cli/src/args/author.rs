//! The arguments of what a connector author runs: `airlock wit`, `airlock pack`, `airlock new`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// `airlock wit`.
#[derive(Args)]
pub struct WitArgs {
    /// The connector's manifest.
    #[arg(long, default_value = "airlock.toml")]
    pub manifest: PathBuf,
    /// The directory to write the WIT package into (created if missing; `.wit` files the
    /// manifest no longer allows are removed from it).
    #[arg(long)]
    pub out: PathBuf,
}

/// `airlock pack`.
#[derive(Args)]
pub struct PackArgs {
    /// The component (from componentize-js, componentize-py or any wit-component build).
    pub component: PathBuf,
    /// The connector's manifest.
    #[arg(long, default_value = "airlock.toml")]
    pub manifest: PathBuf,
    /// Where to write the artifact.
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
    /// Replace a manifest the component already carries instead of refusing it.
    #[arg(long)]
    pub replace: bool,
}

/// `airlock new`. Its `--lang` (the global option) names the connector's language here:
/// rust, js or python.
#[derive(Args)]
pub struct NewArgs {
    /// The connector id, such as `acme.order-notifier` (lowercase letters, digits, `.`, `-`,
    /// `_`); it also names the package.
    pub name: String,
    /// What kind of connector: its manifest and handler ask for the least that kind needs.
    #[arg(long, value_enum)]
    pub kind: Kind,
    /// Where to create the project (must be missing or empty); default: `./NAME`.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The publisher named in the manifest; default: the first part of NAME, capitalised.
    #[arg(long)]
    pub publisher: Option<String>,
    /// Where `airlock-sdk` is, for Rust projects; default: the SDK of the checkout this
    /// `airlock` was built from.
    #[arg(long)]
    pub sdk_path: Option<PathBuf>,
}

/// A connector kind, as manifests spell it.
#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    // Plain comments: doc comments would turn `--help` into clap's long form.
    Payment,
    Logistics,
    Messaging,
    Analytics,
    Ads,
    Marketplace,
}
