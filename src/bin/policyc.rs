//! The `policyc` command.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    policyc_cli::cli::main()
}
