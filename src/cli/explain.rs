//! `policyc explain`: every rule, pass or fail, why, and how to fix it, in plain words.

use super::{EXIT_ERROR, EXIT_NONCOMPLIANT, EXIT_OK, input, policy_arg};
use policyc_runtime::ir::Severity;
use policyc_runtime::runtime::words::{json, why};
use policyc_runtime::runtime::{Explanation, Outcome};
use std::fmt::Write as _;

/// Explain, rule by rule, why one password (read from standard input) passes or fails.
///
/// The report names rules, counts and character positions, never the password itself.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  printf '%s' 'Summer2024' | policyc explain policies/ad-default.policy --user sAMAccountName=jdoe\n  printf '%s' 'Summer2024' | policyc explain office365.policyc --format json"
)]
pub(crate) struct Args {
    #[command(flatten)]
    target: policy_arg::Target,
    #[command(flatten)]
    format: super::FormatArg,
}

pub(crate) fn run(args: Args) -> u8 {
    if args.target.reads_stdin() {
        eprintln!(
            "error: `explain` reads the password from standard input: give the policy as a file, not `-`"
        );
        return EXIT_ERROR;
    }
    let (validator, ctx) = match args.target.load() {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_ERROR;
        }
    };
    let typed = match input::from_terminal() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_ERROR;
        }
    };
    let mut stdin = std::io::stdin().lock();
    let at_terminal = typed.is_some();
    let read = match typed {
        Some(bytes) => Ok(Some(Ok(bytes))),
        None => input::read_line(&mut stdin),
    };
    let line = match read {
        Ok(Some(Ok(bytes))) => bytes,
        Ok(Some(Err(_))) => {
            eprintln!("error: the password is longer than {} bytes", input::MAX_LINE_BYTES);
            return EXIT_ERROR;
        }
        Ok(None) => {
            eprintln!("error: no password on standard input");
            return EXIT_ERROR;
        }
        Err(e) => {
            eprintln!("error: reading standard input: {e}");
            return EXIT_ERROR;
        }
    };
    let password = match input::utf8(line) {
        Ok(p) => p,
        Err(input::Problem::Invalid(m)) => {
            eprintln!("error: the password is {m}");
            return EXIT_ERROR;
        }
        Err(input::Problem::TooLong) => return EXIT_ERROR,
    };
    input::warn_trailing_space(password.as_bytes());
    // (At a terminal, one password was asked for: nothing more is read.)
    if !at_terminal && matches!(input::read_line(&mut stdin), Ok(Some(_))) {
        eprintln!(
            "note: explain reads one password: the first line was used, the rest of standard input ignored (`policyc check` takes one per line)"
        );
    }
    let explanation = validator.explain(&password, &ctx);
    let program = validator.program();
    if args.format.json() {
        let json = json(&program.name, &explanation);
        outln!("{}", serde_json::to_string_pretty(&super::versioned(&json)).unwrap_or_default());
    } else {
        let color = super::style::color_stdout();
        out!("{}", render(&program.name, &program.description, &explanation, color));
    }
    if explanation.is_compliant() { EXIT_OK } else { EXIT_NONCOMPLIANT }
}

/// The report, as printed; `color` paints the verdict and each rule's status (red refused,
/// green passed, yellow audit, dim not applicable).
pub(crate) fn render(name: &str, description: &str, e: &Explanation<'_>, color: bool) -> String {
    use super::style::paint;
    let mut out = String::new();
    let _ = write!(out, "policy {name}");
    if !description.is_empty() {
        let _ = write!(out, " ({description})");
    }
    out.push('\n');
    if let Some(limit) = e.refused_input {
        let _ = writeln!(
            out,
            "result: {}: the password is longer than {limit} bytes and was not checked.",
            paint(color, "1;31", "NONCOMPLIANT")
        );
        return out;
    }
    if e.is_compliant() {
        let _ = writeln!(
            out,
            "result: {}: the password can be set.",
            paint(color, "1;32", "COMPLIANT")
        );
    } else {
        let verdict = paint(color, "1;31", "NONCOMPLIANT");
        let _ = writeln!(out, "result: {verdict}: the password would be refused.");
    }
    let width = e.rules.iter().map(|r| r.rule.id.as_str().len()).max().unwrap_or(0);
    for r in &e.rules {
        let status = match (r.outcome, r.rule.severity) {
            (Outcome::Passed, _) => paint(color, "32", "PASS "),
            (Outcome::Failed, Severity::Enforce) => paint(color, "1;31", "FAIL "),
            (Outcome::Failed, Severity::Audit) => paint(color, "33", "AUDIT"),
            (Outcome::NotApplicable, _) => paint(color, "2", "n/a  "),
        };
        let _ = writeln!(out, "\n  {status}  {:width$}  {}", r.rule.id.as_str(), r.rule.message);
        let why = why(r);
        for line in why.lines() {
            let _ = writeln!(out, "  {:5}  {:width$}  {line}", "", "");
        }
        if r.outcome == Outcome::Failed && r.rule.severity == Severity::Audit {
            let _ = writeln!(
                out,
                "  {:5}  {:width$}  (audit rule: reported only, the password is not refused for it)",
                "", ""
            );
        }
    }
    out
}
