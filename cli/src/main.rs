//! The `airlock` command: the demo, and the platform's and merchant's verbs over
//! `airlock-host`. `clap` and `anyhow` live in this crate, never in the library.

mod args;
mod commands;
mod demo;
mod logging;
mod print;
mod print_dev;
mod print_health;
mod print_outbox;

use std::io::Write;
use std::process::ExitCode;

use airlock_host::text::terminal_safe;
use clap::Parser;

use print::Quiet;

/// Parse arguments, run, print; errors go to stderr (or stdout as JSON) with exit code 1,
/// made terminal-safe (an error may quote a refused manifest). A closed stdout ends the
/// command quietly: its work is done, and nobody is reading.
fn main() -> ExitCode {
    let cli = args::Cli::parse();
    logging::init(cli.global.log_format);
    let json = cli.global.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "error: cannot start the async runtime: {e}"
            );
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(commands::run(cli));
    // Connections and worker threads end here, before the exit code is decided.
    drop(runtime);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => match err.downcast_ref::<Quiet>() {
            Some(Quiet::ClosedStdout) => ExitCode::SUCCESS,
            Some(Quiet::Failed) => ExitCode::FAILURE,
            None => {
                let message = terminal_safe(&format!("{err:#}"));
                // Nowhere left to say it if this fails too; the exit code still tells.
                let _ = if json {
                    print::line(&serde_json::json!({ "error": message }).to_string())
                } else {
                    writeln!(std::io::stderr(), "error: {message}").map_err(Into::into)
                };
                ExitCode::FAILURE
            }
        },
    }
}
