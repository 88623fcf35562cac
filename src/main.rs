//! The `agent-vault` command: parses arguments, runs the command, maps errors to exit codes.
#![forbid(unsafe_code)]

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
