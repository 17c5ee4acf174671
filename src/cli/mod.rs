//! The `policyc` command line: clap definitions and one module per command. This is the only
//! place that prints for humans.

#[macro_use]
mod out;

mod agent;
mod bench;
mod check;
mod compile;
mod diff;
mod doctor;
mod double;
mod explain;
mod fmt;
mod generate;
mod hook;
mod import;
mod input;
mod keygen;
mod policy_arg;
mod sign;
mod store;
mod test;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// What `--version` says: the release and the artifact formats this build reads (`policyc
/// doctor` reads it from the binary Samba runs).
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (artifact formats 5 to 8)");

/// Exit code: every password complies / the command succeeded.
pub const EXIT_OK: u8 = 0;
/// Exit code: at least one password does not comply (or `fmt --check` found changes).
pub const EXIT_NONCOMPLIANT: u8 = 1;
/// Exit code: usage, policy, artifact or input error.
pub const EXIT_ERROR: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "policyc",
    version = VERSION,
    about = "Password-policy compiler: compile a policy, check passwords against it",
    long_about = "policyc compiles password policies written in a small language into a fast, \
self-contained validator, and checks passwords against them.\n\n\
Passwords are read from standard input or files, never from the command line.",
    after_help = "Example:\n  policyc compile policies/office365.policy -o office365.policyc\n  \
printf '%s\\n' 'Tr0ub4dor&3' | policyc check office365.policyc"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Compile(compile::Args),
    Check(check::Args),
    Explain(explain::Args),
    Fmt(fmt::Args),
    Test(test::Args),
    Generate(generate::Args),
    Diff(diff::Args),
    Bench(bench::Args),
    Hook(hook::Args),
    Agent(agent::Args),
    CloudDouble(double::Args),
    Keygen(keygen::Args),
    Sign(sign::Args),
    Store(store::Args),
    Import(import::Args),
    Doctor(doctor::Args),
}

/// `n` and the noun, singular for one: "1 rule", "3 rules".
pub(crate) fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The exit code of a command that reports its errors as messages: the message goes to
/// standard error and the code is [`EXIT_ERROR`].
fn reported(result: Result<u8, String>) -> u8 {
    result.unwrap_or_else(|message| {
        eprintln!("{message}");
        EXIT_ERROR
    })
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let code = match cli.command {
        Command::Compile(a) => compile::run(a),
        Command::Import(a) => reported(import::run(a)),
        Command::Check(a) => check::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Fmt(a) => fmt::run(a),
        Command::Test(a) => test::run(a),
        Command::Generate(a) => reported(generate::run(a)),
        Command::Diff(a) => reported(diff::run(a)),
        Command::Bench(a) => reported(bench::run(a)),
        Command::Hook(a) => hook::run(a),
        Command::Agent(a) => reported(agent::run(a)),
        Command::CloudDouble(a) => double::run(a),
        Command::Keygen(a) => reported(keygen::run(a)),
        Command::Sign(a) => reported(sign::run(a)),
        Command::Store(a) => store::run(a),
        Command::Doctor(a) => reported(doctor::run(a)),
    };
    ExitCode::from(out::finish(code))
}

#[cfg(test)]
mod tests {
    /// `policyc doctor` reads the formats a binary reads from its `--version`.
    #[test]
    fn the_version_names_the_artifact_formats_this_build_reads() {
        let formats = format!(
            "(artifact formats {} to {})",
            crate::artifact::OLDEST_READABLE_VERSION,
            crate::artifact::FORMAT_VERSION
        );
        assert!(super::VERSION.ends_with(&formats), "{}", super::VERSION);
    }
}
