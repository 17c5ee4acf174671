//! `policyc check`.

use super::input::{self, Entry, Problem};
use super::{EXIT_ERROR, EXIT_NONCOMPLIANT, EXIT_OK, policy_arg};
use policyc_runtime::runtime::Verdict;
use policyc_runtime::{Context, Validator};
use serde::Serialize;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;

/// Check passwords, one per line on standard input, against a policy or artifact.
///
/// A password never goes on the command line. Output never contains a password.
/// Exit codes: 0 all compliant, 1 at least one noncompliant, 2 usage, policy, artifact or input error.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  printf '%s\\n' 'Tr0ub4dor&3' | policyc check policies/office365.policy\n  \
policyc check office365.policyc --user sAMAccountName=jdoe --format json < passwords.txt\n  \
policyc check ad.policyc --input resets.jsonl   # {\"password\": \"...\", \"user\": {\"sAMAccountName\": \"jdoe\"}}"
)]
pub(crate) struct Args {
    #[command(flatten)]
    target: policy_arg::Target,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Read JSON lines ({"password": ..., "user": {...}}) from this file (`-`: standard input)
    /// instead of plain lines.
    #[arg(long, value_name = "FILE.jsonl")]
    input: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Serialize)]
struct JsonVerdict<'a> {
    compliant: bool,
    violations: Vec<JsonViolation<'a>>,
}

#[derive(Serialize)]
struct JsonViolation<'a> {
    rule: &'a str,
    message: &'a str,
    severity: &'a str,
}

#[derive(Serialize)]
struct JsonError<'a> {
    compliant: bool,
    error: &'a str,
}

pub(crate) fn run(args: Args) -> u8 {
    let (validator, base) = match args.target.load() {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_ERROR;
        }
    };
    let reader: Box<dyn BufRead> = match &args.input {
        Some(path) if input::is_stdio(path) => Box::new(std::io::stdin().lock()),
        Some(path) => match std::fs::File::open(path) {
            Ok(f) => Box::new(BufReader::new(f)),
            Err(e) => {
                eprintln!("error: cannot read `{}`: {e}", path.display());
                return EXIT_ERROR;
            }
        },
        None => match input::from_terminal() {
            Ok(Some(typed)) => {
                input::warn_trailing_space(&typed);
                Box::new(std::io::Cursor::new(typed))
            }
            Ok(None) => Box::new(std::io::stdin().lock()),
            Err(e) => {
                eprintln!("{e}");
                return EXIT_ERROR;
            }
        },
    };
    let jsonl = args.input.is_some();
    let mut run =
        Run { validator: &validator, format: args.format, out: super::out::Stdout, code: EXIT_OK };
    run.all(reader, jsonl, &base)
}

struct Run<'v, W: Write> {
    validator: &'v Validator,
    format: Format,
    out: W,
    code: u8,
}

impl<W: Write> Run<'_, W> {
    fn all(&mut self, mut reader: impl BufRead, jsonl: bool, base: &Context) -> u8 {
        let mut n = 0usize;
        loop {
            let line = match input::read_line(&mut reader) {
                Ok(Some(l)) => l,
                Ok(None) => break,
                Err(e) => {
                    eprintln!("error: reading input: {e}");
                    return EXIT_ERROR;
                }
            };
            n += 1;
            let entry = match line {
                Err(p) => Entry { password: Err(p), ctx: base.clone() },
                Ok(bytes) if jsonl => {
                    if bytes.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    input::json_entry(&bytes, base)
                }
                Ok(bytes) => Entry { password: input::utf8(bytes), ctx: base.clone() },
            };
            // Output that cannot be written is dropped (`out::finish` says so); the verdicts,
            // and the exit code, still cover every line.
            let _ = self.one(n, entry);
        }
        self.code
    }

    fn one(&mut self, n: usize, entry: Entry) -> std::io::Result<()> {
        match entry.password {
            Ok(pw) => {
                let verdict = self.validator.check(&pw, &entry.ctx);
                self.verdict(n, &verdict)
            }
            Err(Problem::TooLong) => self.verdict(n, &Verdict::oversized()),
            Err(Problem::Invalid(msg)) => {
                self.code = EXIT_ERROR;
                eprintln!("error: input line {n}: {msg}");
                match self.format {
                    Format::Json => {
                        let e = JsonError { compliant: false, error: &msg };
                        writeln!(self.out, "{}", serde_json::to_string(&e).unwrap_or_default())
                    }
                    Format::Text => writeln!(self.out, "line {n}: error: {msg}"),
                }
            }
        }
    }

    fn verdict(&mut self, n: usize, verdict: &Verdict<'_>) -> std::io::Result<()> {
        if !verdict.is_compliant() && self.code == EXIT_OK {
            self.code = EXIT_NONCOMPLIANT;
        }
        // A rule that could not be evaluated is an error, not a verdict: said once, exit 2.
        if !verdict.unavailable().is_empty() {
            if self.code != EXIT_ERROR {
                eprintln!(
                    "error: line {n}: could not be checked: {} (this and every later line that needs it is refused)",
                    verdict.unavailable_reasons()
                );
            }
            self.code = EXIT_ERROR;
        }
        match self.format {
            Format::Json => {
                let j = JsonVerdict {
                    compliant: verdict.is_compliant(),
                    violations: verdict
                        .violations()
                        .iter()
                        .map(|v| JsonViolation {
                            rule: v.rule,
                            message: v.message,
                            severity: v.severity.as_str(),
                        })
                        .collect(),
                };
                writeln!(self.out, "{}", serde_json::to_string(&j).unwrap_or_default())
            }
            Format::Text => {
                let status = if verdict.is_compliant() { "compliant" } else { "noncompliant" };
                write!(self.out, "line {n}: {status}")?;
                for v in verdict.violations() {
                    let audit = if v.severity == policyc_runtime::ir::Severity::Audit {
                        " (audit)"
                    } else {
                        ""
                    };
                    write!(self.out, "\n  - {}{audit}: {}", v.rule, v.message)?;
                }
                writeln!(self.out)
            }
        }
    }
}
