//! How the command line speaks, decided once from the global flags: colour (`--color
//! auto|always|never`; `auto` honours NO_COLOR and colours only a terminal) and how much it says
//! on standard error (`-q`: errors, warnings and results only; `-v`: also the policy in use and
//! how long the steps took). Results (standard output) and exit codes never change with them.

use std::io::IsTerminal as _;
use std::sync::OnceLock;

/// `--color`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ColorChoice {
    /// On a terminal, unless the NO_COLOR environment variable is set (and not empty).
    #[default]
    Auto,
    /// Always, even into a pipe or a file, and whatever NO_COLOR says.
    Always,
    /// Never.
    Never,
}

/// The flags every command takes.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Global {
    /// Colour diagnostics and `explain`: auto (a terminal, unless NO_COLOR is set), always,
    /// never.
    #[arg(long, value_enum, default_value = "auto", global = true)]
    color: ColorChoice,
    /// Quiet: no progress or summary lines on standard error (errors, warnings and results
    /// stay).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Verbose: also say which policy is in use, where it came from, and how long steps took.
    #[arg(short, long, global = true)]
    verbose: bool,
}

static GLOBAL: OnceLock<Global> = OnceLock::new();

/// Records the flags for the rest of the run.
pub(crate) fn set(global: Global) {
    let _ = GLOBAL.set(global);
}

fn global() -> Global {
    GLOBAL.get().cloned().unwrap_or(Global {
        color: ColorChoice::Auto,
        quiet: false,
        verbose: false,
    })
}

/// Whether to colour what goes to a stream that `is_terminal` or not.
fn color(is_terminal: bool) -> bool {
    match global().color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    }
}

/// Whether to colour standard error (diagnostics).
pub(crate) fn color_stderr() -> bool {
    color(std::io::stderr().is_terminal())
}

/// Whether to colour standard output (`explain`).
pub(crate) fn color_stdout() -> bool {
    color(std::io::stdout().is_terminal())
}

/// `-q`.
pub(crate) fn quiet() -> bool {
    global().quiet
}

/// `-v`.
pub(crate) fn verbose() -> bool {
    global().verbose
}

/// `text` in the SGR colour `code` (`"1;31"`: bold red) when `on`.
pub(crate) fn paint(on: bool, code: &str, text: &str) -> String {
    if on { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
}

/// A compile error's diagnostics for standard error, coloured when it is a terminal.
pub(crate) fn compile_error(e: &policyc_compiler::CompileError) -> String {
    e.render(color_stderr())
}

/// A progress or summary line on standard error, unless `-q`.
macro_rules! note {
    ($($arg:tt)*) => {
        if !$crate::cli::style::quiet() {
            eprintln!($($arg)*);
        }
    };
}

/// A line on standard error with `-v` only.
macro_rules! detail {
    ($($arg:tt)*) => {
        if $crate::cli::style::verbose() {
            eprintln!($($arg)*);
        }
    };
}

pub(crate) use {detail, note};
