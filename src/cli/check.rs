//! `policyc check`.

use super::input::{self, Entry, EntryId, Problem};
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
    #[command(flatten)]
    format: super::FormatArg,
    /// Read JSON lines ({"password": ..., "user": {...}, "id": ...}) from this file (`-`:
    /// standard input) instead of plain lines; each result gives back its entry's `id`.
    #[arg(long, value_name = "FILE.jsonl")]
    input: Option<PathBuf>,
}

#[derive(Serialize)]
struct JsonVerdict<'a, 'v> {
    schema: u32,
    /// The input's line number, from 1.
    line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a EntryId>,
    /// The runtime's own JSON form of a verdict.
    #[serde(flatten)]
    verdict: &'a Verdict<'v>,
}

#[derive(Serialize)]
struct JsonError<'a> {
    schema: u32,
    line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a EntryId>,
    compliant: bool,
    error: &'a str,
}

pub(crate) fn run(args: Args) -> u8 {
    if args.target.reads_stdin() && args.input.as_deref().is_none_or(input::is_stdio) {
        eprintln!(
            "error: standard input cannot hold both the policy (`-`) and the passwords: give the passwords with --input FILE"
        );
        return EXIT_ERROR;
    }
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
    let mut run = Run {
        validator: &validator,
        json: args.format.json(),
        out: super::out::Stdout,
        code: EXIT_OK,
    };
    run.all(reader, jsonl, &base)
}

struct Run<'v, W: Write> {
    validator: &'v Validator,
    json: bool,
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
                Err(p) => Entry { password: Err(p), ctx: base.clone(), id: None },
                // A blank line is reported, never skipped: the results keep the input's lines.
                Ok(bytes) if jsonl && bytes.iter().all(u8::is_ascii_whitespace) => Entry {
                    password: Err(Problem::Invalid("a blank line, not a JSON entry".into())),
                    ctx: base.clone(),
                    id: None,
                },
                Ok(bytes) if jsonl => input::json_entry(&bytes, base),
                Ok(bytes) => Entry { password: input::utf8(bytes), ctx: base.clone(), id: None },
            };
            // Output that cannot be written is dropped (`out::finish` says so); the verdicts,
            // and the exit code, still cover every line.
            let _ = self.one(n, entry);
        }
        self.code
    }

    fn one(&mut self, n: usize, entry: Entry) -> std::io::Result<()> {
        let id = entry.id.as_ref();
        match entry.password {
            Ok(pw) => {
                let verdict = self.validator.check(&pw, &entry.ctx);
                self.verdict(n, id, &verdict)
            }
            Err(Problem::TooLong) => self.verdict(n, id, &Verdict::oversized()),
            Err(Problem::Invalid(msg)) => {
                self.code = EXIT_ERROR;
                eprintln!("error: input line {n}: {msg}");
                if self.json {
                    let e = JsonError {
                        schema: super::JSON_SCHEMA,
                        line: n,
                        id,
                        compliant: false,
                        error: &msg,
                    };
                    writeln!(self.out, "{}", serde_json::to_string(&e).unwrap_or_default())
                } else {
                    writeln!(self.out, "line {n}{}: error: {msg}", said_id(id))
                }
            }
        }
    }

    fn verdict(
        &mut self,
        n: usize,
        id: Option<&EntryId>,
        verdict: &Verdict<'_>,
    ) -> std::io::Result<()> {
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
        match self.json {
            true => {
                let j = JsonVerdict { schema: super::JSON_SCHEMA, line: n, id, verdict };
                writeln!(self.out, "{}", serde_json::to_string(&j).unwrap_or_default())
            }
            false => {
                let status = if verdict.is_compliant() { "compliant" } else { "noncompliant" };
                write!(self.out, "line {n}{}: {status}", said_id(id))?;
                for v in verdict.violations() {
                    let audit = if v.severity() == policyc_runtime::ir::Severity::Audit {
                        " (audit)"
                    } else {
                        ""
                    };
                    write!(self.out, "\n  - {}{audit}: {}", v.rule(), v.message())?;
                }
                writeln!(self.out)
            }
        }
    }
}

/// ` (id r-1)` after a line number, when the entry has an id.
fn said_id(id: Option<&EntryId>) -> String {
    match id {
        Some(EntryId::Text(t)) => format!(" (id {})", policyc_gate::files::log_line(t)),
        Some(EntryId::Number(n)) => format!(" (id {n})"),
        None => String::new(),
    }
}
