//! Logs on stderr through `tracing`: human-readable lines by default, one JSON object per line
//! with `--log-format json`. The level comes from `AIRLOCK_LOG` (`EnvFilter` syntax) and is
//! `warn` by default, so a user sees the command's own output and nothing else.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

use crate::args::LogFormat;

/// The environment variable holding the filter, e.g. `info` or `airlock_host=debug`.
const LEVEL_VAR: &str = "AIRLOCK_LOG";

/// Install the process-wide subscriber (once, before anything logs).
pub fn init(format: LogFormat) {
    let defaults = EnvFilter::builder().with_default_directive(LevelFilter::WARN.into());
    let spec = std::env::var(LEVEL_VAR).unwrap_or_default();
    // A typo in the filter must not silence warnings: fall back to the default and say so.
    let (filter, bad) = match defaults.parse(&spec) {
        Ok(filter) => (filter, None),
        Err(err) => (defaults.parse_lossy(""), Some(err)),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder.json().with_ansi(false).try_init(),
    };
    if installed.is_err() {
        // Only a second call can fail, and the first subscriber is then already in place.
        return;
    }
    if let Some(err) = bad {
        tracing::warn!("{LEVEL_VAR}=`{spec}` is not a valid filter ({err}); logging at `warn`");
    }
}
