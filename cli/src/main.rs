//! The `airlock` command: the demo, and the platform's and merchant's verbs over
//! `airlock-host`. `clap` and `anyhow` live in this crate, never in the library.

mod args;
mod commands;
mod demo;
mod logging;
mod print;

use std::process::ExitCode;

use clap::Parser;

/// Parse arguments, run, print; errors go to stderr (or stdout as JSON) with exit code 1.
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
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if json {
                println!("{}", serde_json::json!({ "error": format!("{err:#}") }));
            } else {
                eprintln!("error: {err:#}");
            }
            ExitCode::FAILURE
        }
    }
}
