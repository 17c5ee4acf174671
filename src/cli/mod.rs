//! The `policyc` command line: clap definitions and one module per command. This is the only
//! place that prints for humans.

#[macro_use]
mod out;
mod style;

mod agent;
mod bench;
mod check;
mod compile;
mod diff;
mod doctor;
mod double;
mod explain;
mod export;
mod fmt;
mod generate;
mod help;
mod hook;
mod import;
mod input;
mod inspect;
mod keygen;
mod page;
mod policy_arg;
mod sign;
mod store;
mod test;

use clap::{Parser, Subcommand};
use policyc_runtime::runtime::words::Versioned;
use std::process::ExitCode;

/// What `--version` says: the release and the artifact formats this build reads (`policyc
/// doctor` reads it from the binary Samba runs).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (artifact formats 5 to 9, writes 9; features: compiler, agent, strength)"
);

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
    #[command(flatten)]
    global: style::Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Compile(compile::Args),
    Check(check::Args),
    Explain(explain::Args),
    Fmt(fmt::Args),
    Inspect(inspect::Args),
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
    Export(export::Args),
    Page(page::Args),
    Doctor(doctor::Args),
    Completions(CompletionsArgs),
    Man(ManArgs),
}

/// Print a shell completion script.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  policyc completions bash > /etc/bash_completion.d/policyc
  policyc completions zsh > \"${fpath[1]}/_policyc\"
  policyc completions fish > ~/.config/fish/completions/policyc.fish")]
struct CompletionsArgs {
    /// The shell.
    shell: clap_complete::Shell,
}

/// Write man pages: policyc(1) and one per command (policyc-compile(1), ...).
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  policyc man -o /usr/local/share/man/man1 && man policyc-check")]
struct ManArgs {
    /// The directory to write them to (created if missing) [default: print policyc(1) to
    /// standard output].
    #[arg(short, long, value_name = "DIR")]
    output: Option<std::path::PathBuf>,
}

/// Man pages from the clap definitions: policyc(1) on standard output, or every page into `dir`.
fn man(dir: Option<&std::path::Path>) -> Result<u8, String> {
    let command = command();
    let Some(dir) = dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command)
            .render(&mut page)
            .map_err(|e| format!("error: cannot render the man page: {e}"))?;
        std::io::Write::write_all(&mut out::Stdout, &page).map_err(|e| e.to_string())?;
        return Ok(EXIT_OK);
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("error: cannot create `{}`: {e}", dir.display()))?;
    clap_mangen::generate_to(command, dir)
        .map_err(|e| format!("error: cannot write the man pages to `{}`: {e}", dir.display()))?;
    style::note!("man pages written to {}", dir.display());
    Ok(EXIT_OK)
}

/// `--format text|json`, the one vocabulary of every command with a JSON form; `--json` says
/// the same.
#[derive(Debug, clap::Args)]
pub(crate) struct FormatArg {
    /// The output's format.
    #[arg(long, value_enum, default_value = "text")]
    format: TextOrJson,
    /// The same as `--format json`.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TextOrJson {
    Text,
    Json,
}

impl FormatArg {
    /// Whether JSON was asked for.
    pub(crate) fn json(&self) -> bool {
        self.json || self.format == TextOrJson::Json
    }
}

/// The version of every JSON document the command line writes, its first field (`"schema"`):
/// bumped when a field changes meaning or goes away; fields may be added within a version.
pub(crate) const JSON_SCHEMA: u32 = 1;

/// `body` (a struct or a map) as a versioned JSON document: `"schema"` first, then its fields,
/// as the C library and the browser module write theirs.
pub(crate) fn versioned<T: serde::Serialize>(body: &T) -> Versioned<'_, T> {
    Versioned { schema: JSON_SCHEMA, body }
}

/// Text for HTML or XML, in an element or a quoted attribute (`policyc page`, `policyc test
/// --format junit`).
pub(crate) fn escape_markup(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
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

/// The command line's definition, each page ending with its exit status.
fn command() -> clap::Command {
    help::with_exit_status(<Cli as clap::CommandFactory>::command())
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    use clap::FromArgMatches as _;
    let cli = match command().try_get_matches().and_then(|m| Cli::from_arg_matches(&m)) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    style::set(cli.global.clone());
    let code = match cli.command {
        Command::Compile(a) => compile::run(a),
        Command::Import(a) => reported(import::run(a)),
        Command::Export(a) => reported(export::run(a)),
        Command::Page(a) => reported(page::run(a)),
        Command::Check(a) => check::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Fmt(a) => fmt::run(a),
        Command::Inspect(a) => reported(inspect::run(a)),
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
        Command::Completions(a) => {
            let mut out = out::Stdout;
            clap_complete::generate(a.shell, &mut command(), "policyc", &mut out);
            EXIT_OK
        }
        Command::Man(a) => reported(man(a.output.as_deref())),
    };
    ExitCode::from(out::finish(code))
}

#[cfg(test)]
mod tests {
    /// `policyc doctor` reads the formats a binary reads from its `--version`.
    #[test]
    fn the_version_names_the_artifact_formats_this_build_reads() {
        let formats = format!(
            "(artifact formats {} to {},",
            policyc_runtime::artifact::OLDEST_READABLE_VERSION,
            policyc_runtime::artifact::FORMAT_VERSION
        );
        assert!(super::VERSION.contains(&formats), "{}", super::VERSION);
        let writes = format!("writes {};", policyc_runtime::artifact::FORMAT_VERSION);
        assert!(super::VERSION.contains(&writes), "{}", super::VERSION);
    }
}
