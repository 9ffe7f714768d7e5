//! `airlock report`: each app's data-access report.

use clap::{Args, ValueEnum};

/// `airlock report`.
#[derive(Args)]
pub struct ReportArgs {
    /// The merchant.
    #[arg(long)]
    pub merchant: String,
    /// Only this app (installation id or connector id; a removed app's too).
    #[arg(long)]
    pub app: Option<String>,
    /// The window, in days back from now (1 to 400).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=400))]
    pub days: u32,
    /// `text` to read, `csv` or `json` to hand over (`--json` also means `json`).
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

/// How `airlock report` prints.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Readable lines.
    Text,
    /// One row per app and item, every field quoted.
    Csv,
    /// The report as JSON.
    Json,
}
