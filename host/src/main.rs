//! The `airlock` command: the demo, and the platform's and merchant's verbs.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
