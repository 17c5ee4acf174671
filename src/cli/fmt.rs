//! `policyc fmt`.

use super::{EXIT_ERROR, EXIT_NONCOMPLIANT, EXIT_OK};
use crate::syntax::span::SourceMap;
use crate::syntax::{parse, printer};
use std::path::PathBuf;

/// Rewrite policy files in the canonical format (comments are kept).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  policyc fmt policies/*.policy\n  policyc fmt --check policies/*.policy   # exit 1 if a file would change"
)]
pub(crate) struct Args {
    /// Do not write; list the files that are not formatted and exit 1 if there are any.
    #[arg(long)]
    check: bool,
    /// Policy files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub(crate) fn run(args: Args) -> u8 {
    let mut code = EXIT_OK;
    for path in &args.files {
        let text = match std::fs::read(path).map(String::from_utf8) {
            Ok(Ok(t)) => t,
            Ok(Err(_)) => {
                eprintln!("error: `{}` is not valid UTF-8", path.display());
                code = EXIT_ERROR;
                continue;
            }
            Err(e) => {
                eprintln!("error: cannot read `{}`: {e}", path.display());
                code = EXIT_ERROR;
                continue;
            }
        };
        let mut sources = SourceMap::new();
        let id = sources.add(path.clone(), text.clone());
        let file = match parse(&text, id) {
            Ok(f) => f,
            Err(d) => {
                eprint!("{}", d.render(&sources));
                code = EXIT_ERROR;
                continue;
            }
        };
        let formatted = printer::format(&file, &text);
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
