//! `policyc fmt`.

use super::{EXIT_ERROR, EXIT_NONCOMPLIANT, EXIT_OK};
use policyc_compiler::span::SourceMap;
use policyc_compiler::syntax::{parse, printer};
use std::path::PathBuf;

/// Rewrite policy files in the canonical format (comments are kept).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  policyc fmt policies/*.policy\n  policyc fmt --check policies/*.policy   # exit 1 if a file would change\n  policyc fmt - < corp.policy > corp.formatted.policy"
)]
pub(crate) struct Args {
    /// Do not write; list the files that are not formatted and exit 1 if there are any.
    #[arg(long)]
    check: bool,
    /// Policy files (`-`: standard input, formatted to standard output).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub(crate) fn run(args: Args) -> u8 {
    let mut code = EXIT_OK;
    for path in &args.files {
        let text = match super::input::read_text(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{e}");
                code = EXIT_ERROR;
                continue;
            }
        };
        let stdio = super::input::is_stdio(path);
        let mut sources = SourceMap::new();
        let id = sources.add(path.clone(), text.clone());
        let file = match parse(&text, id) {
            Ok(f) => f,
            Err(d) => {
                eprint!("{}", d.render_styled(&sources, super::style::color_stderr()));
                code = EXIT_ERROR;
                continue;
            }
        };
        let formatted = printer::format(&file, &text);
        if stdio && !args.check {
            // Standard input is formatted to standard output, changed or not.
            out!("{formatted}");
            continue;
        }
        if formatted == text {
            continue;
        }
        if args.check {
            outln!("{}: not formatted", path.display());
            if code == EXIT_OK {
                code = EXIT_NONCOMPLIANT;
            }
        } else if let Err(e) = std::fs::write(path, formatted) {
            eprintln!("error: cannot write `{}`: {e}", path.display());
            code = EXIT_ERROR;
        }
    }
    code
}
