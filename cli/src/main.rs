//! The `airlock` command: the demo, and the platform's and merchant's verbs.

mod commands;
mod demo;
mod print;

fn main() -> std::process::ExitCode {
    commands::main()
}
